/** The project page's conversation picker: the threads, a new one, rename, archive and delete. */

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, Conversation, Page } from "../api";
import { ErrorNote } from "../ui";

/** What the picker did, so the chat can follow (another selection when the shown one goes). */
export type ConversationChange =
  | { kind: "created"; conversation: Conversation }
  | { kind: "renamed"; conversation: Conversation }
  | { kind: "archived"; conversation: Conversation }
  | { kind: "unarchived"; conversation: Conversation }
  | { kind: "deleted"; conversation: Conversation };

export const UNTITLED = "New conversation";

export function titleOf(conversation: Conversation): string {
  return conversation.title.trim() || UNTITLED;
}

/** The conversation's name for buttons and announcements: “Untitled” ones say so. */
function nameOf(conversation: Conversation): string {
  return conversation.title.trim() ? `“${conversation.title.trim()}”` : "the untitled conversation";
}

/** A 409 says why (a run of it still going); anything else says what the server said. */
function problemOf(error: unknown): string {
  if (error instanceof ApiError && error.code === "conversation_busy")
    return `${error.message} “Cancel run”, below the chat, stops it.`;
  return error instanceof Error ? error.message : String(error);
}

export function ConversationPicker({
  projectId,
  conversations,
  selected,
  busy,
  onSelect,
  onChange,
}: {
  projectId: string;
  /** The project's conversations that are not archived, most recently active first. */
  conversations: Conversation[] | null;
  selected: Conversation | null;
  /** The conversation a run is going in now, if any. */
  busy: string | null;
  onSelect: (conversation: Conversation) => void;
  onChange: (change: ConversationChange) => Promise<void> | void;
}) {
  const [showArchived, setShowArchived] = useState(false);
  const [archived, setArchived] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  // What a row's action was refused with (a 409 while a run goes), shown below the lists, never cut off.
  const [problem, setProblem] = useState("");
  const [creating, setCreating] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const newButton = useRef<HTMLButtonElement>(null);

  const choose = (conversation: Conversation) => {
    setProblem("");
    onSelect(conversation);
  };

  const loadArchived = async () => {
    try {
      const page = await api<Page<Conversation>>(
        `builder/projects/${projectId}/conversations/?archived=true&page_size=200`,
      );
      setArchived(page.results);
    } catch (caught) {
      setError(caught);
    }
  };

  useEffect(() => {
    if (showArchived) void loadArchived();
  }, [showArchived, projectId]);

  const create = async () => {
    setCreating(true);
    setError(null);
    setProblem("");
    try {
      const conversation = await api<Conversation>(`builder/projects/${projectId}/conversations/`, {
        method: "POST",
        json: {},
      });
      await onChange({ kind: "created", conversation });
      setAnnouncement("Started a new conversation.");
      document.getElementById("prompt")?.focus();
    } catch (caught) {
      setError(caught);
    } finally {
      setCreating(false);
    }
  };

  /** After a row changed: the lists again, a sentence for screen readers, focus somewhere that stays. */
  const changed = async (change: ConversationChange, sentence: string, keepFocus = false) => {
    setProblem("");
    await onChange(change);
    if (showArchived || change.kind === "archived") await loadArchived();
    setAnnouncement(sentence);
    if (!keepFocus) newButton.current?.focus();
  };

  return (
    <div class="conversations" data-testid="conversation-picker">
      <div class="conversations-head">
        <h3 id="conversations-title">Conversations</h3>
        <button type="button" ref={newButton} class="compact" onClick={create} disabled={creating}>
          New conversation
        </button>
      </div>
      {conversations === null ? (
        <p class="muted small">Loading the conversations…</p>
      ) : conversations.length === 0 ? (
        <p class="muted small">No conversations yet: your first prompt starts one.</p>
      ) : (
        <ul class="conversation-list" aria-labelledby="conversations-title" data-testid="conversations">
          {conversations.map((conversation) => (
            <ConversationRow
              key={conversation.id}
              conversation={conversation}
              current={selected?.id === conversation.id}
              busy={busy === conversation.id}
              onSelect={choose}
              onChanged={changed}
              onProblem={setProblem}
            />
          ))}
        </ul>
      )}
      <button
        type="button"
        class="link small"
        aria-expanded={showArchived}
        aria-controls="archived-conversations"
        onClick={() => setShowArchived(!showArchived)}
      >
        {showArchived ? "Hide archived conversations" : "Show archived conversations"}
      </button>
      {showArchived && (
        <div id="archived-conversations" class="archived">
          <h4 id="archived-title">Archived</h4>
          {archived === null ? (
            <p class="muted small">Loading…</p>
          ) : archived.length === 0 ? (
            <p class="muted small">No archived conversations.</p>
          ) : (
            <ul class="conversation-list" aria-labelledby="archived-title" data-testid="archived-conversations">
              {archived.map((conversation) => (
                <ConversationRow
                  key={conversation.id}
                  conversation={conversation}
                  current={selected?.id === conversation.id}
                  busy={busy === conversation.id}
                  onSelect={choose}
                  onChanged={changed}
                  onProblem={setProblem}
                />
              ))}
            </ul>
          )}
        </div>
      )}
      {problem && (
        <p class="error small" role="alert" data-testid="conversation-problem">
          {problem}
        </p>
      )}
      <ErrorNote error={error} />
      <p class="visually-hidden" role="status">
        {announcement}
      </p>
    </div>
  );
}

