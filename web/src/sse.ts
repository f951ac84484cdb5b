/** Server-Sent Events over fetch(): EventSource cannot send the Authorization header. */

import { API, session, TERMINAL } from "./api";

export type StreamEvent = { id: string; event: string; data: any };

/** Splits a text/event-stream into events, as the WHATWG parser does (LF, CR or CRLF lines). */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id = "";

  constructor(private emit: (event: StreamEvent) => void) {}

  feed(chunk: string) {
    this.buffer += chunk;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    // A trailing CR may be the first half of CRLF: keep it with the unfinished line.
    this.buffer = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  private line(line: string) {
    if (line === "") {
      if (this.data.length) {
        const text = this.data.join("\n");
        let data: unknown = text;
        try {
          data = JSON.parse(text);
        } catch {
          // Not JSON: hand over the text.
        }
        this.emit({ id: this.id, event: this.event || "message", data });
      }
      this.data = [];
      this.event = "";
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
  }
}

class StreamRefused extends Error {
  constructor(public status: number) {
    super(`The event stream answered ${status}.`);
  }
}

export type StreamHandlers = {
  onEvent: (event: StreamEvent) => void;
  onState?: (state: "connecting" | "open" | "reconnecting" | "closed") => void;
};

/**
 * Follows one generation's events until its terminal event, reconnecting with Last-Event-ID
 * (no loss, no repeats) when the connection drops. Returns a function that stops it.
 */
export function followGeneration(generationId: string, handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  let lastId = "";
  let finished = false;

  const connect = async (attempt: number): Promise<void> => {
    handlers.onState?.(attempt === 0 ? "connecting" : "reconnecting");
    try {
      let token = await session.token();
      const open = () =>
        fetch(`${API}/builder/generations/${generationId}/events/`, {
          headers: {
            Accept: "text/event-stream",
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
            ...(lastId ? { "Last-Event-ID": lastId } : {}),
          },
          signal: controller.signal,
          cache: "no-store",
        });
      let response = await open();
      if (response.status === 401 && (await session.refresh())) {
        token = await session.token();
        response = await open();
      }
      if (!response.ok || !response.body) throw new StreamRefused(response.status);
      handlers.onState?.("open");
      attempt = 0;
      const parser = new SseParser((event) => {
        if (event.id) lastId = event.id;
        handlers.onEvent(event);
        if (TERMINAL.has(event.event)) finished = true;
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
        if (finished) {
          await reader.cancel().catch(() => undefined);
          break;
        }
      }
      if (finished) {
        handlers.onState?.("closed");
        return;
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      // A missing or forbidden generation will not come back; anything else is worth another try.
      if (error instanceof StreamRefused && error.status >= 400 && error.status < 500 && error.status !== 429) {
        handlers.onState?.("closed");
        return;
      }
    }
    if (controller.signal.aborted || finished) return;
    const delay = Math.min(5000, 500 * 2 ** attempt);
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (!controller.signal.aborted) return connect(attempt + 1);
  };

  void connect(0);
  return () => controller.abort();
}
