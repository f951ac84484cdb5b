import { useState } from "preact/hooks";
import { ApiError, signIn, signUp } from "../api";
import { BASE, onLink } from "../router";
import { ErrorNote, fieldError } from "../ui";

export function AuthPage({ mode }: { mode: "signin" | "signup" }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signup) await signUp(email, password, name);
      else await signIn(email, password);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, "network", "The server cannot be reached."));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="page auth">
      <form class="card" onSubmit={submit} aria-labelledby="auth-title" noValidate>
        <h1 id="auth-title" tabIndex={-1}>
          {signup ? "Create your account" : "Sign in"}
        </h1>
        <p class="muted">{signup ? "Describe a website; watch it being built." : "Welcome back to your studio."}</p>
        {signup && (
          <label>
            Name
            <input value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input
            type="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            autoComplete="email"
            aria-invalid={Boolean(fieldError(error, "email"))}
          />
          {fieldError(error, "email") && <span class="field-error">{fieldError(error, "email")}</span>}
        </label>
        <label>
          Password
          <input
            type="password"
            required
            minLength={signup ? 10 : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            autoComplete={signup ? "new-password" : "current-password"}
            aria-invalid={Boolean(fieldError(error, "password"))}
          />
          {fieldError(error, "password") && <span class="field-error">{fieldError(error, "password")}</span>}
        </label>
        <ErrorNote error={error} />
        {!signup && (
          <p class="small">
            <a href={`${BASE}/forgot-password`} onClick={(e) => onLink(e, "/forgot-password")}>
              Forgot your password?
            </a>
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Please wait…" : signup ? "Create account" : "Sign in"}
        </button>
        <p class="muted small">
          {signup ? "Already have an account? " : "New here? "}
          <a
            href={`${BASE}/${signup ? "signin" : "signup"}`}
            onClick={(e) => onLink(e, signup ? "/signin" : "/signup")}
          >
            {signup ? "Sign in" : "Create an account"}
          </a>
        </p>
      </form>
    </main>
  );
}
