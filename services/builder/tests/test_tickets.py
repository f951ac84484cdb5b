"""Stream tickets: a browser's one-time, one-generation, short-lived way into a run's events."""

import hashlib
import json
import logging
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.utils import timezone

from catalog.registry import catalog_sync
from generations import tickets
from generations.events import event_append
from generations.models import Generation, StreamTicket
from oasis_common.testing import user_token

BASE = "/api/v1/builder"


@pytest.fixture
def generation(transactional_db, user_id):
    """A finished run of the caller's: its stream replays and ends at once."""
    generation = Generation.objects.create(
        user_id=user_id, project_id=uuid.uuid4(), model=catalog_sync()[0], prompt="a site", ceiling=10
    )
    for kind, data in (
        ("status", {"status": "running"}),
        ("text", {"delta": "Building"}),
        ("file_changed", {"path": "index.html", "action": "created"}),
        ("done", {"status": "done", "cost": 1, "revision": 1, "summary": "Built it."}),
    ):
        event_append(generation_id=generation.id, type=kind, data=data)
    return generation


@pytest.fixture
def other_generation(transactional_db, user_id):
    return Generation.objects.create(
        user_id=user_id, project_id=uuid.uuid4(), model=catalog_sync()[0], prompt="another", ceiling=10
    )


def issue(api, generation) -> dict:
    response = api.post(f"{BASE}/generations/{generation.id}/events/ticket/")
    assert response.status_code == 201, response.content
    return response.json()


async def _open(url: str, headers: dict) -> tuple[int, str]:
    response = await AsyncClient().get(url, headers=headers)
    if not response.streaming:
        return response.status_code, response.content.decode()
    chunks = [chunk async for chunk in response.streaming_content]
    return response.status_code, "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)


def open_stream(url: str, headers: dict | None = None) -> tuple[int, str]:
    return async_to_sync(_open)(url, headers or {})


def event_ids(raw: str) -> list[int]:
    return [int(line.removeprefix("id: ")) for line in raw.splitlines() if line.startswith("id: ")]


def refused(status: int, raw: str, code: str = "invalid_ticket") -> bool:
    error = json.loads(raw)["error"]
    envelope = {"code", "message", "details", "request_id"}
    return status == 401 and error["code"] == code and set(error) == envelope


# ---- issuing ----


def test_a_ticket_is_issued_for_the_callers_generation_and_only_its_hash_is_kept(api, generation, user_id):
    before = timezone.now()

    response = api.post(f"{BASE}/generations/{generation.id}/events/ticket/")

    body = response.json()
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    assert set(body) == {"ticket", "expires_at", "events_url"}
    assert len(body["ticket"]) >= 40
    assert body["events_url"] == f"{BASE}/generations/{generation.id}/events/?ticket={body['ticket']}"
    expires_at = timezone.datetime.fromisoformat(body["expires_at"])
    assert timedelta(seconds=59) <= expires_at - before <= timedelta(seconds=61)
    stored = StreamTicket.objects.get()
    assert stored.hash == hashlib.sha256(body["ticket"].encode()).hexdigest()
    assert (stored.generation_id, stored.user_id, stored.used_at) == (generation.id, user_id, None)
    assert body["ticket"] not in json.dumps(list(StreamTicket.objects.values()), default=str)


def test_each_ticket_is_new(api, generation):
    assert issue(api, generation)["ticket"] != issue(api, generation)["ticket"]


