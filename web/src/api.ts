/** The API client: the session (tokens), authenticated requests, silent refresh, typed errors. */

export const API = "/api/v1";
const REFRESH_KEY = "oasis.refresh";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: Record<string, unknown> = {},
    /** Seconds the server asked to wait before trying again (`Retry-After`), when it said. */
    public retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** Refusals that change nothing and say when to come back: the builder is starting all it can. */
const BUSY_CODES = new Set(["builder_busy"]);
// How long a busy start is tried again before the studio gives up and shows the refusal.
const BUSY_GIVE_UP_MS = 5 * 60_000;

/**
 * Runs `attempt` until it is not refused as busy: after each such refusal it waits what the server
 * asked (`Retry-After`) plus up to as much again at random, so a crowd refused at once does not come
 * back at once; `onWait` hears when the next try is due (null once trying is over). Stops when
 * `signal` aborts (throwing its reason), and after BUSY_GIVE_UP_MS, when the last refusal is thrown.
 */
export async function whenNotBusy<T>(
  attempt: () => Promise<T>,
  onWait: (nextTryAt: number | null) => void,
  signal: AbortSignal,
): Promise<T> {
  const giveUpAt = Date.now() + BUSY_GIVE_UP_MS;
  try {
    for (;;) {
      try {
        return await attempt();
      } catch (caught) {
        if (!(caught instanceof ApiError) || !BUSY_CODES.has(caught.code) || caught.retryAfter === null) throw caught;
        const waitMs = caught.retryAfter * 1000 * (1 + Math.random());
        if (Date.now() + waitMs > giveUpAt) throw caught;
        if (signal.aborted) throw signal.reason;
        onWait(Date.now() + waitMs);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, waitMs);
          signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
        });
      }
    }
  } finally {
    onWait(null);
  }
}

type TokenPair = { access: string; refresh: string; expires_in: number };

/**
 * The access token lives only in memory; the refresh token in localStorage, so a reload or a
 * new tab stays signed in (sessionStorage would sign every tab in separately). The CSP allows no
 * script but the studio's own, and the refresh token rotates on every use: reusing a stolen,
 * already-rotated one revokes its whole family.
 */
class Session {
  private access = "";
  private expiresAt = 0;
  private lifetime = 0;
  private refreshing: Promise<boolean> | null = null;
  private listeners = new Set<() => void>();

  constructor() {
    window.addEventListener("storage", (event) => {
      if (event.key === REFRESH_KEY && !event.newValue) this.clear();
    });
  }

  get signedIn(): boolean {
    return Boolean(this.access || localStorage.getItem(REFRESH_KEY));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify() {
    this.listeners.forEach((listener) => listener());
  }

  accept(pair: TokenPair) {
    this.access = pair.access;
    this.lifetime = pair.expires_in * 1000;
    this.expiresAt = Date.now() + this.lifetime;
    localStorage.setItem(REFRESH_KEY, pair.refresh);
    this.notify();
  }

  clear() {
    const had = this.signedIn;
    this.access = "";
    this.expiresAt = 0;
    localStorage.removeItem(REFRESH_KEY);
    if (had) this.notify();
  }

  /** Forget the access token only (as if it expired); the next request refreshes. */
  dropAccess() {
    this.access = "";
    this.expiresAt = 0;
  }

  refreshToken(): string | null {
    return localStorage.getItem(REFRESH_KEY);
  }

  private fresh(): boolean {
    const margin = Math.min(30_000, this.lifetime * 0.2);
    return Boolean(this.access) && this.expiresAt - Date.now() > margin;
  }

  /** A valid access token, refreshing first when it is missing or about to expire. */
  async token(): Promise<string | null> {
    if (this.fresh()) return this.access;
    if (!localStorage.getItem(REFRESH_KEY)) return this.access || null;
    return (await this.refresh()) ? this.access : null;
  }

  /** One refresh at a time, in this tab and (with Web Locks) across tabs. */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      const stale = this.access;
      const run = () => this.rotate(stale);
      const locked = (
        navigator.locks?.request ? navigator.locks.request("oasis.refresh", run) : run()
      ) as Promise<boolean>;
      this.refreshing = locked.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing!;
  }

  private async rotate(stale: string): Promise<boolean> {
    if (this.access && this.access !== stale && this.fresh()) return true;
    const refresh = localStorage.getItem(REFRESH_KEY);
    if (!refresh) return false;
    const response = await fetch(`${API}/auth/token/refresh/`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh }),
    });
    if (response.ok) {
      this.accept((await response.json()) as TokenPair);
      return true;
    }
    // Another tab may have rotated it meanwhile: then the stored one is new, and we try that once.
    if (localStorage.getItem(REFRESH_KEY) !== refresh) return this.rotate(stale);
    if (response.status === 400 || response.status === 401) this.clear();
    return false;
  }
}

export const session = new Session();

export type RequestOptions = {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  auth?: boolean;
};

