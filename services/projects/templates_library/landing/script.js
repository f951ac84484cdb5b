// Thank the visitor without leaving the page: this starter has no server to post to.
const form = document.getElementById("signup-form");
const message = document.getElementById("signup-message");

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const email = new FormData(form).get("email");
  message.textContent = `Thanks! We will write to ${email} soon.`;
  form.reset();
});