def test_another_users_generation_gets_no_ticket(other_api, generation):
    response = other_api.post(f"{BASE}/generations/{generation.id}/events/ticket/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not StreamTicket.objects.exists()


def test_a_ticket_needs_an_access_token(client, generation):
    response = client.post(f"{BASE}/generations/{generation.id}/events/ticket/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not StreamTicket.objects.exists()


def test_issuing_a_ticket_forgets_the_expired_ones(api, generation):
    issue(api, generation)
    StreamTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    issue(api, generation)

    assert StreamTicket.objects.count() == 1


def test_issuing_takes_a_few_queries(api, generation, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        issue(api, generation)


# ---- opening the stream with one ----


def test_a_ticket_opens_the_stream_without_a_header(api, generation):
    url = issue(api, generation)["events_url"]

    status, raw = open_stream(url)

    assert status == 200
    assert event_ids(raw) == [1, 2, 3, 4]
    assert "event: done" in raw
    assert StreamTicket.objects.get().used_at is not None


def test_a_ticket_resumes_after_last_event_id(api, generation):
    url = issue(api, generation)["events_url"]

    _, raw = open_stream(f"{url}&last_event_id=2")

    assert event_ids(raw) == [3, 4]


def test_a_ticket_opens_one_stream_only(api, generation):
    url = issue(api, generation)["events_url"]
    open_stream(url)

    assert refused(*open_stream(url))


def test_an_expired_ticket_is_refused(api, generation):
    url = issue(api, generation)["events_url"]
    StreamTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert refused(*open_stream(url))


def test_a_ticket_for_another_generation_is_refused_and_not_spent(api, generation, other_generation):
    ticket = issue(api, generation)["ticket"]

    assert refused(*open_stream(f"{BASE}/generations/{other_generation.id}/events/?ticket={ticket}"))
    assert StreamTicket.objects.get().used_at is None
    assert open_stream(f"{BASE}/generations/{generation.id}/events/?ticket={ticket}")[0] == 200


@pytest.mark.parametrize("ticket", ["made-up", "x" * 43, hashlib.sha256(b"x").hexdigest()])
def test_an_unknown_ticket_is_refused(generation, ticket):
    status, raw = open_stream(f"{BASE}/generations/{generation.id}/events/?ticket={ticket}")

    assert refused(status, raw)


def test_the_stored_hash_is_not_a_ticket(api, generation):
    issue(api, generation)
    digest = StreamTicket.objects.get().hash

    assert refused(*open_stream(f"{BASE}/generations/{generation.id}/events/?ticket={digest}"))


def test_a_refused_ticket_names_the_scheme_that_would_be_accepted(generation):
    response = async_to_sync(AsyncClient().get)(f"{BASE}/generations/{generation.id}/events/?ticket=nope")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_access_token_still_opens_the_stream_and_leaves_a_ticket_alone(api, generation, user_id):
    url = issue(api, generation)["events_url"]

    status, raw = open_stream(url, {"Authorization": f"Bearer {user_token(user_id)}"})

    assert status == 200
    assert event_ids(raw) == [1, 2, 3, 4]
    assert StreamTicket.objects.get().used_at is None


def test_without_a_token_or_a_ticket_the_stream_is_refused(generation):
    status, raw = open_stream(f"{BASE}/generations/{generation.id}/events/?ticket=")

    assert refused(status, raw, "not_authenticated")


def test_redeeming_takes_two_queries(api, generation, django_assert_num_queries):
    ticket = issue(api, generation)["ticket"]

    with django_assert_num_queries(2):
        assert tickets.ticket_redeem(ticket=ticket, generation_id=generation.id) == str(generation.user_id)


def test_of_two_redemptions_only_one_succeeds(api, generation):
    ticket = issue(api, generation)["ticket"]

    tickets.ticket_redeem(ticket=ticket, generation_id=generation.id)
    with pytest.raises(tickets.InvalidTicket):
        tickets.ticket_redeem(ticket=ticket, generation_id=generation.id)


def test_the_ticket_is_never_logged(api, generation, caplog):
    caplog.set_level(logging.DEBUG)
    issued = issue(api, generation)
    open_stream(issued["events_url"])
    open_stream(issued["events_url"])  # refused, and logged as such

    requests = [record for record in caplog.records if record.name == "oasis.requests"]
    assert {record.path for record in requests} == {
        f"{BASE}/generations/{generation.id}/events/ticket/",
        f"{BASE}/generations/{generation.id}/events/",
    }
    for record in caplog.records:
        assert issued["ticket"] not in record.getMessage()
        assert issued["ticket"] not in json.dumps(vars(record), default=str)
