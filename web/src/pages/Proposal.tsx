/** A reviewed run's proposal, inside its turn of the chat: each file's diff, apply some or all, or dismiss. */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, Proposal, ProposedFile } from "../api";
import { ErrorNote, when } from "../ui";

/** A diff line's kind: the +/− prefixes stay in the text, so colour is never the only sign. */
function lineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "meta";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  if (line.startsWith("@@")) return "hunk";
  return "";
}

export function DiffText({ diff, label }: { diff: string; label: string }) {
  const lines = diff.replace(/\n$/, "").split("\n");
  return (
    <pre class="diff-text" tabIndex={0} aria-label={label}>
      {lines.map((line, index) => (
        <span key={index} class={lineClass(line)}>
          {line + "\n"}
        </span>
      ))}
    </pre>
  );
}

function FileDiff({ file }: { file: ProposedFile }) {
  if (file.action === "renamed") return <p class="muted small">Renamed from {file.from_path}; the content is the same.</p>;
  if (!file.diff) return <p class="muted small">No changes to show.</p>;
  return <DiffText diff={file.diff} label={`Changes to ${file.path}`} />;
}

type Problem = { message: string; paths: string[] };

/**
 * Where a conversation's log rests after it changed: a proposal revealed in its last turn shows its first
 * lines at the top; otherwise the latest line shows at the bottom. Only the log scrolls, never the page.
 */
export function settleLog(log: Element) {
  const revealed = log.querySelector(":scope > li:last-child [data-reveal]");
  if (revealed) log.scrollTop += revealed.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
  else log.scrollTop = log.scrollHeight;
}

export function ProposalView({
  generationId,
  onApplied,
  reveal = false,
}: {
  generationId: string;
  /** After a revision was made (or the project turned out to have moved on): the file tree and preview load again. */
  onApplied: () => Promise<void> | void;
  /** Shown at the top of the log while pending (a run this page saw end, not one read back from the history). */
  reveal?: boolean;
}) {
  const [proposal, setProposal] = useState<Proposal | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const result = useRef<HTMLParagraphElement>(null);
  const form = useRef<HTMLFormElement>(null);
  const loaded = proposal !== null;
  const [decided, setDecided] = useState(false);
  const base = `builder/generations/${encodeURIComponent(generationId)}/proposal/`;

  const load = async () => {
    try {
      const found = await api<Proposal>(base);
      setProposal(found);
      setChosen(new Set(found.files.map((f) => f.path)));
    } catch (caught) {
      setError(caught);
    }
  };

  useEffect(() => {
    void load();
  }, [generationId]);

  useEffect(() => {
    const log = form.current?.closest(".turns");
    if (loaded && reveal && log) settleLog(log);
  }, [loaded]);

  // After applying or dismissing, the buttons are gone: focus moves to the sentence that says what happened.
  useEffect(() => {
    if (decided) result.current?.focus();
  }, [decided, proposal?.state]);

  const toggle = (path: string, on: boolean) =>
    setChosen((old) => {
      const next = new Set(old);
      if (on) next.add(path);
      else next.delete(path);
      return next;
    });

  const accept = async (event: Event) => {
    event.preventDefault();
    if (!proposal || !chosen.size) return;
    setBusy(true);
    setError(null);
    setProblem(null);
    const all = chosen.size === proposal.files.length;
    try {
      const accepted = await api<Proposal>(`${base}accept/`, {
        method: "POST",
        json: all ? {} : { paths: proposal.files.map((f) => f.path).filter((p) => chosen.has(p)) },
      });
      setProposal(accepted);
      setDecided(true);
      await onApplied();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "stale_base_revision") {
        const paths = Array.isArray(caught.details.paths) ? (caught.details.paths as string[]) : [];
        // Those files cannot be applied any more; the others still can, onto the newer revision.
        setChosen((old) => new Set([...old].filter((p) => !paths.includes(p))));
        setProblem({ message: caught.message, paths });
        // The project has a newer revision than the page shows: the tree and preview catch up.
        await onApplied();
      } else if (caught instanceof ApiError && caught.status === 410) {
        setProblem({ message: caught.message, paths: [] });
        await load();
      } else setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const dismiss = async () => {
    setBusy(true);
    setError(null);
    setProblem(null);
    try {
      setProposal(await api<Proposal>(`${base}dismiss/`, { method: "POST", json: {} }));
      setDecided(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (!proposal)
    return (
      <div class="proposal" data-testid="proposal">
        <ErrorNote error={error} />
        {!error && <p class="muted small">Loading the proposed changes…</p>}
      </div>
    );

  const count = proposal.files.length;
  const heading = `proposal-title-${generationId}`;
  if (proposal.state !== "pending")
    return (
      <div class="proposal decided" data-testid="proposal" data-state={proposal.state}>
        <p class={`small ${proposal.state === "accepted" ? "saved" : "muted"}`} ref={result} tabIndex={-1} role="status">
          {proposal.state === "accepted" &&
            `Applied ${proposal.accepted_paths.length} of ${count} file${count === 1 ? "" : "s"} as revision ${proposal.revision}.`}
          {proposal.state === "dismissed" && "Dismissed: none of these changes were applied."}
          {proposal.state === "expired" && "This proposal expired before it was applied: run the prompt again."}
        </p>
        {proposal.state === "accepted" && (
          <ul class="changes" aria-label="Files applied">
            {proposal.accepted_paths.map((path) => (
              <li key={path}>
                <span class="badge applied">applied</span> {path}
              </li>
            ))}
          </ul>
        )}
        {problem && <p class="error small">{problem.message}</p>}
      </div>
    );

  return (
    <form
      ref={form}
      class="proposal"
      data-testid="proposal"
      data-state="pending"
      data-reveal={reveal || undefined}
      onSubmit={accept}
      aria-labelledby={heading}
    >
      <p class="proposal-title" id={heading}>
        Proposed changes: {count} file{count === 1 ? "" : "s"}, nothing applied yet
      </p>
      <p class="muted small">
        Choose the files to apply (until {when(proposal.expires_at)}). Lines starting with + are added, lines
        starting with - are removed.
      </p>
      <ul class="proposed-files" aria-live="off">
        {proposal.files.map((file) => (
          <li key={file.path} class="proposed-file" data-path={file.path}>
            <label class="inline check">
              <input
                type="checkbox"
                checked={chosen.has(file.path)}
                onChange={(e) => toggle(file.path, e.currentTarget.checked)}
              />
              <span class={`badge ${file.action}`}>{file.action}</span>
              <code class="path">{file.path}</code>
            </label>
            <FileDiff file={file} />
          </li>
        ))}
      </ul>
      {problem && (
        <div class="error small" role="alert" data-testid="proposal-problem">
          <p>{problem.message}</p>
          {!!problem.paths.length && (
            <>
              <ul aria-label="Files changed since the run started">
                {problem.paths.map((path) => (
                  <li key={path}>
                    <code>{path}</code>
                  </li>
                ))}
              </ul>
              <p>They are unchecked now: apply the others, or run the prompt again.</p>
            </>
          )}
        </div>
      )}
      <ErrorNote error={error} />
      <div class="row">
        <button class="primary" type="submit" disabled={busy || !chosen.size}>
          {busy ? "Working…" : "Apply selected"}
        </button>
        <button type="button" disabled={busy} onClick={dismiss}>
          Dismiss
        </button>
      </div>
    </form>
  );
}
