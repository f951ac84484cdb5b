import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import {
  api,
  ApiError,
  Balance,
  Conversation,
  Diff,
  FileEntry,
  Generation,
  Message,
  Model,
  Page,
  PreviewLink,
  Project,
  raw,
  Revision,
  TERMINAL,
  whenNotBusy,
} from "../api";
import { BASE, onLink } from "../router";
import { followGeneration, StreamEvent } from "../sse";
import { bytes, credits, ErrorNote, when } from "../ui";
import { ConversationChange, ConversationPicker, titleOf } from "./Conversations";
import { ProposalView, settleLog } from "./Proposal";

type Tab = "preview" | "code" | "history";

export function ProjectPage({ projectId }: { projectId: string }) {
  const [project, setProject] = useState<Project | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [files, setFiles] = useState<FileEntry[]>([]);
  const [touched, setTouched] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>("preview");
  const [balance, setBalance] = useState<Balance | null>(null);

  const base = `projects/${encodeURIComponent(projectId)}/`;

  const refresh = useCallback(async () => {
    try {
      const [loaded, tree] = await Promise.all([
        api<Project>(base),
        api<{ revision: number; files: FileEntry[] }>(`${base}files/`),
      ]);
      setProject(loaded);
      setFiles(tree.files);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 404) setMissing(true);
      else setError(caught);
    }
  }, [base]);

  const loadBalance = useCallback(() => {
    api<Balance>("payments/balance/")
      .then(setBalance)
      .catch(() => setBalance(null));
  }, []);

  useEffect(() => {
    setProject(null);
    setMissing(false);
    void refresh();
    loadBalance();
  }, [refresh, loadBalance]);

  useEffect(() => {
    if (project) document.title = `${project.name} · Imagi Oasis Studio`;
    return () => {
      document.title = "Imagi Oasis Studio";
    };
  }, [project?.name]);

  if (missing)
    return (
      <main class="page narrow">
        <h1 tabIndex={-1}>Project not found</h1>
        <p>It does not exist, or it is not yours.</p>
        <p>
          <a href={`${BASE}/`} onClick={(e) => onLink(e, "/")}>
            Back to your projects
          </a>
        </p>
      </main>
    );
  if (!project)
    return (
      <main class="page">
        <ErrorNote error={error} />
        <p class="muted" aria-live="polite">
          Loading the project…
        </p>
      </main>
    );

  const fileChanged = (path: string, action: string) => setTouched((old) => ({ ...old, [path]: action }));
  const landed = async () => {
    await refresh();
    loadBalance();
  };

  return (
    <main class="project">
      <div class="project-head">
        <div>
          <h1 tabIndex={-1}>{project.name}</h1>
          <p class="muted small">
            Revision <span data-testid="revision">{project.current_revision}</span> · {project.file_count} files ·{" "}
            {bytes(project.size)}
          </p>
        </div>
        <div class="row">
          {balance && (
            <span class="balance" data-testid="balance" title="Credits available for AI work">
              {credits(balance.available)} available
            </span>
          )}
          <ExportButton project={project} />
        </div>
      </div>
      <div class="workspace">
        <aside class="files" aria-labelledby="files-title">
          <h2 id="files-title">Files</h2>
          <FileTree
            files={files}
            touched={touched}
            selected={selected}
            onSelect={(path) => {
              setSelected(path);
              setTab("code");
            }}
          />
        </aside>
        <section class="stage" aria-label="Workspace">
          <div role="tablist" aria-label="Views" class="tabs">
            {(["preview", "code", "history"] as Tab[]).map((name) => (
              <button
                key={name}
                role="tab"
                id={`tab-${name}`}
                aria-selected={tab === name}
                aria-controls={`panel-${name}`}
                tabIndex={tab === name ? 0 : -1}
                onClick={() => setTab(name)}
                onKeyDown={(e) => {
                  const order: Tab[] = ["preview", "code", "history"];
                  const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
                  if (step) {
                    const next = order[(order.indexOf(name) + step + 3) % 3];
                    setTab(next);
                    document.getElementById(`tab-${next}`)?.focus();
                  }
                }}
              >
                {name[0].toUpperCase() + name.slice(1)}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="panel">
            {tab === "preview" && <Preview base={base} revision={project.current_revision} />}
            {tab === "code" && (
              <CodeView base={base} path={selected} revision={project.current_revision} onSaved={() => void landed()} />
            )}
            {tab === "history" && (
              <History base={base} current={project.current_revision} onRestored={() => void landed()} />
            )}
          </div>
        </section>
        <Chat
          projectId={projectId}
          onFileChanged={fileChanged}
          onLanded={async () => {
            setTouched({});
            await landed();
          }}
        />
      </div>
    </main>
  );
}

// ---- files ----

function FileTree({
  files,
  touched,
  selected,
  onSelect,
}: {
  files: FileEntry[];
  touched: Record<string, string>;
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  const paths = new Set(files.map((f) => f.path));
  const pending = Object.keys(touched).filter((path) => !paths.has(path));
  const all = [...files.map((f) => f.path), ...pending].sort();
  if (!all.length) return <p class="muted small">No files yet. Ask the builder for a website.</p>;
  return (
    <ul class="tree" data-testid="file-tree">
      {all.map((path) => {
        const depth = path.split("/").length - 1;
        const action = touched[path];
        return (
          <li key={path} style={{ paddingLeft: `${depth * 0.9}rem` }}>
            <button
              type="button"
              class={`file ${selected === path ? "selected" : ""} ${action ? `touched ${action}` : ""}`}
              aria-current={selected === path ? "true" : undefined}
              onClick={() => onSelect(path)}
            >
              <span class="name">{depth ? path.split("/").pop() : path}</span>
              {action && <span class="badge">{action}</span>}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

type Loaded = { text: string; etag: string; editable: boolean };

function filePath(base: string, path: string): string {
  return `${base}files/${path.split("/").map(encodeURIComponent).join("/")}`;
}

async function fileLoad(base: string, path: string, signal?: AbortSignal): Promise<Loaded> {
  const response = await raw(filePath(base, path), { headers: { Accept: "*/*" }, signal });
  const type = response.headers.get("Content-Type") ?? "";
  const editable = /^text\/|json|javascript|xml|svg/.test(type);
  const text = editable ? await response.text() : `(binary file, ${type || "unknown type"})`;
  return { text, etag: response.headers.get("ETag") ?? "", editable };
}

/** Why a save was refused, and what to do: a 412/409 means someone else changed the file first. */
function saveProblem(error: unknown): { message: string; stale: boolean } {
  if (error instanceof ApiError && (error.status === 412 || error.status === 409))
    return {
      message:
        "This file changed since you opened it (the builder or another tab saved a newer version). " +
        "Your edit was not saved: load the current version, then make your change again.",
      stale: true,
    };
  if (error instanceof ApiError && error.status === 413)
    return { message: "This file is too large to save.", stale: false };
  return { message: error instanceof Error ? error.message : String(error), stale: false };
}

function CodeView({
  base,
  path,
  revision,
  onSaved,
}: {
  base: string;
  path: string | null;
  revision: number;
  onSaved: (revision: number) => void;
}) {
  const [file, setFile] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  // The edit in progress, with the version it started from: a save may only replace that version.
  const [draft, setDraft] = useState<{ text: string; etag: string } | null>(null);
  const [problem, setProblem] = useState<{ message: string; stale: boolean } | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    setDraft(null);
    setSaved(null);
  }, [path]);

  useEffect(() => {
    if (!path) return;
    setFile(null);
    setError(null);
    setProblem(null);
    const controller = new AbortController();
    fileLoad(base, path, controller.signal)
      .then(setFile)
      .catch((caught) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [base, path, revision, reloads]);

  const save = async (event: Event) => {
    event.preventDefault();
    if (!path || draft === null) return;
    setBusy(true);
    setProblem(null);
    try {
      const written = await api<{ revision: number; sha256: string }>(filePath(base, path), {
        method: "PUT",
        body: draft.text,
        headers: { "Content-Type": "application/octet-stream", "If-Match": draft.etag || "*" },
      });
      // What was saved is what the file now holds: shown at once, not the version before the edit.
      setFile({ text: draft.text, etag: `"${written.sha256}"`, editable: true });
      setDraft(null);
      setSaved(written.revision);
      onSaved(written.revision);
    } catch (caught) {
      setProblem(saveProblem(caught));
    } finally {
      setBusy(false);
    }
  };

  if (!path) return <p class="muted pad">Choose a file on the left to read it.</p>;
  return (
    <div class="code">
      <div class="code-head row">
        <span class="grow">{path}</span>
        {file?.editable && draft === null && (
          <button type="button" onClick={() => setDraft({ text: file.text, etag: file.etag })}>
            Edit {path.split("/").pop()}
          </button>
        )}
      </div>
      <ErrorNote error={error} />
      {saved !== null && draft === null && (
        <p class="saved small pad" role="status">
          Saved as revision {saved}.
        </p>
      )}
      {file === null && !error ? (
        <p class="muted pad">Loading…</p>
      ) : draft !== null ? (
        <form class="editor" onSubmit={save}>
          <label for="file-editor" class="visually-hidden">
            Edit {path}
          </label>
          <textarea
            id="file-editor"
            class="source"
            spellcheck={false}
            autoFocus
            value={draft.text}
            onInput={(e) => setDraft({ ...draft, text: e.currentTarget.value })}
          />
          {problem && (
            <div class="error" role="alert">
              <p>{problem.message}</p>
              {problem.stale && (
                <button
                  type="button"
                  onClick={() => {
                    setDraft(null);
                    setReloads((n) => n + 1);
                  }}
                >
                  Load the current version
                </button>
              )}
            </div>
          )}
          <div class="row pad">
            <button class="primary" type="submit" disabled={busy || draft.text === file?.text}>
              {busy ? "Saving…" : "Save as a new revision"}
            </button>
            <button type="button" onClick={() => setDraft(null)}>
              Discard changes
            </button>
          </div>
        </form>
      ) : (
        <pre tabIndex={0} aria-label={`Contents of ${path}`}>
          <code>
            {(file?.text ?? "").split("\n").map((line, index) => (
              <span class="line" key={index}>
                {line + "\n"}
              </span>
            ))}
          </code>
        </pre>
      )}
    </div>
  );
}

// ---- preview ----

function Preview({ base, revision }: { base: string; revision: number }) {
  const [link, setLink] = useState<PreviewLink | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!revision) return;
    setError(null);
    // A link pinned to this revision: a new revision gets a new address, so the frame reloads.
    let current = true;
    api<PreviewLink>(`${base}preview/`, { method: "POST", json: { revision } })
      .then((found) => current && setLink(found))
      .catch((caught) => current && setError(caught));
    return () => {
      current = false;
    };
  }, [base, revision]);

  if (!revision) return <p class="muted pad">Nothing to preview yet: ask the builder for a website.</p>;
  return (
    <div class="preview">
      <ErrorNote error={error} />
      {link?.revision !== revision && !error && <p class="muted pad">Loading the preview…</p>}
      {link?.revision === revision && (
        <>
          <div class="preview-bar">
            <span class="muted small">Revision {link.revision}</span>
            <a href={link.url} target="_blank" rel="noopener noreferrer">
              Open in a new tab
            </a>
          </div>
          <iframe
            key={link.url}
            title="Preview of the website"
            src={link.url}
            sandbox="allow-scripts"
            referrerpolicy="no-referrer"
            data-revision={link.revision}
          />
        </>
      )}
    </div>
  );
}

// ---- history ----

function History({ base, current, onRestored }: { base: string; current: number; onRestored: () => void }) {
  const [revisions, setRevisions] = useState<Revision[] | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [diff, setDiff] = useState<Diff | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<Page<Revision>>(`${base}revisions/`)
      .then((page) => setRevisions(page.results))
      .catch(setError);
  }, [base, current]);

  const show = async (revision: Revision) => {
    setOpen(revision.number);
    setDiff(null);
    try {
      setDiff(await api<Diff>(`${base}revisions/diff/?from=${revision.parent ?? 0}&to=${revision.number}`));
    } catch (caught) {
      setError(caught);
    }
  };

  const restore = async (number: number) => {
    setBusy(true);
    try {
      await api(`${base}revisions/${number}/restore/`, { method: "POST", json: {} });
      onRestored();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (!revisions) return <p class="muted pad">Loading the history…</p>;
  if (!revisions.length) return <p class="muted pad">No revisions yet.</p>;
  return (
    <div class="history">
      <ErrorNote error={error} />
      <ol class="revisions">
        {revisions.map((revision) => (
          <li key={revision.number} class={open === revision.number ? "open" : ""}>
            <div class="row">
              <button type="button" class="link grow" aria-expanded={open === revision.number} onClick={() => show(revision)}>
                <strong>#{revision.number}</strong> {revision.message || "(no message)"}
              </button>
              <span class="muted small">
                {revision.author.type === "generation" ? "builder" : revision.author.type} · {when(revision.created_at)}
              </span>
              {revision.number !== current && (
                <button type="button" disabled={busy} onClick={() => restore(revision.number)}>
                  Restore #{revision.number}
                </button>
              )}
              {revision.number === current && <span class="pill">current</span>}
            </div>
            {open === revision.number && (
              <div class="diff" aria-live="polite">
                {!diff ? (
                  <p class="muted small">Loading the changes…</p>
                ) : diff.files.length === 0 ? (
                  <p class="muted small">No changes.</p>
                ) : (
                  diff.files.map((file) => (
                    <details key={file.path} open={diff.files.length <= 3}>
                      <summary>
                        <span class={`badge ${file.action}`}>{file.action}</span> {file.path}
                      </summary>
                      {file.binary ? (
                        <p class="muted small">Binary file.</p>
                      ) : (
                        <pre class="diff-text">
                          {file.diff.split("\n").map((line, index) => (
                            <span
                              key={index}
                              class={line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : ""}
                            >
                              {line + "\n"}
                            </span>
                          ))}
                        </pre>
                      )}
                    </details>
                  ))
                )}
              </div>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

// ---- export ----

function ExportButton({ project }: { project: Project }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const response = await raw(`projects/${project.id}/export/`, { headers: { Accept: "application/zip" } });
      const disposition = response.headers.get("Content-Disposition") ?? "";
      const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `${project.name || "project"}.zip`;
      const url = URL.createObjectURL(await response.blob());
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = name;
      document.body.appendChild(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" onClick={download} disabled={busy || !project.current_revision}>
        {busy ? "Preparing…" : "Export .zip"}
      </button>
      <ErrorNote error={error} />
    </>
  );
}

// ---- chat ----

/** One line per path in a run: created then modified stays created; deleted wins. */
function mergeChange(files: { path: string; action: string }[], path: string, action: string) {
  const known = files.find((file) => file.path === path);
  if (!known) return [...files, { path, action }];
  const merged = action === "deleted" ? "deleted" : known.action === "created" ? "created" : action;
  return files.map((file) => (file.path === path ? { path, action: merged } : file));
}

type Turn = {
  key: string;
  role: "user" | "assistant";
  text: string;
  tools?: { id: string; name: string; path?: string; ok?: boolean }[];
  files?: { path: string; action: string }[];
  status?: string;
  cost?: number;
  error?: string;
  // Loaded with the conversation (the run is over): how many tools it called.
  toolCalls?: number;
  // The run's generation (an answer): a `proposed` one shows its proposal.
  generationId?: string;
  // The steps the model posted with set_plan; a later plan replaces the earlier one.
  plan?: string[];
};

/** A turn of the stored conversation: an answer shows its run's status, cost, tool calls and files. */
function turnOf(message: Message): Turn {
  const turn: Turn = {
    key: message.id,
    role: message.role,
    text: message.content,
    generationId: message.generation_id ?? undefined,
  };
  if (!message.run) return turn;
  return {
    ...turn,
    status: message.run.status,
    cost: message.run.cost,
    toolCalls: message.run.tool_calls,
    files: message.run.files_touched.map((path) => ({ path, action: "touched" })),
  };
}

/** Whether the turns hold the stored answer of a run. */
function answered(turns: Turn[], generationId: string | undefined): boolean {
  if (!generationId) return false;
  return turns.some((turn) => turn.role === "assistant" && turn.generationId === generationId);
}

/**
 * The turns with a run followed here: its stored answer, when they hold it, showing what the stream showed
 * of it (the stored answer only counts the tool calls and has no plan, and the list seen live must not
 * vanish when it loads); otherwise the turn the stream built, last.
 */
function withFollowed(turns: Turn[], followed: Turn): Turn[] {
  if (!answered(turns, followed.generationId)) return [...turns, followed];
  return turns.map((turn) =>
    turn.role === "assistant" && turn.generationId === followed.generationId
      ? { ...turn, tools: followed.tools, plan: followed.plan }
      : turn,
  );
}

/** The run being followed: its conversation and its turn as the stream builds it. */
type Live = { generationId: string; conversation: string | null; turn: Turn; done: boolean };

function Chat({
  projectId,
  onFileChanged,
  onLanded,
}: {
  projectId: string;
  onFileChanged: (path: string, action: string) => void;
  onLanded: () => Promise<void>;
}) {
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  // The conversation the chat shows, and the one a prompt continues.
  const [current, setCurrent] = useState<Conversation | null>(null);
  const currentId = current?.id ?? null;
  const currentRef = useRef<string | null>(null);
  currentRef.current = currentId;
  const [turns, setTurns] = useState<Turn[]>([]);
  // Whose messages `turns` holds: until the chosen conversation's have loaded, none show.
  const [turnsOf, setTurnsOf] = useState<string | null>(null);
  const loadingTurns = turnsOf !== currentId;
  const [live, setLive] = useState<Live | null>(null);
  const [models, setModels] = useState<Model[]>([]);
  const [model, setModel] = useState("");
  const [prompt, setPrompt] = useState("");
  // Review before apply: the run ends `proposed`, its changes held to accept (all or some) or dismiss.
  const [review, setReview] = useState(false);
  // Bumped when a run ends with a question: the prompt box takes the focus for the answer.
  const [askFocus, setAskFocus] = useState(0);
  const promptBox = useRef<HTMLTextAreaElement>(null);
  const [running, setRunning] = useState<Generation | null>(null);
  const [connection, setConnection] = useState("");
  const [after, setAfter] = useState<{ cost: number; balance: number | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  // While the builder is too busy to take the build: when the studio asks again, and how to stop asking.
  const [nextTryAt, setNextTryAt] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  const stopTrying = useRef<AbortController | null>(null);
  const stop = useRef<(() => void) | null>(null);
  const log = useRef<HTMLOListElement>(null);
  // Runs that ended while this page followed them, with their conversations: a page of messages read
  // just before a run's answer was stored must not drop the turn the stream built.
  const endedRuns = useRef<{ conversation: string | null; turn: Turn }[]>([]);
  // Whether a run started from this page since the project was opened.
  const sentHere = useRef(false);

  /** The project's conversations (not archived), most recently active first; the shown one kept current. */
  const loadConversations = async (): Promise<Conversation[]> => {
    const page = await api<Page<Conversation>>(`builder/projects/${projectId}/conversations/?page_size=200`);
    setConversations(page.results);
    setCurrent((old) => (old ? page.results.find((c) => c.id === old.id) ?? old : old));
    return page.results;
  };

  useEffect(() => {
    let gone = false;
    setConversations(null);
    setCurrent(null);
    setLive(null);
    endedRuns.current = [];
    sentHere.current = false;
    api<Model[] | Page<Model>>("builder/models/", { auth: false })
      .then((found) => {
        const list = Array.isArray(found) ? found : found.results;
        setModels(list);
        setModel((list.find((m) => m.default) ?? list[0])?.id ?? "");
      })
      .catch(setError);
    // The most recently active conversation; then, if a run is still going (a reload, another tab), follow it.
    // A run started here before these answers came, or being started, chose both: a late answer must not undo
    // that, nor open a second stream of the run the page is about to follow.
    const startedHere = () => sentHere.current || stopTrying.current !== null;
    loadConversations()
      .then((list) => {
        if (!gone && !startedHere()) setCurrent(list[0] ?? null);
        return api<Page<Generation>>(`builder/projects/${projectId}/generations/?active=true`);
      })
      .then((page) => {
        const latest = page.results[0];
        if (latest && !gone && !startedHere()) {
          setRunning(latest);
          follow(latest);
        }
      })
      .catch((caught) => !gone && setError(caught));
    return () => {
      gone = true;
      stop.current?.();
      stopTrying.current?.abort();
    };
  }, [projectId]);

  // The countdown to the next try at a busy start.
  useEffect(() => {
    if (nextTryAt === null) return;
    setNow(Date.now());
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, [nextTryAt]);

  // The shown conversation's messages, from the server, whenever another one is chosen.
  useEffect(() => {
    if (!currentId) {
      setTurns([]);
      setTurnsOf(null);
      return;
    }
    const controller = new AbortController();
    api<Page<Message>>(`builder/conversations/${currentId}/messages/?page_size=200`, { signal: controller.signal })
      .then((page) => {
        // A run's answer is stored as it ends: one that ended here since and is not in the page yet stays.
        const endedHere = endedRuns.current.filter((run) => run.conversation === currentId).map((run) => run.turn);
        setTurns(endedHere.reduce(withFollowed, page.results.map(turnOf)));
        setTurnsOf(currentId);
      })
      .catch((caught) => {
        if (controller.signal.aborted) return;
        // Deleted meanwhile (another tab): the most recent other one shows instead.
        if (caught instanceof ApiError && caught.status === 404)
          void loadConversations().then((list) => setCurrent(list[0] ?? null), setError);
        else setError(caught);
      });
    return () => controller.abort();
  }, [currentId]);

  // A run that ended joins its conversation's turns when shown; otherwise its messages load with it later.
  useEffect(() => {
    if (!live?.done) return;
    const ended = live;
    endedRuns.current.push({ conversation: ended.conversation, turn: ended.turn });
    // Unless the page of messages, loaded while the stream caught up, holds its stored answer already.
    if (ended.conversation === currentRef.current)
      setTurns((old) => withFollowed(old, ended.turn));
    setLive(null);
  }, [live]);

  const stored = loadingTurns ? [] : turns;
  const shown = live && live.conversation === currentId ? withFollowed(stored, live.turn) : stored;

  useEffect(() => {
    if (log.current) settleLog(log.current);
  }, [shown.length, live?.turn]);

  const follow = (generation: Generation) => {
    const key = `run-${generation.id}`;
    stop.current?.();
    setLive({
      generationId: generation.id,
      conversation: generation.conversation_id,
      turn: {
        key,
        role: "assistant",
        text: "",
        tools: [],
        files: [],
        status: generation.status,
        generationId: generation.id,
      },
      done: false,
    });
    const update = (change: (turn: Turn) => Turn, done = false) =>
      setLive((old) => (old && old.generationId === generation.id ? { ...old, turn: change(old.turn), done } : old));
    stop.current = followGeneration(generation.id, {
      onState: (state) => setConnection(state === "open" || state === "closed" ? "" : state),
      onEvent: (event: StreamEvent) => {
        const data = event.data ?? {};
        switch (event.event) {
          case "status":
            update((t) => ({ ...t, status: data.status }));
            break;
          case "text":
            update((t) => ({ ...t, text: t.text + (data.delta ?? "") }));
            break;
          case "tool_call":
            update((t) => ({
              ...t,
              tools: [...(t.tools ?? []), { id: data.id, name: data.name, path: data.arguments?.path }],
            }));
            break;
          case "tool_result":
            update((t) => ({
              ...t,
              tools: (t.tools ?? []).map((tool) => (tool.id === data.id ? { ...tool, ok: data.ok } : tool)),
            }));
            break;
          case "file_changed":
            update((t) => ({ ...t, files: mergeChange(t.files ?? [], data.path, data.action) }));
            onFileChanged(data.path, data.action);
            break;
          case "plan":
            update((t) => ({ ...t, plan: Array.isArray(data.steps) ? data.steps.map(String) : [] }));
            break;
          case "usage":
            update((t) => ({ ...t, cost: data.cost }));
            break;
          default:
            if (TERMINAL.has(event.event)) {
              update(
                (t) => ({
                  ...t,
                  status: data.status ?? event.event,
                  cost: data.cost,
                  // A question is the summary itself, whatever text came before it.
                  text: event.event === "needs_input" ? data.summary || t.text : t.text || data.summary || "",
                  error: data.error?.message,
                }),
                true,
              );
              setRunning(null);
              if (event.event === "needs_input") setAskFocus((n) => n + 1);
              void onLanded().then(() =>
                api<Balance>("payments/balance/")
                  .then((b) => setAfter({ cost: data.cost ?? 0, balance: b.available }))
                  .catch(() => setAfter({ cost: data.cost ?? 0, balance: null })),
              );
            }
        }
      },
    });
  };

  const send = async (event: Event) => {
    event.preventDefault();
    const text = prompt.trim();
    if (!text) return;
    if (stopTrying.current) return; // already waiting to try this build again
    setError(null);
    setAfter(null);
    const trying = (stopTrying.current = new AbortController());
    try {
      const body = {
        prompt: text,
        mode: "build",
        ...(model ? { model } : {}),
        ...(currentId ? { conversation: currentId } : {}),
        ...(review ? { apply: "review" } : {}),
      };
      // A start refused because the builder is busy changed nothing: it is tried again when the
      // builder said, without the user pressing Build again.
      const generation = await whenNotBusy(
        () => api<Generation>(`builder/projects/${projectId}/generations/`, { method: "POST", json: body }),
        setNextTryAt,
        trying.signal,
      );
      sentHere.current = true;
      setPrompt("");
      if (generation.conversation_id === currentRef.current && generation.conversation_id === turnsOf)
        setTurns((old) => [...old, { key: `prompt-${generation.id}`, role: "user", text }]);
      setRunning(generation);
      follow(generation);
      // Its conversation is the most recently active now, and named after the prompt if it had no title.
      const list = await loadConversations();
      if (generation.conversation_id !== currentRef.current)
        setCurrent(list.find((c) => c.id === generation.conversation_id) ?? null);
    } catch (caught) {
      if (!trying.signal.aborted) setError(caught);
    } finally {
      if (stopTrying.current === trying) stopTrying.current = null;
    }
  };

  const cancel = async () => {
    if (!running) return;
    try {
      await api(`builder/generations/${running.id}/cancel/`, { method: "POST", json: {} });
    } catch (caught) {
      setError(caught);
    }
  };

  const select = (conversation: Conversation | null) => {
    setError(null);
    setAfter(null);
    setCurrent(conversation);
  };

  /** What the picker did: after archiving or deleting the shown one, the most recent other one shows. */
  const changed = async (change: ConversationChange) => {
    const list = await loadConversations();
    const changedId = change.conversation.id;
    if (change.kind === "created") select(list.find((c) => c.id === changedId) ?? change.conversation);
    else if (change.kind === "renamed" || change.kind === "unarchived")
      setCurrent((old) => (old?.id === changedId ? change.conversation : old));
    else if (currentRef.current === changedId) select(list[0] ?? null);
  };

  const busy = running ? running.conversation_id : null;
  const elsewhere = running && busy !== currentId ? conversations?.find((c) => c.id === busy) ?? null : null;
  const archived = Boolean(current?.archived);
  // The shown conversation ends with the model's question: the next prompt is its answer.
  const lastTurn = shown[shown.length - 1];
  const awaiting = !running && !loadingTurns && lastTurn?.role === "assistant" && lastTurn.status === "needs_input";

  useEffect(() => {
    if (askFocus) promptBox.current?.focus();
  }, [askFocus, running]);

  return (
    <section class="chat" aria-labelledby="chat-title">
      <h2 id="chat-title">Builder</h2>
      <ConversationPicker
        projectId={projectId}
        conversations={conversations}
        selected={current}
        busy={busy}
        onSelect={select}
        onChange={changed}
      />
      <ol
        class="turns"
        ref={log}
        aria-live="polite"
        aria-relevant="additions text"
        aria-label={current ? `Messages of ${titleOf(current)}` : "Messages"}
        data-testid="chat-log"
        data-conversation={currentId ?? ""}
        aria-busy={loadingTurns}
      >
        {shown.length === 0 && (
          <li class="muted small">
            {loadingTurns ? "Loading the conversation…" : "Describe the website you want, or a change to make."}
          </li>
        )}
        {shown.map((turn) => (
          <li key={turn.key} class={`turn ${turn.role}`} data-status={turn.status}>
            {turn.role === "assistant" && turn.status === "needs_input" ? (
              <div class="question" data-testid="question">
                <p class="question-label">The builder asks:</p>
                <p class="text">{turn.text}</p>
                {awaiting && turn === lastTurn && (
                  <p class="small">Waiting for your answer: write it below, your next prompt answers it.</p>
                )}
              </div>
            ) : (
              turn.text && <p class="text">{turn.text}</p>
            )}
            {!!turn.plan?.length && (
              <div class="plan" data-testid="run-plan">
                <p class="plan-title" id={`plan-${turn.key}`}>
                  Plan
                </p>
                <ol aria-labelledby={`plan-${turn.key}`}>
                  {turn.plan.map((step, index) => (
                    <li key={index}>{step}</li>
                  ))}
                </ol>
              </div>
            )}
            {!!turn.tools?.length && (
              <ul class="tools" aria-label="Tool calls">
                {turn.tools.map((tool) => (
                  <li key={tool.id} class={tool.ok === false ? "failed" : ""}>
                    <code>{tool.name}</code> {tool.path}
                  </li>
                ))}
              </ul>
            )}
            {!!turn.files?.length && (
              <ul class="changes" aria-label="Files changed" data-testid="run-files">
                {turn.files.map((file, index) => (
                  <li key={index}>
                    <span class={`badge ${file.action}`}>{file.action}</span> {file.path}
                  </li>
                ))}
              </ul>
            )}
            {turn.role === "assistant" && turn.status && (
              <p class="run-status small" data-testid="run-status">
                {TERMINAL.has(turn.status) ? (
                  <>
                    <span class={`pill ${turn.status}`}>{turn.status.replaceAll("_", " ")}</span>
                    {turn.cost !== undefined && <> · cost {credits(turn.cost)}</>}
                    {turn.toolCalls !== undefined && (
                      <>
                        {" "}
                        · {turn.toolCalls} tool call{turn.toolCalls === 1 ? "" : "s"}
                      </>
                    )}
                  </>
                ) : (
                  <span class="pill running">{turn.status}…</span>
                )}
                {turn.error && <span class="error-inline"> {turn.error}</span>}
              </p>
            )}
            {turn.role === "assistant" && turn.status === "proposed" && turn.generationId && (
              <ProposalView
                generationId={turn.generationId}
                onApplied={onLanded}
                reveal={turn.key.startsWith("run-") || endedRuns.current.some((run) => run.turn.generationId === turn.generationId)}
              />
            )}
          </li>
        ))}
      </ol>
      {running && busy !== currentId && (
        <p class="note small" role="status" data-testid="run-elsewhere">
          A run is going in {elsewhere ? `“${titleOf(elsewhere)}”` : "another conversation"}.{" "}
          {elsewhere && (
            <button type="button" class="link" onClick={() => select(elsewhere)}>
              Show it
            </button>
          )}
        </p>
      )}
      {connection && (
        <p class="muted small" role="status">
          {connection === "reconnecting" ? "Connection lost; reconnecting…" : "Connecting…"}
        </p>
      )}
      {after && (
        <p class="after small" role="status" data-testid="run-cost">
          This run cost {credits(after.cost)}
          {after.balance !== null && <>; {credits(after.balance)} left</>}.
        </p>
      )}
      {nextTryAt !== null && (
        <p class="note small" data-testid="start-waiting">
          <span role="status">The builder is busy starting other builds; yours is sent again by itself.</span>{" "}
          {/* A number that changes every second is shown, not announced. */}
          <span aria-hidden="true">Trying again in {Math.max(1, Math.ceil((nextTryAt - now) / 1000))} s…</span>{" "}
          <button type="button" class="link" onClick={() => stopTrying.current?.abort()}>
            Stop trying
          </button>
        </p>
      )}
      <ErrorNote error={error} />
      {archived && (
        <p class="note small" data-testid="archived-note">
          This conversation is archived: unarchive it to continue it.
        </p>
      )}
      <form class="composer" onSubmit={send}>
        <label for="prompt">{awaiting ? "Your answer to the builder's question" : "What should the builder do?"}</label>
        <textarea
          id="prompt"
          ref={promptBox}
          rows={3}
          value={prompt}
          placeholder={awaiting ? "Your answer" : "A bakery in Lisbon with a menu and opening hours"}
          onInput={(e) => setPrompt(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.metaKey || e.ctrlKey) && !running && !archived) void send(e);
          }}
          disabled={Boolean(running) || archived || nextTryAt !== null}
        />
        <label class="inline check small">
          <input
            type="checkbox"
            checked={review}
            onChange={(e) => setReview(e.currentTarget.checked)}
            disabled={Boolean(running) || archived}
          />
          Review changes before applying
        </label>
        <div class="row">
          <label class="inline">
            <span class="visually-hidden">Model</span>
            <select value={model} onChange={(e) => setModel(e.currentTarget.value)} aria-label="Model">
              {models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.display_name}
                </option>
              ))}
            </select>
          </label>
          {running ? (
            <button type="button" class="danger" onClick={cancel}>
              Cancel run
            </button>
          ) : (
            <button class="primary" type="submit" disabled={!prompt.trim() || archived || nextTryAt !== null}>
              {awaiting ? "Send answer" : "Build"}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