function ConversationRow({
  conversation,
  current,
  busy,
  onSelect,
  onChanged,
  onProblem,
}: {
  conversation: Conversation;
  current: boolean;
  busy: boolean;
  onSelect: (conversation: Conversation) => void;
  onChanged: (change: ConversationChange, sentence: string, keepFocus?: boolean) => Promise<void>;
  onProblem: (message: string) => void;
}) {
  const [mode, setMode] = useState<"view" | "rename" | "delete">("view");
  const [title, setTitle] = useState(conversation.title);
  const [working, setWorking] = useState(false);
  const renameButton = useRef<HTMLButtonElement>(null);
  const titleField = useRef<HTMLInputElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  const url = `builder/conversations/${conversation.id}/`;
  // Actions show on the conversation shown in the chat, and on every archived one.
  const actions = current || conversation.archived;

  // Focus follows the row: into the field or the confirmation, and back to the row's first action —
  // in the same commit that shows them (a layout effect), so a key pressed at once lands there.
  useLayoutEffect(() => {
    if (mode === "rename") titleField.current?.select();
    else if (mode === "delete") deleteButton.current?.focus();
    else if (returnFocus.current) {
      returnFocus.current = false;
      renameButton.current?.focus();
    }
  }, [mode]);

  const back = () => {
    returnFocus.current = true;
    setMode("view");
  };

  const act = async (what: string, run: () => Promise<void>) => {
    setWorking(true);
    onProblem("");
    try {
      await run();
    } catch (caught) {
      onProblem(`Could not ${what} ${nameOf(conversation)}: ${problemOf(caught)}`);
      if (mode !== "view") back();
    } finally {
      setWorking(false);
    }
  };

  const rename = (event: Event) => {
    event.preventDefault();
    void act("rename", async () => {
      const renamed = await api<Conversation>(url, { method: "PATCH", json: { title: title.trim() } });
      back();
      await onChanged({ kind: "renamed", conversation: renamed }, `Renamed to ${nameOf(renamed)}.`, true);
    });
  };

  const archive = (archived: boolean) =>
    act(archived ? "archive" : "unarchive", async () => {
      const updated = await api<Conversation>(url, { method: "PATCH", json: { archived } });
      await onChanged(
        { kind: archived ? "archived" : "unarchived", conversation: updated },
        archived ? `Archived ${nameOf(updated)}.` : `Unarchived ${nameOf(updated)}.`,
      );
    });

  const remove = () =>
    act("delete", async () => {
      await api(url, { method: "DELETE" });
      await onChanged({ kind: "deleted", conversation }, `Deleted ${nameOf(conversation)}.`);
    });

  const label = titleOf(conversation);
  // What its buttons are called after: the title, or "untitled conversation".
  const named = conversation.title.trim() || "untitled conversation";
  const inputId = `title-${conversation.id}`;
  return (
    <li class={`conversation${current ? " current" : ""}`} data-conversation={conversation.id}>
      {mode === "rename" ? (
        <form class="rename" onSubmit={rename}>
          <label for={inputId} class="small">
            New title
          </label>
          <input
            id={inputId}
            value={title}
            maxLength={200}
            placeholder={UNTITLED}
            ref={titleField}
            onInput={(e) => setTitle(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.preventDefault();
                back();
              }
            }}
          />
          <div class="row">
            <button class="primary compact" type="submit" disabled={working}>
              Save
            </button>
            <button type="button" class="compact" onClick={back}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <button
            type="button"
            class="open"
            aria-current={current ? "true" : undefined}
            onClick={() => onSelect(conversation)}
          >
            <span class={conversation.title.trim() ? "title" : "title untitled"}>{label}</span>
            {!conversation.title.trim() && <span class="visually-hidden"> (untitled)</span>}
            {busy && <span class="pill running">running</span>}
          </button>
          {mode === "delete" ? (
            <div
              class="confirm"
              role="group"
              aria-label={`Delete ${named}?`}
              onKeyDown={(e) => {
                if (e.key === "Escape") {
                  e.preventDefault();
                  back();
                }
              }}
            >
              <span class="small">Delete this conversation and its messages? The revisions its runs made stay.</span>
              <div class="row">
                <button type="button" class="danger compact" ref={deleteButton} onClick={remove} disabled={working}>
                  Delete
                </button>
                <button type="button" class="compact" onClick={back}>
                  Keep it
                </button>
              </div>
            </div>
          ) : (
            actions && (
              <div class="row actions">
                {!conversation.archived && (
                  <button
                    type="button"
                    class="compact"
                    ref={renameButton}
                    aria-label={`Rename ${named}`}
                    onClick={() => {
                      setTitle(conversation.title);
                      onProblem("");
                      setMode("rename");
                    }}
                  >
                    Rename
                  </button>
                )}
                <button
                  type="button"
                  class="compact"
                  ref={conversation.archived ? renameButton : undefined}
                  aria-label={`${conversation.archived ? "Unarchive" : "Archive"} ${named}`}
                  disabled={working}
                  onClick={() => archive(!conversation.archived)}
                >
                  {conversation.archived ? "Unarchive" : "Archive"}
                </button>
                <button
                  type="button"
                  class="compact danger"
                  aria-label={`Delete ${named}`}
                  onClick={() => {
                    onProblem("");
                    setMode("delete");
                  }}
                >
                  Delete
                </button>
              </div>
            )
          )}
        </>
      )}
    </li>
  );
}
