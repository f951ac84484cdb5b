import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import {
  api,
  ApiError,
  Balance,
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
} from "../api";
import { BASE, onLink } from "../router";
import { followGeneration, StreamEvent } from "../sse";
import { bytes, credits, ErrorNote, when } from "../ui";

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
            {tab === "code" && <CodeView base={base} path={selected} revision={project.current_revision} />}
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

function CodeView({ base, path, revision }: { base: string; path: string | null; revision: number }) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!path) return;
    setText(null);
    setError(null);
    const controller = new AbortController();
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    raw(`${base}files/${encoded}`, { headers: { Accept: "*/*" }, signal: controller.signal })
      .then(async (response) => {
        const type = response.headers.get("Content-Type") ?? "";
        const isText = /^text\/|json|javascript|xml|svg/.test(type);
        setText(isText ? await response.text() : `(binary file, ${type || "unknown type"})`);
      })
      .catch((caught) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [base, path, revision]);

  if (!path) return <p class="muted pad">Choose a file on the left to read it.</p>;
  return (
    <div class="code">
      <div class="code-head">{path}</div>
      <ErrorNote error={error} />
      {text === null && !error ? (
        <p class="muted pad">Loading…</p>
      ) : (
        <pre tabIndex={0} aria-label={`Contents of ${path}`}>
          <code>
            {(text ?? "").split("\n").map((line, index) => (
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
};

function Chat({
  projectId,
  onFileChanged,
  onLanded,
}: {
  projectId: string;
  onFileChanged: (path: string, action: string) => void;
  onLanded: () => Promise<void>;
}) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [models, setModels] = useState<Model[]>([]);
  const [model, setModel] = useState("");
  const [prompt, setPrompt] = useState("");
  const [running, setRunning] = useState<Generation | null>(null);
  const [connection, setConnection] = useState("");
  const [after, setAfter] = useState<{ cost: number; balance: number | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const stop = useRef<(() => void) | null>(null);
  const log = useRef<HTMLOListElement>(null);

  useEffect(() => {
    api<Model[] | Page<Model>>("builder/models/", { auth: false })
      .then((found) => {
        const list = Array.isArray(found) ? found : found.results;
        setModels(list);
        setModel((list.find((m) => m.default) ?? list[0])?.id ?? "");
      })
      .catch(setError);
    // The conversation so far; then, if a run is still going (a reload, another tab), follow it.
    api<Page<Message>>(`builder/projects/${projectId}/messages/`)
      .then((page) => setTurns(page.results.map((m) => ({ key: m.id, role: m.role, text: m.content }))))
      .then(() => api<Page<Generation>>(`builder/projects/${projectId}/generations/?ordering=-created_at`))
      .then((page) => {
        const latest = page.results[0];
        if (latest && !TERMINAL.has(latest.status)) {
          setRunning(latest);
          follow(latest);
        }
      })
      .catch(() => undefined);
    return () => stop.current?.();
  }, [projectId]);

  useEffect(() => {
    // Scroll the conversation itself, never the page around it.
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [turns]);

  const update = (key: string, change: (turn: Turn) => Turn) =>
    setTurns((old) => old.map((turn) => (turn.key === key ? change(turn) : turn)));

  const follow = (generation: Generation) => {
    const key = `run-${generation.id}`;
    setTurns((old) => [...old, { key, role: "assistant", text: "", tools: [], files: [], status: generation.status }]);
    stop.current = followGeneration(generation.id, {
      onState: (state) => setConnection(state === "open" || state === "closed" ? "" : state),
      onEvent: (event: StreamEvent) => {
        const data = event.data ?? {};
        switch (event.event) {
          case "status":
            update(key, (t) => ({ ...t, status: data.status }));
            break;
          case "text":
            update(key, (t) => ({ ...t, text: t.text + (data.delta ?? "") }));
            break;
          case "tool_call":
            update(key, (t) => ({
              ...t,
              tools: [...(t.tools ?? []), { id: data.id, name: data.name, path: data.arguments?.path }],
            }));
            break;
          case "tool_result":
            update(key, (t) => ({
              ...t,
              tools: (t.tools ?? []).map((tool) => (tool.id === data.id ? { ...tool, ok: data.ok } : tool)),
            }));
            break;
          case "file_changed":
            update(key, (t) => ({ ...t, files: mergeChange(t.files ?? [], data.path, data.action) }));
            onFileChanged(data.path, data.action);
            break;
          case "usage":
            update(key, (t) => ({ ...t, cost: data.cost }));
            break;
          default:
            if (TERMINAL.has(event.event)) {
              update(key, (t) => ({
                ...t,
                status: data.status ?? event.event,
                cost: data.cost,
                text: t.text || data.summary || "",
                error: data.error?.message,
              }));
              setRunning(null);
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
    setError(null);
    setAfter(null);
    try {
      const generation = await api<Generation>(`builder/projects/${projectId}/generations/`, {
        method: "POST",
        json: { prompt: text, mode: "build", ...(model ? { model } : {}) },
      });
      setPrompt("");
      setTurns((old) => [...old, { key: `prompt-${generation.id}`, role: "user", text }]);
      setRunning(generation);
      follow(generation);
    } catch (caught) {
      setError(caught);
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

  return (
    <section class="chat" aria-labelledby="chat-title">
      <h2 id="chat-title">Builder</h2>
      <ol class="turns" ref={log} aria-live="polite" aria-relevant="additions text" data-testid="chat-log">
        {turns.length === 0 && <li class="muted small">Describe the website you want, or a change to make.</li>}
        {turns.map((turn) => (
          <li key={turn.key} class={`turn ${turn.role}`} data-status={turn.status}>
            {turn.text && <p class="text">{turn.text}</p>}
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
                  </>
                ) : (
                  <span class="pill running">{turn.status}…</span>
                )}
                {turn.error && <span class="error-inline"> {turn.error}</span>}
              </p>
            )}
          </li>
        ))}
      </ol>
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
      <ErrorNote error={error} />
      <form class="composer" onSubmit={send}>
        <label for="prompt">What should the builder do?</label>
        <textarea
          id="prompt"
          rows={3}
          value={prompt}
          placeholder="A bakery in Lisbon with a menu and opening hours"
          onInput={(e) => setPrompt(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) void send(e);
          }}
          disabled={Boolean(running)}
        />
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
            <button class="primary" type="submit" disabled={!prompt.trim()}>
              Build
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
