/** A tiny history router for the studio's few screens, all under the /studio/ base. */

import { useEffect, useState } from "preact/hooks";

export const BASE = import.meta.env.BASE_URL.replace(/\/$/, "");

function current(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return path || "/";
}

export function navigate(to: string, replace = false) {
  const url = BASE + to;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event("oasis:navigate"));
}

export function useRoute(): string {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    window.addEventListener("popstate", update);
    window.addEventListener("oasis:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("oasis:navigate", update);
    };
  }, []);
  return route;
}

/** An in-app link: a real <a href> (so it opens in a new tab too) that navigates without a reload. */
export function onLink(event: MouseEvent, to: string) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(to);
}
