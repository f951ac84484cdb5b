"""Starting, reading, listing, estimating and cancelling generations through the API."""

import time
import uuid

import pytest
from django.db import connection

from generations import admission
from generations.models import Event, Generation, Message, Status
from tests.conftest import client_for

BASE = "/api/v1/builder"


@pytest.fixture
def setup(demo_catalog, fakes, user_id):
    projects, payments = fakes
    return projects, payments, projects.add(user_id)


def post(client, project_id, **body):
    body.setdefault("prompt", "a portfolio for a ceramicist")
    return client.post(f"{BASE}/projects/{project_id}/generations/", body, format="json")


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_a_generation_is_accepted_with_its_ceiling_held(api, setup, user_id):
    _, payments, project_id = setup

    response = post(api, project_id)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["model"] == "oasis-demo"
    assert body["mode"] == "build"
    assert body["events_url"] == f"{BASE}/generations/{body['id']}/events/"
    assert response["Location"] == body["events_url"]
    hold = payments.hold_for(body["id"])
    assert hold["amount"] == body["ceiling"] > 0
    assert hold["user_id"] == str(user_id)
    assert Message.objects.filter(generation_id=body["id"], role="user").count() == 1
    assert list(Event.objects.filter(generation_id=body["id"]).values_list("type", flat=True)) == ["status"]


def test_max_credits_caps_the_ceiling(api, setup):
    _, payments, project_id = setup

    body = post(api, project_id, max_credits=7).json()

    assert body["ceiling"] == 7
    assert body["max_credits"] == 7
    assert payments.hold_for(body["id"])["amount"] == 7


def test_too_few_credits_is_402_with_the_available_balance_and_no_run(api, setup, user_id):
    _, payments, project_id = setup
    payments.balances[str(user_id)] = 3

    response = post(api, project_id)

    assert response.status_code == 402
    assert error_code(response) == "insufficient_credits"
    assert response.json()["error"]["details"]["available"] == 3
    assert not Generation.objects.exists()
    assert not Message.objects.exists()


def test_a_second_build_of_the_same_project_is_refused(api, setup):
    _, payments, project_id = setup
    post(api, project_id)

    response = post(api, project_id)

    assert response.status_code == 409
    assert error_code(response) == "build_in_progress"
    assert Generation.objects.count() == 1
    assert len(payments.holds) == 1


def test_chat_runs_alongside_a_build(api, setup):
    _, _, project_id = setup
    post(api, project_id)

    assert post(api, project_id, mode="chat", prompt="what is on my page?").status_code == 202


def test_the_per_user_limit_on_running_generations(api, fakes, demo_catalog, user_id, settings):
    settings.OASIS = {**settings.OASIS, "MAX_RUNNING_PER_USER": 2}
    projects, _ = fakes
    for _ in range(2):
        assert post(api, projects.add(user_id)).status_code == 202

    response = post(api, projects.add(user_id))

    assert response.status_code == 429
    assert error_code(response) == "too_many_generations"


def test_a_builder_with_too_many_runs_waiting_refuses_at_once_with_retry_after(
    api, fakes, demo_catalog, user_id, settings, other_user_id
):
    settings.OASIS = {**settings.OASIS, "MAX_QUEUED": 2, "MAX_RUNNING_PER_USER": 10}
    projects, payments = fakes
    # Queued runs of anyone count: the queue is the builder's, not a user's.
    assert post(client_for(other_user_id), projects.add(other_user_id)).status_code == 202
    assert post(api, projects.add(user_id)).status_code == 202
    holds = len(payments.holds)

    response = post(api, projects.add(user_id))

    assert response.status_code == 429
    assert error_code(response) == "builder_busy"
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["details"] == {"queued_limit": 2}
    assert Generation.objects.count() == 2
    assert len(payments.holds) == holds

    # Runs a worker has picked up no longer wait: room again.
    Generation.objects.filter(status=Status.QUEUED).update(status=Status.RUNNING)
    assert post(api, projects.add(user_id)).status_code == 202


def test_a_process_starting_as_many_runs_as_it_may_refuses_one_more_after_a_short_wait(
    api, fakes, demo_catalog, user_id, settings, monkeypatch
):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 1}
    monkeypatch.setattr(admission, "START_WAIT_SECONDS", 0.05)
    projects, payments = fakes
    slot = admission._slots(1)
    assert slot.acquire(timeout=1)  # another request of this process is starting a run
    try:
        response = post(api, projects.add(user_id))
    finally:
        slot.release()

    assert response.status_code == 429
    assert error_code(response) == "builder_busy"
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["details"] == {"starting_limit": 1}
    assert not Generation.objects.exists()
    assert not payments.holds
    # Its turn given back, the next start goes through (and gives its own back).
    assert post(api, projects.add(user_id)).status_code == 202
    assert post(api, projects.add(user_id)).status_code == 202


