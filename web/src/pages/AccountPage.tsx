import { useState } from "preact/hooks";
import { api, ApiError, changePassword } from "../api";
import { BASE, onLink } from "../router";
import { ErrorNote, fieldError } from "../ui";

/** Your account: change the password (which also signs out every other session). */
export function AccountPage() {
  return (
    <main class="page narrow">
      <h1 tabIndex={-1}>Account</h1>
      <ChangePassword />
    </main>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await changePassword(current, next);
      setCurrent("");
      setNext("");
      setDone(true);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, "network", "The server cannot be reached."));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="password-title" noValidate>
      <h2 id="password-title">Change your password</h2>
      <p class="muted small">Every other device and tab signed in to your account is signed out.</p>
      <PasswordField
        label="Current password"
        value={current}
        onInput={setCurrent}
        error={error}
        field="current_password"
        auto="current-password"
      />
      <PasswordField
        label="New password"
        value={next}
        onInput={setNext}
        error={error}
        field="new_password"
        auto="new-password"
      />
      {error && !fieldError(error, "current_password") && !fieldError(error, "new_password") && (
        <ErrorNote error={error} />
      )}
      {done && (
        <p class="saved" role="status">
          Password changed. Other sessions are signed out; this one stays signed in.
        </p>
      )}
      <button class="primary" type="submit" disabled={busy || !current || !next}>
        {busy ? "Please wait…" : "Change password"}
      </button>
    </form>
  );
}

/** A labelled password field; the API's complaint about it is described by, not part of, its label. */
function PasswordField({
  label,
  value,
  onInput,
  error,
  field,
  auto,
}: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  error: ApiError | null;
  field: string;
  auto: string;
}) {
  const problem = fieldError(error, field);
  const id = `field-${field}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="password"
        required
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
        autoComplete={auto}
        aria-invalid={Boolean(problem)}
        aria-describedby={problem ? `${id}-error` : undefined}
      />
      {problem && (
        <span class="field-error" id={`${id}-error`}>
          {problem}
        </span>
      )}
    </div>
  );
}

/** Ask for a reset link; the answer is the same whether or not the account exists. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ detail: string }>("auth/password/reset/", {
        method: "POST",
        json: { email },
        auth: false,
      });
      setSent(answer.detail);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, "network", "The server cannot be reached."));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="page auth">
      <form class="card" onSubmit={submit} aria-labelledby="forgot-title" noValidate>
        <h1 id="forgot-title" tabIndex={-1}>
          Reset your password
        </h1>
        <p class="muted">We email you a link to choose a new one.</p>
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
        {error && !fieldError(error, "email") && <ErrorNote error={error} />}
        {sent && (
          <p class="saved" role="status">
            {sent}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy || !email}>
          {busy ? "Please wait…" : "Email me a link"}
        </button>
        <p class="muted small">
          <a href={`${BASE}/signin`} onClick={(e) => onLink(e, "/signin")}>
            Back to sign in
          </a>
        </p>
      </form>
    </main>
  );
}

/** The emailed link lands here (`?uid=…&token=…`): choose the new password; the link works once. */
export function ResetPasswordPage() {
  const query = new URLSearchParams(location.search);
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("auth/password/reset/confirm/", {
        method: "POST",
        json: { uid: query.get("uid") ?? "", token: query.get("token") ?? "", new_password: password },
        auth: false,
      });
      setDone(true);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, "network", "The server cannot be reached."));
    } finally {
      setBusy(false);
    }
  };

  const linkProblem =
    error?.code === "invalid_reset_token" || Boolean(fieldError(error, "token") || fieldError(error, "uid"));
  return (
    <main class="page auth">
      <form class="card" onSubmit={submit} aria-labelledby="reset-title" noValidate>
        <h1 id="reset-title" tabIndex={-1}>
          Choose a new password
        </h1>
        {done ? (
          <p class="saved" role="status">
            Your password is changed.{" "}
            <a href={`${BASE}/signin`} onClick={(e) => onLink(e, "/signin")}>
              Sign in with it
            </a>
            .
          </p>
        ) : (
          <>
            <PasswordField
              label="New password"
              value={password}
              onInput={setPassword}
              error={error}
              field="new_password"
              auto="new-password"
            />
            {linkProblem && (
              <p class="error" role="alert">
                This link is invalid or was already used.{" "}
                <a href={`${BASE}/forgot-password`} onClick={(e) => onLink(e, "/forgot-password")}>
                  Ask for a new one
                </a>
                .
              </p>
            )}
            {error && !linkProblem && !fieldError(error, "new_password") && <ErrorNote error={error} />}
            <button class="primary" type="submit" disabled={busy || !password}>
              {busy ? "Please wait…" : "Set the new password"}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