/** `Retry-After` in seconds (the API sends seconds, never a date), or null. */
function retryAfterOf(response: Response): number | null {
  const seconds = Number(response.headers.get("Retry-After") ?? "");
  return response.headers.has("Retry-After") && Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = await response.json();
    const error = body?.error ?? {};
    return new ApiError(
      response.status,
      error.code ?? "error",
      error.message ?? response.statusText,
      error.details ?? {},
      retryAfterOf(response),
    );
  } catch {
    return new ApiError(response.status, "error", `The server answered ${response.status}.`);
  }
}

/** A request to the API; on a 401 it refreshes the session once and tries again. */
export async function raw(path: string, options: RequestOptions = {}): Promise<Response> {
  const send = async (token: string | null) => {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (options.json !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    return fetch(path.startsWith("/") ? path : `${API}/${path}`, {
      method: options.method ?? "GET",
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
      signal: options.signal,
    });
  };
  const useAuth = options.auth !== false;
  let response = await send(useAuth ? await session.token() : null);
  if (response.status === 401 && useAuth && session.refreshToken()) {
    if (await session.refresh()) response = await send(await session.token());
  }
  if (response.status === 401 && useAuth) session.clear();
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await raw(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function signIn(email: string, password: string) {
  session.accept(await api<TokenPair>("auth/token/", { method: "POST", json: { email, password }, auth: false }));
}

export async function signUp(email: string, password: string, name: string) {
  session.accept(
    await api<TokenPair>("auth/register/", { method: "POST", json: { email, password, name }, auth: false }),
  );
}

/** Change the password: every earlier token stops working, so the new pair replaces this tab's. */
export async function changePassword(current_password: string, new_password: string) {
  session.accept(await api<TokenPair>("auth/password/change/", { method: "POST", json: { current_password, new_password } }));
}

export async function signOut() {
  const refresh = session.refreshToken();
  try {
    if (refresh) await api("auth/logout/", { method: "POST", json: { refresh } });
  } catch {
    // Signing out locally matters more than telling the server: the tokens expire anyway.
  } finally {
    session.clear();
  }
}

// ---- the shapes the studio reads ----

export type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };
export type User = { id: string; email: string; name: string };
export type Project = {
  id: string;
  name: string;
  description: string;
  template: string;
  current_revision: number;
  file_count: number;
  size: number;
  created_at: string;
  updated_at: string;
};
export type Template = { slug: string; name: string; description?: string };
export type FileEntry = { path: string; size: number; sha256: string; content_type: string; revision: number };
export type Change = { path: string; action: "created" | "modified" | "deleted"; renamed_from: string | null };
export type Revision = {
  number: number;
  parent: number | null;
  message: string;
  author: { type: string; user_id: string; generation_id: string | null };
  restored_from: number | null;
  file_count: number;
  size: number;
  created_at: string;
  changes: Change[];
};
export type FileDiff = { path: string; action: string; binary: boolean; diff: string };
export type Diff = { from: number; to: number; files: FileDiff[] };
export type PreviewLink = { url: string; path: string; revision: number | null; expires_at: string };
export type Balance = { balance: number; held: number; available: number };
export type Model = { id: string; display_name: string; default: boolean; input_price: number; output_price: number };
export type Generation = {
  id: string;
  conversation_id: string | null;
  status: string;
  cost: number;
  revision: number | null;
  summary: string;
  error: { code: string; message: string } | null;
  events_url: string;
  apply?: "now" | "review";
};
export type RunSummary = {
  status: string;
  cost: number;
  revision: number | null;
  tool_calls: number;
  files_touched: string[];
};
export type Message = {
  id: string;
  role: "user" | "assistant";
  content: string;
  conversation_id: string | null;
  generation_id: string | null;
  run: RunSummary | null;
};
/** A reviewed run's held changes: each file's unified diff against the revision the run started from. */
export type ProposedFile = {
  path: string;
  action: "created" | "modified" | "deleted" | "renamed";
  from_path: string | null;
  diff: string;
};
export type Proposal = {
  generation_id: string;
  state: "pending" | "accepted" | "dismissed" | "expired";
  base_revision: number;
  expires_at: string;
  revision: number | null;
  accepted_paths: string[];
  files: ProposedFile[];
};
/** A thread about a project: its prompts, answers and runs (the model's context is its own only). */
export type Conversation = {
  id: string;
  project_id: string;
  title: string;
  archived: boolean;
  archived_at: string | null;
  created_at: string;
  last_active_at: string;
};

// The statuses a run ends with; its last event is named after one of them.
export const TERMINAL = new Set([
  "done",
  "no_changes",
  "failed",
  "cancelled",
  "conflict",
  "budget_exhausted",
  "incomplete",
  // The model asked the user a question (the summary); the conversation's next prompt answers it.
  "needs_input",
  // A reviewed run: its changes are held as a proposal to accept (all or some files) or dismiss.
  "proposed",
]);
