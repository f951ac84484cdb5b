// The API reference: one OpenAPI document per service, rendered by Redoc from local files.
(function () {
  "use strict";
  var nav = document.getElementById("services");
  var target = document.getElementById("reference");

  function show(service) {
    Array.prototype.forEach.call(nav.children, function (link) {
      link.classList.toggle("current", link.dataset.service === service);
    });
    if (window.Redoc) {
      window.Redoc.init("/docs/" + service + ".yaml", { hideDownloadButton: false }, target);
    } else {
      target.innerHTML = '<p class="loading">The reference viewer is missing; the raw document is at ' +
        '<a href="/docs/' + service + '.yaml">/docs/' + service + '.yaml</a>.</p>';
    }
  }

  fetch("/docs/services.json")
    .then(function (response) { return response.json(); })
    .then(function (services) {
      services.forEach(function (service) {
        var link = document.createElement("a");
        link.href = "#" + service;
        link.textContent = service;
        link.dataset.service = service;
        link.addEventListener("click", function () { show(service); });
        nav.appendChild(link);
      });
      var wanted = window.location.hash.slice(1);
      show(services.indexOf(wanted) >= 0 ? wanted : services[0]);
    });
})();