def test_a_refused_start_gives_its_turn_back(api, other_api, fakes, demo_catalog, user_id, settings):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 1}
    projects, _ = fakes
    project_id = projects.add(user_id)

    assert post(other_api, project_id).status_code == 404
    assert post(api, project_id, prompt="").status_code == 400
    assert post(api, project_id).status_code == 202
    assert admission._slots(1).acquire(blocking=False)
    admission._slots(1).release()


def test_no_limit_on_waiting_runs_when_it_is_zero(api, fakes, demo_catalog, user_id, settings):
    settings.OASIS = {**settings.OASIS, "MAX_QUEUED": 0, "MAX_RUNNING_PER_USER": 10}
    projects, _ = fakes

    assert all(post(api, projects.add(user_id)).status_code == 202 for _ in range(3))


def test_another_users_project_is_404_and_nothing_is_held(other_api, setup):
    _, payments, project_id = setup

    response = post(other_api, project_id)

    assert response.status_code == 404
    assert not payments.holds
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 8001}, "prompt"),
        ({"prompt": "nul \x00"}, "prompt"),
        ({"prompt": ["a", "list"]}, "prompt"),
        ({"prompt": {"an": "object"}}, "prompt"),
        ({"prompt": "hi", "mode": "deploy"}, "mode"),
        ({"prompt": "hi", "max_credits": 0}, "max_credits"),
        ({"prompt": "hi", "max_credits": "lots"}, "max_credits"),
        ({"prompt": "hi", "model": "not a slug!"}, "model"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(api, setup, body, field):
    _, payments, project_id = setup

    response = api.post(f"{BASE}/projects/{project_id}/generations/", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    if field:
        assert field in response.json()["error"]["details"]
    assert not payments.holds


def test_an_unknown_model_is_refused(api, setup):
    _, _, project_id = setup

    response = post(api, project_id, model="gpt-17")

    assert response.status_code == 400
    assert error_code(response) == "unknown_model"


def test_max_credits_below_one_step_is_refused(api, setup):
    _, _, project_id = setup

    response = post(api, project_id, max_credits=1)

    assert response.status_code == 400
    assert error_code(response) == "max_credits_too_low"


def test_payments_down_is_a_503_and_nothing_is_left_behind(api, setup):
    _, payments, project_id = setup
    payments.down = True

    response = post(api, project_id)

    assert response.status_code == 503
    assert error_code(response) == "service_unavailable"
    assert not Generation.objects.exists()


def holds_once_given_back(payments, seconds=5.0) -> list[str]:
    """The statuses of the holds made, once there is one and none is open (or `seconds` passed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with payments.lock:
            statuses = [hold["status"] for hold in payments.holds.values()]
        if statuses and "open" not in statuses:
            break
        time.sleep(0.02)
    return statuses


def test_a_hold_made_whose_answer_was_lost_is_given_back_and_the_start_is_a_503(api, setup, user_id):
    _, payments, project_id = setup
    payments.answers_lost = 1

    response = post(api, project_id)

    assert response.status_code == 503
    assert error_code(response) == "service_unavailable"
    assert not Generation.objects.exists()
    # Payments made the hold; asked again by its key, it answers with that hold, which is released.
    assert holds_once_given_back(payments) == ["released"]
    assert payments.available(user_id) == 2000


def test_a_hold_request_that_never_arrived_leaves_nothing_held_either(api, setup, user_id):
    _, payments, project_id = setup
    payments.requests_lost = 1

    response = post(api, project_id)

    assert response.status_code == 503
    # Asked again by its key, payments makes the hold only now, and it is released at once.
    assert holds_once_given_back(payments) == ["released"]
    assert payments.available(user_id) == 2000


def test_a_start_payments_answered_with_a_5xx_is_not_asked_again(api, setup):
    _, payments, project_id = setup
    payments.down = True

    assert post(api, project_id).status_code == 503
    payments.down = False
    time.sleep(0.3)
    # A 5xx stores nothing at payments and makes no hold: there is nothing to give back.
    assert payments.holds == {}


def test_without_a_token_it_is_401(client, setup):
    _, _, project_id = setup

    response = client.post(
        f"{BASE}/projects/{project_id}/generations/", {"prompt": "x"}, content_type="application/json"
    )

    assert response.status_code == 401


def test_read_list_and_another_users_generation(api, other_api, setup, user_id):
    _, _, project_id = setup
    created = post(api, project_id).json()

    mine = api.get(f"{BASE}/generations/{created['id']}/")
    listed = api.get(f"{BASE}/projects/{project_id}/generations/")
    theirs = other_api.get(f"{BASE}/generations/{created['id']}/")
    their_list = other_api.get(f"{BASE}/projects/{project_id}/generations/")

    assert mine.status_code == 200
    assert mine.json()["id"] == created["id"]
    assert listed.json()["count"] == 1
    assert theirs.status_code == 404
    assert their_list.status_code == 404
    assert api.get(f"{BASE}/generations/{uuid.uuid4()}/").status_code == 404


def test_listing_takes_a_constant_number_of_queries(api, setup, django_assert_num_queries, fakes, user_id):
    _, _, project_id = setup
    for n in range(3):
        post(api, project_id, mode="chat", prompt=f"question {n}")

    with django_assert_num_queries(2):
        response = api.get(f"{BASE}/projects/{project_id}/generations/")

    assert response.json()["count"] == 3


def test_a_start_takes_a_fixed_number_of_queries(api, setup, django_assert_num_queries):
    _, _, project_id = setup
    post(api, project_id, mode="chat", prompt="a first question")  # the caller's row exists from here

    # Reads: waiting runs, the model, the conversation and its history. The insert's transaction: the
    # caller's row lock, their running runs, the conversation (read, touched), the run. The queueing
    # transaction: the hold's id, the prompt, the first event. (Transactions are savepoints in a test.)
    # On PostgreSQL the event is one statement; elsewhere a locked read, an update and an insert in a
    # transaction of their own.
    with django_assert_num_queries(16 if connection.vendor == "postgresql" else 20):
        response = post(api, project_id, mode="chat", prompt="a second question")

    assert response.status_code == 202


def test_cancelling_a_queued_generation_releases_its_hold(api, setup):
    _, payments, project_id = setup
    created = post(api, project_id).json()

    response = api.post(f"{BASE}/generations/{created['id']}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert payments.hold_for(created["id"])["status"] == "released"
    generation = Generation.objects.get(pk=created["id"])
    assert generation.settled
    assert generation.cost == 0
    assert Event.objects.filter(generation=generation).last().type == "cancelled"
    # Cancelling again is harmless.
    assert api.post(f"{BASE}/generations/{created['id']}/cancel/").json()["status"] == "cancelled"


def test_cancelling_a_running_generation_asks_it_to_stop(api, setup):
    _, payments, project_id = setup
    created = post(api, project_id).json()
    Generation.objects.filter(pk=created["id"]).update(status=Status.RUNNING)

    response = api.post(f"{BASE}/generations/{created['id']}/cancel/")

    assert response.json()["status"] == "running"
    assert response.json()["cancel_requested"] is True
    assert payments.hold_for(created["id"])["status"] == "open"


def test_another_user_cannot_cancel(api, other_api, setup):
    _, _, project_id = setup
    created = post(api, project_id).json()

    assert other_api.post(f"{BASE}/generations/{created['id']}/cancel/").status_code == 404
    assert Generation.objects.get(pk=created["id"]).status == Status.QUEUED


def test_estimate_gives_the_ceiling_without_holding_anything(api, setup):
    _, payments, project_id = setup

    response = api.post(
        f"{BASE}/estimate/", {"project_id": project_id, "prompt": "a bakery site"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "oasis-demo"
    assert body["input_tokens"] > 0
    assert body["ceiling"] > 0
    assert not payments.holds
    created = post(api, project_id, prompt="a bakery site").json()
    assert created["ceiling"] == body["ceiling"]


def test_estimate_for_another_users_project_is_404(other_api, setup):
    _, _, project_id = setup

    response = other_api.post(f"{BASE}/estimate/", {"project_id": project_id, "prompt": "x"}, format="json")

    assert response.status_code == 404


def test_messages_of_another_users_project_are_404(other_api, setup):
    _, _, project_id = setup

    assert other_api.get(f"{BASE}/projects/{project_id}/messages/").status_code == 404


def test_a_client_sent_identity_header_changes_nothing(setup, user_id, other_user_id):
    _, _, project_id = setup
    client = client_for(other_user_id)

    response = client.post(
        f"{BASE}/projects/{project_id}/generations/",
        {"prompt": "x"},
        format="json",
        HTTP_X_USER_ID=str(user_id),
    )

    assert response.status_code == 404
