"""oasis_common.idempotency: one execution per (caller, Idempotency-Key), the first answer replayed."""

import io
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from oasis_common.authentication import Principal
from oasis_common.errors import Conflict, PeerUnavailable
from oasis_common.idempotency.decorators import idempotent
from oasis_common.idempotency.models import IdempotencyRecord
from oasis_common.testing import error_of, service_token_for
from tests.testapp import widgets
from tests.testapp.models import Widget

URL = "/internal/v1/testapp/widgets/"
BOLT = {"name": "bolt", "quantity": 3}


def caller(name: str = "payments") -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {service_token_for(name, 'projects')}")
    return api


def post(api, body=BOLT, key="key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(URL, body, format="json", **headers)


@pytest.fixture
def payments():
    return caller("payments")


@dataclass
class Executions:
    """How often the view's work ran; `fail_with` makes the next runs raise after writing."""

    count: int = 0
    failures: list[Exception] = field(default_factory=list)

    def fail_with(self, *errors: Exception) -> None:
        self.failures.extend(errors)


@pytest.fixture
def executions(monkeypatch):
    state = Executions()
    real = widgets.widget_create

    def counted(**fields):
        state.count += 1
        widget = real(**fields)
        if state.failures:
            raise state.failures.pop(0)
        return widget

    monkeypatch.setattr(widgets, "widget_create", counted)
    return state


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (None, "idempotency_key_required"),
        ("", "idempotency_key_required"),
        ("   ", "idempotency_key_required"),
        ("k" * 256, "idempotency_key_invalid"),
        ("tab\tinside", "idempotency_key_invalid"),
    ],
    ids=["absent", "empty", "blank", "too long", "unprintable"],
)
def test_a_missing_or_unusable_key_is_refused_before_any_work(payments, db, executions, key, code):
    response = post(payments, key=key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert executions.count == 0
    assert not IdempotencyRecord.objects.exists()


def same_error(replayed, first) -> bool:
    """The first error again, under the id of the request it now answers (the strict envelope check)."""
    error = error_of(replayed, first.status_code)
    return {**error, "request_id": ""} == {**error_of(first, first.status_code), "request_id": ""}


def test_the_longest_allowed_key_is_accepted(payments, db):
    assert post(payments, key="k" * 255).status_code == 201


def test_the_first_request_runs_and_answers_normally(payments, db, executions):
    response = post(payments)
    assert response.status_code == 201
    assert response.json() == {"id": Widget.objects.get().id, **BOLT}
    assert "Idempotent-Replayed" not in response
    assert executions.count == 1


def test_the_record_is_claimed_in_one_statement_and_stored_whole(payments, db, executions):
    with CaptureQueriesContext(connections["default"]) as captured:
        before = timezone.now()
        post(payments)

    statements = [query["sql"] for query in captured.captured_queries]
    claims = [sql for sql in statements if "oasis_idempotency_idempotencyrecord" in sql]
    assert len(claims) == 2  # claimed, then given the answer
    assert "ON CONFLICT" in claims[0]
    # The first statement in the wrapper's transaction (a savepoint in a test), with none of its own.
    assert statements[0].startswith("SAVEPOINT")
    assert statements[1] == claims[0]
    record = IdempotencyRecord.objects.get()
    assert (record.principal, record.key, record.status_code) == ("service:payments", "key-1", 201)
    assert record.response_body == {"id": Widget.objects.get().id, **BOLT}
    assert before <= record.created_at <= timezone.now()


def test_a_repeat_replays_the_first_answer_and_does_the_work_once(payments, db, executions):
    first = post(payments)
    again = post(payments)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert executions.count == 1
    assert Widget.objects.count() == 1


def test_a_repeat_with_the_same_body_in_another_key_order_is_a_repeat(payments, db, executions):
    post(payments, body={"name": "bolt", "quantity": 3})
    again = post(payments, body={"quantity": 3, "name": "bolt"})
    assert again["Idempotent-Replayed"] == "true"
    assert executions.count == 1


def test_the_same_key_with_another_body_is_refused(payments, db, executions):
    post(payments)
    response = post(payments, body={**BOLT, "quantity": 4})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert executions.count == 1
    assert Widget.objects.get().quantity == 3


def test_different_keys_are_different_requests(payments, db, executions):
    post(payments, key="key-1")
    post(payments, key="key-2")
    assert executions.count == 2


def test_keys_are_scoped_to_the_calling_principal(db, executions):
    from_payments = post(caller("payments"))
    from_builder = post(caller("builder"))
    assert from_payments.status_code == from_builder.status_code == 201
    assert "Idempotent-Replayed" not in from_builder
    assert sorted(Widget.objects.values_list("owner", flat=True)) == ["service:builder", "service:payments"]
    assert executions.count == 2


def test_a_validation_error_is_stored_and_replayed(payments, db, executions):
    first = post(payments, body={"name": "bolt", "quantity": "lots"})
    again = post(payments, body={"name": "bolt", "quantity": "lots"})
    assert first.status_code == again.status_code == 400
    assert same_error(again, first)
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().status_code == 400


def test_a_4xx_raised_after_writing_is_stored_and_its_writes_undone(payments, db, executions):
    executions.fail_with(Conflict("The shelf is full.", details={"shelf": 4}))
    first = post(payments)
    again = post(payments)
    assert first.status_code == again.status_code == 409
    assert same_error(again, first)
    assert again.json()["error"]["details"] == {"shelf": 4}
    assert again["Idempotent-Replayed"] == "true"
    assert executions.count == 1
    assert not Widget.objects.exists()


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("database went away"), PeerUnavailable(details={"service": "payments"})],
    ids=["crash", "peer unavailable"],
)
def test_a_5xx_is_not_stored_so_a_retry_runs_again(payments, db, executions, failure):
    executions.fail_with(failure)
    failed = post(payments)
    assert failed.status_code in {500, 503}
    assert not IdempotencyRecord.objects.exists()
    assert not Widget.objects.exists()
    retried = post(payments)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert executions.count == 2
    assert Widget.objects.count() == 1


