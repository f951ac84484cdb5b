"""The email queue: a reset request only queues its email; the auth worker sends it; its health check."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django_tasks_db.models import DBTaskResult

from accounts.tasks import EMAIL_QUEUE
from config import settings as production_settings
from tests.helpers import NEW_PASSWORD, reset_link_parts, sign_in

REQUEST_URL = "/api/v1/auth/password/reset/"
CONFIRM_URL = "/api/v1/auth/password/reset/confirm/"


@pytest.fixture
def database_queue(settings):
    # As in production (config/settings.py); django-tasks resets its backends when TASKS changes.
    settings.TASKS = production_settings.TASKS


def request_reset(api, email="ada@example.com"):
    return api.post(REQUEST_URL, {"email": email}, format="json")


def run_worker():
    # The worker closes the database connection between claims, as between requests: tests that
    # run it need `transactional_db`, since a test transaction does not survive that.
    call_command("db_worker", "--queue-name", EMAIL_QUEUE, "--batch", "--no-startup-delay", "--no-reload")


def test_production_queues_emails_in_the_database_for_the_worker():
    assert production_settings.TASKS == {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [EMAIL_QUEUE]}
    }


def test_a_reset_request_only_queues_the_email(api, user, database_queue):
    assert request_reset(api).status_code == 202

    assert mail.outbox == []
    (queued,) = DBTaskResult.objects.ready()
    assert queued.queue_name == EMAIL_QUEUE
    assert queued.task_path == "accounts.tasks.send_password_reset_email"
    assert queued.args_kwargs == {"args": [], "kwargs": {"user_id": str(user.pk)}}


def test_an_unknown_address_queues_nothing(api, db, database_queue):
    assert request_reset(api, "nobody@example.com").status_code == 202

    assert not DBTaskResult.objects.exists()


def test_the_worker_sends_the_queued_email_and_its_link_works(transactional_db, api, user, database_queue):
    request_reset(api)

    run_worker()

    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    uid, token = reset_link_parts(mail.outbox[0])
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    assert api.post(CONFIRM_URL, body, format="json").status_code == 204
    assert sign_in(api, password=NEW_PASSWORD).status_code == 200


def test_emails_queued_while_the_worker_was_down_are_sent_when_it_returns(
    transactional_db, api, user, database_queue
):
    for _ in range(3):
        request_reset(api)
    assert mail.outbox == []

    run_worker()

    assert len(mail.outbox) == 3
    assert not DBTaskResult.objects.ready().exists()


def test_a_failing_mail_server_is_logged_and_the_worker_goes_on(
    transactional_db, api, user, database_queue, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp is down")

    monkeypatch.setattr("accounts.tasks.send_mail", refuse)
    request_reset(api)

    run_worker()

    assert "Could not send the password reset email" in caplog.text
    assert not DBTaskResult.objects.ready().exists()


# ---- the health check of the auth worker ----


def status() -> str:
    out = StringIO()
    call_command("email_queue_status", stdout=out)
    return out.getvalue()


def test_the_health_check_passes_on_an_empty_queue(db, database_queue):
    assert status() == "The email queue's database answers; no email is waiting.\n"


def test_the_health_check_says_how_long_emails_wait(api, user, database_queue):
    request_reset(api)
    request_reset(api)

    assert "2 emails wait, the oldest for 0 s" in status()


def test_the_health_check_fails_when_the_database_does_not_answer(db, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused\nIs the server running?")

    monkeypatch.setattr(DBTaskResult.objects, "ready", refuse)

    with pytest.raises(CommandError, match="database does not answer: could not connect to server"):
        call_command("email_queue_status")
