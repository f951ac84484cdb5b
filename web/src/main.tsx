import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { session, signOut } from "./api";
import { AccountPage, ForgotPasswordPage, ResetPasswordPage } from "./pages/AccountPage";
import { AuthPage } from "./pages/AuthPage";
import { CreditsPage } from "./pages/CreditsPage";
import { KeysPage } from "./pages/KeysPage";
import { ProjectPage } from "./pages/ProjectPage";
import { ProjectsPage } from "./pages/ProjectsPage";
import { BASE, navigate, onLink, useRoute } from "./router";
import "./styles.css";

function useSignedIn(): boolean {
  const [signedIn, setSignedIn] = useState(session.signedIn);
  useEffect(() => session.subscribe(() => setSignedIn(session.signedIn)), []);
  return signedIn;
}

function App() {
  const route = useRoute();
  const signedIn = useSignedIn();
  const publicRoute = route === "/signin" || route === "/signup";
  // Reached from an email or the sign-in form, signed in or not.
  const passwordRoute = route === "/forgot-password" || route === "/reset-password";

  useEffect(() => {
    if (!signedIn && !publicRoute && !passwordRoute) navigate("/signin", true);
    if (signedIn && publicRoute) navigate("/", true);
  }, [signedIn, publicRoute, passwordRoute]);

  useEffect(() => {
    // Move focus to the new screen's heading, so keyboard and screen-reader users follow along.
    requestAnimationFrame(() => document.querySelector<HTMLElement>("main h1")?.focus());
  }, [route]);

  const project = route.match(/^\/projects\/([^/]+)\/?$/);
  let screen;
  if (route === "/forgot-password") screen = <ForgotPasswordPage />;
  else if (route === "/reset-password") screen = <ResetPasswordPage />;
  else if (!signedIn || publicRoute) screen = <AuthPage mode={route === "/signup" ? "signup" : "signin"} />;
  else if (project) screen = <ProjectPage projectId={decodeURIComponent(project[1])} />;
  else if (route === "/" || route === "/projects") screen = <ProjectsPage />;
  else if (route === "/credits") screen = <CreditsPage />;
  else if (route === "/keys") screen = <KeysPage />;
  else if (route === "/account") screen = <AccountPage />;
  else
    screen = (
      <main class="page narrow">
        <h1 tabIndex={-1}>Page not found</h1>
        <p>
          <a href={`${BASE}/`} onClick={(e) => onLink(e, "/")}>
            Back to your projects
          </a>
        </p>
      </main>
    );

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={`${BASE}/`} onClick={(e) => onLink(e, "/")}>
          <img src={`${BASE}/favicon.svg`} alt="" width="24" height="24" />
          Imagi Oasis <span>Studio</span>
        </a>
        {signedIn && (
          <nav aria-label="Account">
            <a href={`${BASE}/`} onClick={(e) => onLink(e, "/")}>
              Projects
            </a>
            <a href={`${BASE}/credits`} onClick={(e) => onLink(e, "/credits")}>
              Credits
            </a>
            <a href={`${BASE}/keys`} onClick={(e) => onLink(e, "/keys")}>
              API keys
            </a>
            <a href={`${BASE}/account`} onClick={(e) => onLink(e, "/account")}>
              Account
            </a>
            <button type="button" class="link" onClick={() => void signOut().then(() => navigate("/signin"))}>
              Sign out
            </button>
          </nav>
        )}
      </header>
      <div id="main">{screen}</div>
    </>
  );
}

render(<App />, document.getElementById("app")!);
