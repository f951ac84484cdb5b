"""Password reset: the request (never revealing an account) and the confirmation (once, expiring)."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import default_task_backend

from accounts import tasks
from accounts.models import User
from oasis_common.testing import last_character_changed
from tests.helpers import NEW_PASSWORD, PASSWORD, error_of, refresh, reset_link_parts, sign_in, verify

REQUEST_URL = "/api/v1/auth/password/reset/"
CONFIRM_URL = "/api/v1/auth/password/reset/confirm/"


def request_reset(api, email="ada@example.com", **extra):
    return api.post(REQUEST_URL, {"email": email}, format="json", **extra)


def confirm(api, uid, token, new_password=NEW_PASSWORD):
    return api.post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": new_password}, format="json")


@pytest.fixture
def link(api, user):
    assert request_reset(api).status_code == 202
    assert len(mail.outbox) == 1
    return reset_link_parts(mail.outbox[0])


def test_a_reset_request_is_accepted_and_emails_a_link(api, user):
    response = request_reset(api)

    assert response.status_code == 202
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert "reset" in message.subject.lower()
    uid, token = reset_link_parts(message)
    assert uid
    assert token


def test_existing_and_unknown_emails_get_the_same_answer(api, user):
    known = request_reset(api, HTTP_X_REQUEST_ID="same-request-id")
    unknown = request_reset(api, "nobody@example.com", HTTP_X_REQUEST_ID="same-request-id")

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_no_email_is_sent_for_an_unknown_address(api, db):
    assert request_reset(api, "nobody@example.com").status_code == 202
    assert mail.outbox == []


def test_no_email_is_sent_for_an_inactive_account(api, make_user):
    make_user(is_active=False)

    assert request_reset(api).status_code == 202
    assert mail.outbox == []


def test_the_request_finds_the_account_whatever_the_case_of_the_email(api, user):
    request_reset(api, "ADA@Example.COM")

    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_a_failing_mail_server_does_not_change_the_answer(api, user, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp is down")

    monkeypatch.setattr("accounts.tasks.send_mail", refuse)

    assert request_reset(api).status_code == 202


@pytest.mark.parametrize(
    "body",
    [{}, {"email": ""}, {"email": "not-an-email"}, {"email": ["ada@example.com"]}],
    ids=["missing", "blank", "malformed", "list"],
)
def test_a_malformed_reset_request_is_a_validation_error(api, user, body):
    error = error_of(api.post(REQUEST_URL, body, format="json"), 400, "validation_error")

    assert set(error["details"]) == {"email"}
    assert mail.outbox == []


def test_the_link_sets_a_new_password(api, user, link):
    response = confirm(api, *link)

    assert response.status_code == 204
    error_of(sign_in(api, password=PASSWORD), 401, "invalid_credentials")
    assert sign_in(api, password=NEW_PASSWORD).status_code == 200


def test_the_link_works_only_once(api, user, link):
    assert confirm(api, *link).status_code == 204

    error_of(confirm(api, *link, new_password="yet another passphrase"), 400, "invalid_reset_token")
    assert sign_in(api, password=NEW_PASSWORD).status_code == 200


def test_an_expired_link_is_refused(api, user, link, monkeypatch):
    real_now = PasswordResetTokenGenerator._now
    monkeypatch.setattr(
        PasswordResetTokenGenerator,
        "_now",
        lambda self: real_now(self) + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1),
    )

    error_of(confirm(api, *link), 400, "invalid_reset_token")
    assert sign_in(api, password=PASSWORD).status_code == 200


def test_a_link_just_inside_its_lifetime_works(api, user, link, monkeypatch):
    real_now = PasswordResetTokenGenerator._now
    monkeypatch.setattr(
        PasswordResetTokenGenerator,
        "_now",
        lambda self: real_now(self) + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60),
    )

    assert confirm(api, *link).status_code == 204


@pytest.mark.parametrize(
    "tamper",
    [
        lambda uid, token, other: (uid, last_character_changed(token)),
        lambda uid, token, other: (uid, "abc-123"),
        lambda uid, token, other: (urlsafe_base64_encode(force_bytes(other.pk)), token),
        lambda uid, token, other: ("not-base64!", token),
        lambda uid, token, other: (urlsafe_base64_encode(b"not-a-uuid"), token),
        lambda uid, token, other: (urlsafe_base64_encode(b"\xff\xfe"), token),
        lambda uid, token, other: (urlsafe_base64_encode(force_bytes(999)), token),
    ],
    ids=[
        "token-changed",
        "token-garbage",
        "uid-of-another-user",
        "uid-not-base64",
        "uid-not-a-uuid",
        "uid-not-utf8",
        "uid-an-integer",
    ],
)
def test_a_tampered_link_is_refused(api, user, other_user, link, tamper):
    uid, token = tamper(*link, other_user)

    error_of(confirm(api, uid, token), 400, "invalid_reset_token")
    assert sign_in(api, password=PASSWORD).status_code == 200
    assert sign_in(api, "grace@example.com", password=PASSWORD).status_code == 200


def test_a_weak_new_password_is_refused_without_using_up_the_link(api, user, link):
    error = error_of(confirm(api, *link, new_password="password123"), 400, "validation_error")

    assert set(error["details"]) == {"new_password"}
    assert confirm(api, *link).status_code == 204


def test_a_reset_revokes_every_older_token(api, user, link):
    pair = sign_in(api).json()
    assert verify(api, pair["access"]).status_code == 200

    confirm(api, *link)

    error_of(verify(api, pair["access"]), 401, "not_authenticated")
    error_of(refresh(api, pair["refresh"]), 401, "invalid_token")


def test_a_reset_lifts_the_account_lockout(api, user, link, settings):
    settings.OASIS = {**settings.OASIS, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 2}
    for _ in range(2):
        sign_in(api, password="not the password")
    error_of(sign_in(api), 429, "login_locked")

    confirm(api, *link)

    assert sign_in(api, password=NEW_PASSWORD).status_code == 200


def test_a_link_for_a_since_deactivated_account_is_refused(api, user, link):
    User.objects.filter(pk=user.pk).update(is_active=False)

    error_of(confirm(api, *link), 400, "invalid_reset_token")


def test_a_link_stops_working_when_the_email_changes(api, user, link):
    User.objects.filter(pk=user.pk).update(email="ada.lovelace@example.com")

    error_of(confirm(api, *link), 400, "invalid_reset_token")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"uid", "token", "new_password"}),
        ({"uid": "", "token": "", "new_password": NEW_PASSWORD}, {"uid", "token"}),
        ({"uid": "x", "token": "y"}, {"new_password"}),
        ({"uid": ["x"], "token": {"y": 1}, "new_password": NEW_PASSWORD}, {"uid", "token"}),
        ({"uid": "x" * 65, "token": "y" * 129, "new_password": NEW_PASSWORD}, {"uid", "token"}),
    ],
    ids=["empty", "blank", "no-password", "wrong-types", "too-long"],
)
def test_a_malformed_confirmation_is_a_validation_error(api, db, body, fields):
    error = error_of(api.post(CONFIRM_URL, body, format="json"), 400, "validation_error")

    assert set(error["details"]) == fields


def test_the_email_is_sent_by_the_reset_task(api, user, settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": [tasks.EMAIL_QUEUE]}
    }

    assert request_reset(api).status_code == 202
    assert mail.outbox == []
    (queued,) = default_task_backend.results
    assert queued.task.func is tasks.send_password_reset_email.func

    queued.task.call(*queued.args, **queued.kwargs)
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_the_reset_task_sends_nothing_to_an_account_deactivated_since(user):
    User.objects.filter(pk=user.pk).update(is_active=False)

    tasks.send_password_reset_email.call(user_id=str(user.pk))

    assert mail.outbox == []


def test_a_reset_request_starts_no_thread(api, user, monkeypatch):
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))

    assert request_reset(api).status_code == 202

    assert started == []
    assert len(mail.outbox) == 1
