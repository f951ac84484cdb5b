"""oasis_common.errors: every failure, from DRF or Django, leaves as the one JSON envelope."""

import json

import pytest
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.test import Client
from rest_framework import exceptions

from oasis_common.errors import (
    Conflict,
    NotFound,
    PeerUnavailable,
    ServiceError,
    TooManyRequests,
    Unprocessable,
    bad_request,
    exception_handler,
    page_not_found,
    permission_denied,
    server_error,
)
from oasis_common.testing import user_token

WIDGETS = "/api/v1/testapp/widgets/"


@pytest.fixture
def user_api(api):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token()}")
    return api


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_a_validation_error_lists_the_offending_fields(user_api, db):
    response = user_api.post(WIDGETS, {"name": "x" * 51, "quantity": "lots"}, format="json")
    error = assert_envelope(response, 400, "validation_error")
    assert set(error["details"]) == {"name", "quantity"}
    assert all(isinstance(messages, list) and messages for messages in error["details"].values())


def test_a_missing_field_is_named_in_the_details(user_api, db):
    error = assert_envelope(user_api.post(WIDGETS, {"name": "bolt"}, format="json"), 400, "validation_error")
    assert list(error["details"]) == ["quantity"]


def test_malformed_json_is_a_malformed_request(user_api):
    response = user_api.post(WIDGETS, data='{"name": "bolt",', content_type="application/json")
    assert_envelope(response, 400, "malformed_request")


def test_an_unsupported_media_type_is_refused(user_api):
    response = user_api.post(WIDGETS, data="name=bolt", content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 415, "unsupported_media_type")


def test_an_unknown_url_is_a_json_404(api):
    assert_envelope(api.get("/no/such/page"), 404, "not_found")


