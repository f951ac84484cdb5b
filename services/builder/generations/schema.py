"""OpenAPI for the event stream: an async Django view that drf-spectacular cannot see on its own."""

EVENTS_PATH = "/api/v1/builder/generations/{generation_id}/events/"

EVENT_TYPES = (
    "status: {status, retrying?} — queued, running (retrying: the model's answer broke off and is redone)\n"
    "text: {delta} — the model's words, coalesced\n"
    "tool_call: {id, name, arguments: {path?, from_path?, to_path?, pattern?}}\n"
    "tool_result: {id, name, ok, message}\n"
    "file_changed: {path, action: created|modified|deleted|renamed, from_path?}\n"
    "plan: {steps: [string]} — the model's plan for the run (its set_plan tool); a later plan replaces it\n"
    "usage: {input_tokens, output_tokens, cost}\n"
    "done | no_changes | needs_input | failed | cancelled | conflict | budget_exhausted | incomplete:"
    " {status, cost, revision, summary, error?} — the last event; `no_changes`: a build that changed no"
    " file (the summary is the model's answer); `needs_input`: the model asked the user a question (the"
    " summary; what it changed before asking is landed as `revision`) and the answer is the conversation's"
    " next prompt; `incomplete`: the answer stopped before it was whole"
    " (error.code output_limit, content_filtered or unexpected_finish; error.details.partial_text holds"
    " what had arrived); `done` adds `publication: {sites: [{id, slug, url, live_revision, status}]}` (the"
    " project's sites and the revision each serves), `published_revision` (the newest revision a live site"
    " serves, or null) and `revision_is_live` (false after a build: a new revision is live only once"
    " published)"
)


def add_event_stream(result, generator, request, public):
    # The internal document (no public path) drops the stream later; it gets no ticket scheme either.
    public_document = any(path.startswith("/api/") for path in result["paths"])
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    result["paths"][EVENTS_PATH] = {
        "get": {
            "operationId": "builder_generations_events_retrieve",
            "summary": "The generation's events as Server-Sent Events; resumes after Last-Event-ID",
            "description": (
                "Each event has `id` (its sequence number), `event` (its type) and JSON `data`. "
                "Send `Last-Event-ID` (or `?last_event_id=`) to resume without loss or repeats; a "
                "finished run replays in full. Comments (`: keep-alive`) keep proxies open. The "
                "stream ends after the terminal event. A browser's EventSource, which cannot send the "
                "Authorization header, opens the `events_url` of a stream ticket (`POST "
                f"{EVENTS_PATH}ticket/`) instead: `?ticket=` is accepted here only, once, within 60 s; a "
                "spent, expired, unknown or other generation's ticket is a 401 `invalid_ticket`. To "
                f"reconnect, ask for a new ticket and add `&last_event_id=`.\n\n{EVENT_TYPES}"
            ),
            "tags": ["builder"],
            "parameters": [
                {
                    "name": "generation_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                },
                {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer"}},
                {"name": "last_event_id", "in": "query", "required": False, "schema": {"type": "integer"}},
            ],
            # Either the access token or a stream ticket (the `ticket` query parameter).
            "security": [{"bearerAuth": []}, {"streamTicket": []}],
            "responses": {
                "200": {
                    "description": "An event stream.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "401": {"description": "Missing, invalid, expired or revoked credentials.", "content": error},
                "404": {"description": "Not found (also for another user's generation).", "content": error},
            },
        }
    }
    if not public_document:
        return result
    result["components"].setdefault("securitySchemes", {})["streamTicket"] = {
        "type": "apiKey",
        "in": "query",
        "name": "ticket",
        "description": f"A stream ticket from `POST {EVENTS_PATH}ticket/`: one generation's events, "
        "once, within 60 s.",
    }
    return result