class AnswersServiceUnavailable(APIView):
    authentication_classes = []
    permission_classes = []

    @idempotent
    def post(self, request):
        widgets.widget_create(owner="service:payments", name="half-done", quantity=1)
        return Response({"error": {"code": "busy"}}, status=503)


def test_a_5xx_answer_is_not_stored_and_its_writes_undone(db):
    request = APIRequestFactory().post("/", BOLT, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    force_authenticate(request, user=Principal(id="service:payments", token_type="service"))
    response = AnswersServiceUnavailable.as_view()(request)
    assert response.status_code == 503
    assert not IdempotencyRecord.objects.exists()
    assert not Widget.objects.exists()


def test_an_unparseable_body_is_refused_without_a_record(payments, db):
    response = payments.post(
        URL, data="{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert not IdempotencyRecord.objects.exists()


@pytest.fixture
def slow_work(monkeypatch):
    """The view holds its transaction a moment, so concurrent duplicates really overlap."""
    real = widgets.widget_create
    runs = []

    def slow(**fields):
        runs.append(fields)
        widget = real(**fields)
        time.sleep(0.05)
        return widget

    monkeypatch.setattr(widgets, "widget_create", slow)
    return runs


def test_concurrent_duplicates_run_once_and_all_get_the_same_answer(transactional_db, slow_work):
    threads_count = 8
    start = threading.Barrier(threads_count)
    answers = [None] * threads_count

    def send(index):
        try:
            api = caller("payments")
            start.wait()
            response = post(api, key="concurrent-key")
            answers[index] = (response.status_code, response.json(), response.get("Idempotent-Replayed"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert None not in answers
    assert len(slow_work) == 1
    assert Widget.objects.count() == 1
    assert {(status, body["id"]) for status, body, _ in answers} == {(201, Widget.objects.get().id)}
    assert sorted(replayed or "" for _, _, replayed in answers) == [""] + ["true"] * (threads_count - 1)


def test_purge_deletes_records_older_than_the_retention(db, oasis_settings, capsys):
    oasis_settings(IDEMPOTENCY_RETENTION_HOURS=24)
    for key, age in [("fresh", 1), ("almost", 23), ("old", 25), ("ancient", 24 * 30)]:
        record = IdempotencyRecord.objects.create(
            principal="service:payments", key=key, request_hash="h", status_code=201
        )
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            created_at=timezone.now() - timedelta(hours=age)
        )
    call_command("purge_idempotency_records")
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["almost", "fresh"]
    assert "Deleted 2 idempotency records" in capsys.readouterr().out


def test_a_purged_key_may_be_used_again(payments, db, executions):
    post(payments)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=49))
    call_command("purge_idempotency_records", stdout=io.StringIO())
    again = post(payments)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert executions.count == 2
