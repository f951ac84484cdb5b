"""Stream tickets through the real gateway: how a browser's EventSource, without a header, follows a run."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.e2e.conftest import bearer, register, sign_in
from tests.e2e.system import SERVICES, TERMINAL_STATUSES

pytestmark = pytest.mark.skipif("builder" not in SERVICES, reason="the builder service is not started")

BUILDER = "/api/v1/builder/"
TERMINAL = TERMINAL_STATUSES


@pytest.fixture
def auth(account) -> dict:
    return bearer(account["access"])


@pytest.fixture
def generation(gateway, auth) -> dict:
    project = gateway.post("/api/v1/projects/", json={"name": f"Site {uuid.uuid4().hex[:8]}"}, headers=auth)
    assert project.status_code == 201, project.text
    response = gateway.post(
        f"{BUILDER}projects/{project.json()['id']}/generations/",
        json={"prompt": "A bakery in Lisbon called Crumb"},
        headers=auth,
    )
    assert response.status_code == 202, response.text
    return response.json()


def ticket_for(gateway, auth, generation_id: str) -> dict:
    response = gateway.post(f"{BUILDER}generations/{generation_id}/events/ticket/", headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def events_of(gateway, url: str, request_id: str | None = None) -> list[dict]:
    """What a stream opened without a token sends, to its end: each event's id and type."""
    headers = {"Accept": "text/event-stream", **({"X-Request-ID": request_id} if request_id else {})}
    with gateway.get(url, headers=headers, stream=True) as response:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events, fields = [], {}
        for line in response.iter_lines(decode_unicode=True):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.strip()
            elif not line and "event" in fields:
                events.append({"id": int(fields["id"]), "type": fields["event"]})
                fields = {}
        return events


def refused(response, code: str = "invalid_ticket") -> bool:
    return response.status_code == 401 and response.json()["error"]["code"] == code


def logged_line(system, request_id: str) -> dict:
    """The gateway's access log line of one request (nginx writes it just after answering)."""
    path = system.root / "gateway" / "access.log"
    for _ in range(100):
        found = [json.loads(line) for line in path.read_text().splitlines() if request_id in line]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"{request_id} was not logged by the gateway")


def test_a_ticket_streams_the_run_without_a_token_once(gateway, auth, generation):
    ticket = ticket_for(gateway, auth, generation["id"])

    events = events_of(gateway, ticket["events_url"])

    assert events[-1]["type"] in TERMINAL
    assert [event["id"] for event in events] == list(range(1, len(events) + 1))
    assert refused(gateway.get(ticket["events_url"], headers={"Accept": "text/event-stream"}))


def test_a_new_ticket_resumes_after_the_last_event_seen(gateway, auth, generation):
    everything = events_of(gateway, ticket_for(gateway, auth, generation["id"])["events_url"])

    rest = events_of(gateway, f"{ticket_for(gateway, auth, generation['id'])['events_url']}&last_event_id=2")

    assert rest == everything[2:]


def test_a_ticket_opens_nothing_but_its_own_generations_events(gateway, auth, generation):
    ticket = ticket_for(gateway, auth, generation["id"])
    other = uuid.uuid4()

    assert refused(gateway.get(f"{BUILDER}generations/{other}/events/?ticket={ticket['ticket']}"))
    # Elsewhere the gateway wants a token, ticket or not.
    for path in (f"generations/{generation['id']}/", f"generations/{generation['id']}/events/ticket/"):
        response = gateway.get(f"{BUILDER}{path}?ticket={ticket['ticket']}")
        assert refused(response, "not_authenticated"), response.text
    # Still unspent, and still good for its own stream.
    assert events_of(gateway, ticket["events_url"])[-1]["type"] in TERMINAL


def test_another_users_generation_gets_no_ticket(gateway, generation):
    other = register(gateway)
    theirs = bearer(sign_in(gateway, other["email"])["access"])

    response = gateway.post(f"{BUILDER}generations/{generation['id']}/events/ticket/", headers=theirs)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert refused(
        gateway.post(f"{BUILDER}generations/{generation['id']}/events/ticket/"), "not_authenticated"
    )


def test_the_ticket_is_in_no_log(system, gateway, auth, generation):
    ticket = ticket_for(gateway, auth, generation["id"])
    request_id = f"ticket-{uuid.uuid4().hex}"

    events_of(gateway, ticket["events_url"], request_id)
    gateway.get(ticket["events_url"], headers={"X-Request-ID": f"{request_id}-again"})

    line = logged_line(system, request_id)
    assert line["uri"] == f"{BUILDER}generations/{generation['id']}/events/?[redacted]"
    assert line["status"] == 200
    assert logged_line(system, f"{request_id}-again")["status"] == 401
    assert ticket["ticket"] not in (system.root / "gateway" / "access.log").read_text()
    assert ticket["ticket"] not in (system.logs / "builder.log").read_text()
    assert ticket["ticket"] not in (system.logs / "gateway.log").read_text()
