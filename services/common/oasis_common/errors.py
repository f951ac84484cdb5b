"""The error envelope: one exception family, one DRF handler, and Django's 400/404/500 views.

Every error body is `{"error": {"code", "message", "details", "request_id"}}`.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from oasis_common.context import get_request_id

logger = logging.getLogger("oasis.errors")


class ServiceError(exceptions.APIException):
    """A domain error with an HTTP status and a stable snake_case code."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict | None = None,
        status_code: int | None = None,
        headers: dict | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        if status_code is not None:
            self.status_code = status_code
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(detail=self.message, code=self.code)


class NotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    message = "Not found."


class Conflict(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    message = "The request conflicts with the current state."


class Unprocessable(ServiceError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "unprocessable"
    message = "The request is well-formed but cannot be processed."


class PeerUnavailable(ServiceError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"
    message = "A service this request needs is unavailable. Try again shortly."


class TooManyRequests(ServiceError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_requests"
    message = "Too many requests. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs) -> None:
        retry_after = max(1, int(retry_after))
        kwargs.setdefault("details", {"retry_after": retry_after})
        kwargs.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(message, **kwargs)


_TOO_LARGE = "The request body is too large."
_INTERNAL = "Something went wrong on our side."


def envelope(code: str, message: str, details: dict | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": str(message),
            "details": details or {},
            "request_id": get_request_id(),
        }
    }


_DRF_CODES = {
    exceptions.ParseError: ("malformed_request", "The request body could not be parsed."),
    exceptions.AuthenticationFailed: ("authentication_failed", None),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication credentials are needed."),
    exceptions.PermissionDenied: ("permission_denied", None),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    exceptions.Throttled: ("too_many_requests", "Too many requests. Try again later."),
}


def _message_of(detail) -> str:
    if isinstance(detail, list | tuple) and detail:
        return _message_of(detail[0])
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    return str(detail)


def _database_unavailable(exc) -> bool:
    """A lost or locked database (temporary), as opposed to a query that is wrong (a bug: 500)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if "locked" in str(exc):
        return True
    try:
        return not connections["default"].is_usable()
    except Exception:
        return True


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every failure becomes the envelope; unknown errors a clean 500."""
    status_code, body, headers = error_parts(exc)
    return Response(body, status=status_code, headers=headers)


def error_response(exc: Exception) -> JsonResponse:
    """The same envelope for a plain Django view (an async stream) that DRF's handler does not see."""
    status_code, body, headers = error_parts(exc)
    response = JsonResponse(body, status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


def error_parts(exc: Exception) -> tuple[int, dict, dict]:
    """The status, envelope and headers that answer `exc`: the one place an error body is made."""
    headers = {}
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, envelope("request_too_large", _TOO_LARGE), headers
    elif isinstance(exc, SuspiciousOperation):
        return status.HTTP_400_BAD_REQUEST, envelope("bad_request", "The request was refused."), headers

    if _database_unavailable(exc):
        # The database is down or dropped the connection: temporary, and not the client's fault.
        logger.error("Database unavailable: %s", exc.__class__.__name__)
        body = envelope("service_unavailable", "The service is unavailable. Try again shortly.")
        return status.HTTP_503_SERVICE_UNAVAILABLE, body, {"Retry-After": "5"}

    if isinstance(exc, ServiceError):
        body = envelope(exc.code, exc.message, exc.details)
        headers.update(exc.headers)
    elif isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = envelope("validation_error", "Some fields are invalid.", details)
    elif isinstance(exc, exceptions.APIException):
        body = _api_exception_body(exc)
    else:
        logger.exception("Unhandled error", exc_info=exc)
        return status.HTTP_500_INTERNAL_SERVER_ERROR, envelope("internal_error", _INTERNAL), headers

    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait)))
    return exc.status_code, body, headers


def _api_exception_body(exc: exceptions.APIException) -> dict:
    code, message = _DRF_CODES.get(type(exc), (None, None))
    if code is None:
        # A subclass names its own code (InvalidToken -> invalid_token).
        code = str(getattr(exc, "default_code", "error"))
    details = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        details["retry_after"] = max(1, int(exc.wait))
    return envelope(code, message or _message_of(exc.detail), details)


def json_error(status_code: int, code: str, message: str, details: dict | None = None):
    return JsonResponse(envelope(code, message, details), status=status_code)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return json_error(413, "request_too_large", _TOO_LARGE)
    return json_error(400, "bad_request", "The request was refused.")


def permission_denied(request, exception=None):
    return json_error(403, "permission_denied", "You do not have permission to do this.")


def page_not_found(request, exception=None):
    return json_error(404, "not_found", "Not found.")


def server_error(request):
    return json_error(500, "internal_error", _INTERNAL)