def test_a_method_the_view_lacks_is_not_allowed(user_api):
    error = assert_envelope(user_api.delete(WIDGETS), 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_an_unhandled_error_in_a_view_is_a_clean_500(user_api, db, caplog):
    response = user_api.get("/api/v1/testapp/broken-query/")
    error = assert_envelope(response, 500, "internal_error")
    assert error["details"] == {}
    for leak in ("no_such_table", "secret_column", "SELECT", "Traceback", ".py"):
        assert leak not in response.content.decode()
    # The details go to the log, where the people who fix it look.
    assert any(record.name == "oasis.errors" and record.exc_info for record in caplog.records)


def test_a_crash_outside_drf_is_a_clean_500():
    response = Client(raise_request_exception=False).get("/api/v1/testapp/plain-crash/")
    assert_envelope(response, 500, "internal_error")
    for leak in ("SELECT", "accounts_user", "secret.py", "Traceback"):
        assert leak not in response.content.decode()


def test_a_request_larger_than_the_limit_is_refused_before_the_view(user_api, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = user_api.post(WIDGETS, {"name": "bolt", "quantity": 1, "padding": "x" * 2000}, format="json")
    assert_envelope(response, 413, "request_too_large")
    assert user_api.post(WIDGETS, {"name": "bolt", "quantity": 1}, format="json").status_code == 201


def test_a_body_exactly_at_the_limit_is_accepted(user_api, db, settings):
    body = b'{"name": "bolt", "quantity": 1}'
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
    assert user_api.post(WIDGETS, data=body, content_type="application/json").status_code == 201


@pytest.mark.parametrize(
    ("handler", "exception", "status", "code"),
    [
        (bad_request, RequestDataTooBig("exceeded DATA_UPLOAD_MAX_MEMORY_SIZE"), 413, "request_too_large"),
        (bad_request, SuspiciousOperation("Invalid HTTP_HOST header: 'evil'"), 400, "bad_request"),
        (permission_denied, PermissionDenied("staff only: /srv/app/admin.py"), 403, "permission_denied"),
        (page_not_found, Http404("/srv/app/templates/missing.html"), 404, "not_found"),
    ],
)
def test_django_error_views_answer_with_the_envelope(rf, handler, exception, status, code):
    response = handler(rf.get("/"), exception)
    assert response.status_code == status
    body = json.loads(response.content)
    assert body["error"]["code"] == code
    assert str(exception) not in body["error"]["message"]


def test_the_django_500_view_answers_with_the_envelope(rf):
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "internal_error"


def test_the_details_carry_a_request_id_sent_by_the_gateway(api):
    response = api.get("/no/such/page", HTTP_X_REQUEST_ID="gateway-request-0001")
    assert response.json()["error"]["request_id"] == "gateway-request-0001"


def handle(exc):
    return exception_handler(exc, {"view": None, "request": None})


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (ServiceError(), 400, "bad_request"),
        (NotFound(), 404, "not_found"),
        (Conflict(), 409, "conflict"),
        (Unprocessable(), 422, "unprocessable"),
        (PeerUnavailable(), 503, "service_unavailable"),
        (
            ServiceError("Out of credits.", code="insufficient_credits", status_code=402),
            402,
            "insufficient_credits",
        ),
        (Http404("No Widget matches the given query."), 404, "not_found"),
        (PermissionDenied(), 403, "permission_denied"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (exceptions.NotFound(), 404, "not_found"),
        (exceptions.ParseError(), 400, "malformed_request"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.NotAcceptable(), 406, "not_acceptable"),
        (exceptions.ValidationError({"name": ["Required."]}), 400, "validation_error"),
        (RequestDataTooBig(), 413, "request_too_large"),
        (SuspiciousOperation("Invalid HTTP_HOST header: 'evil'"), 400, "bad_request"),
        (ValueError("SELECT password FROM users"), 500, "internal_error"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_error_becomes_the_envelope_with_its_status(exc, status, code):
    response = handle(exc)
    assert response.status_code == status
    assert response.data["error"]["code"] == code
    assert set(response.data["error"]) == {"code", "message", "details", "request_id"}


@pytest.mark.parametrize(
    "exc",
    [
        SuspiciousOperation("Invalid HTTP_HOST header: '/srv/secret'"),
        Http404("No Widget matches the given query."),
        ValueError("SELECT password FROM users"),
    ],
)
def test_internal_wording_does_not_reach_the_body(exc):
    message = handle(exc).data["error"]["message"]
    assert str(exc) not in message


def test_a_service_error_carries_its_message_and_details():
    error = handle(Conflict("The revision moved on.", details={"current": 7})).data["error"]
    assert error["message"] == "The revision moved on."
    assert error["details"] == {"current": 7}


def test_a_service_error_subclass_declares_its_code_once():
    class InsufficientCredits(ServiceError):
        status_code = 402
        code = "insufficient_credits"
        message = "Not enough credits."

    response = handle(InsufficientCredits(details={"needed": 12}))
    assert response.status_code == 402
    assert response.data["error"] == {
        "code": "insufficient_credits",
        "message": "Not enough credits.",
        "details": {"needed": 12},
        "request_id": "",
    }


def test_a_validation_error_without_fields_is_a_non_field_error():
    response = handle(exceptions.ValidationError("Pick a plan or a pack, not both."))
    assert response.data["error"]["details"] == {"non_field_errors": ["Pick a plan or a pack, not both."]}


@pytest.mark.parametrize(
    "exc", [TooManyRequests(retry_after=7), exceptions.Throttled(wait=6.2)], ids=["ours", "drf"]
)
def test_too_many_requests_says_when_to_retry(exc):
    response = handle(exc)
    assert response.status_code == 429
    assert response.data["error"]["code"] == "too_many_requests"
    assert int(response["Retry-After"]) in {6, 7}
    assert response.data["error"]["details"]["retry_after"] == int(response["Retry-After"])


def test_a_retry_after_is_never_less_than_a_second():
    assert handle(TooManyRequests(retry_after=0))["Retry-After"] == "1"


def test_an_authentication_failure_names_its_scheme():
    exc = exceptions.NotAuthenticated()
    exc.auth_header = 'Bearer realm="oasis"'
    assert handle(exc)["WWW-Authenticate"] == 'Bearer realm="oasis"'


def test_a_lost_database_is_a_503_envelope_not_a_500(monkeypatch):
    from django.db import OperationalError, connections

    from oasis_common.errors import exception_handler

    monkeypatch.setattr(connections["default"], "is_usable", lambda: False)
    response = exception_handler(OperationalError("could not connect to server"), {})

    assert response.status_code == 503
    assert response.data["error"]["code"] == "service_unavailable"
    assert "connect" not in str(response.data)
    assert response["Retry-After"] == "5"


def test_a_locked_database_is_a_503(db):
    from django.db import OperationalError

    from oasis_common.errors import exception_handler

    assert exception_handler(OperationalError("database is locked"), {}).status_code == 503
