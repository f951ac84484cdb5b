/**
 * A generation's live events through the browser's own EventSource, which cannot send the
 * Authorization header: each connection opens with a single-use stream ticket instead.
 */

import { api, ApiError, TERMINAL } from "./api";

export type StreamEvent = { id: string; event: string; data: any };

type StreamTicket = { ticket: string; expires_at: string; events_url: string };

// EventSource hands a named event only to the listeners of its name: these are the run's events.
const EVENT_TYPES = ["status", "text", "tool_call", "tool_result", "file_changed", "plan", "usage", ...TERMINAL];

export type StreamHandlers = {
  onEvent: (event: StreamEvent) => void;
  onState?: (state: "connecting" | "open" | "reconnecting" | "closed") => void;
};

/**
 * Follows one generation's events until its terminal event. A ticket opens one stream only, so
 * when the connection drops this asks for a new ticket and opens a new stream after the last
 * event seen (`last_event_id`): no loss, no repeats. Returns a function that stops it.
 */
export function followGeneration(generationId: string, handlers: StreamHandlers): () => void {
  let lastId = "";
  let stopped = false;
  let source: EventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const stop = () => {
    stopped = true;
    clearTimeout(retry);
    source?.close();
    source = null;
  };

  const later = (attempt: number) => {
    if (stopped) return;
    retry = setTimeout(() => void connect(attempt + 1), Math.min(5000, 500 * 2 ** attempt));
  };

  const connect = async (attempt: number): Promise<void> => {
    handlers.onState?.(attempt === 0 ? "connecting" : "reconnecting");
    let ticket: StreamTicket;
    try {
      ticket = await api<StreamTicket>(`builder/generations/${generationId}/events/ticket/`, { method: "POST" });
    } catch (error) {
      if (stopped) return;
      // A missing generation or an ended session will not come back; anything else is worth another try.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
        stop();
        handlers.onState?.("closed");
        return;
      }
      return later(attempt);
    }
    if (stopped) return;
    const opened = new EventSource(
      lastId ? `${ticket.events_url}&last_event_id=${encodeURIComponent(lastId)}` : ticket.events_url,
    );
    source = opened;
    opened.onopen = () => {
      attempt = 0;
      handlers.onState?.("open");
    };
    const deliver = (message: MessageEvent<string>) => {
      if (source !== opened) return;
      if (message.lastEventId) lastId = message.lastEventId;
      let data: unknown = message.data;
      try {
        data = JSON.parse(message.data);
      } catch {
        // Not JSON: hand over the text.
      }
      handlers.onEvent({ id: message.lastEventId, event: message.type, data });
      if (TERMINAL.has(message.type)) {
        // The stream ends here: closed now, before EventSource would try to reopen it.
        stop();
        handlers.onState?.("closed");
      }
    };
    for (const type of EVENT_TYPES) opened.addEventListener(type, deliver as EventListener);
    opened.onerror = () => {
      if (source !== opened) return;
      // EventSource would reconnect with the spent ticket and be refused: a new ticket instead.
      opened.close();
      source = null;
      later(attempt);
    };
  };

  void connect(0);
  return stop;
}
