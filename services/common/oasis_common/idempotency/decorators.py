"""The `idempotent` decorator for DRF view methods.

The record is inserted in the same transaction as the view's work, so a concurrent
duplicate waits on the unique key and then replays the stored answer: the work is
done exactly once. Answers below 500 are stored; a 5xx or a crash stores nothing, so
a retry runs the request again.
"""

from __future__ import annotations

import functools
import hashlib
import json

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from oasis_common.context import get_request_id
from oasis_common.errors import ServiceError, Unprocessable, exception_handler
from oasis_common.idempotency.models import KEY_CONSTRAINT, IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    material = f"{request.method}\n{request.path}\n{body}".encode()
    return hashlib.sha256(material).hexdigest()


def _key_of(request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ServiceError(f"This endpoint needs an {HEADER} header.", code="idempotency_key_required")
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ServiceError(
            f"The {HEADER} header must be at most {MAX_KEY_LENGTH} printable characters.",
            code="idempotency_key_invalid",
        )
    return key


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        raise Unprocessable(
            f"This {HEADER} was already used with a different request.",
            code="idempotency_key_reused",
        )
    body = record.response_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        # The same answer, under the id of the request it now answers.
        body = {**body, "error": {**body["error"], "request_id": get_request_id()}}
    return Response(body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def _claimed(*, principal: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The new record of (principal, key), or None if one is there already.

    One statement, `INSERT … ON CONFLICT DO NOTHING RETURNING` (PostgreSQL; SQLite 3.35 and
    later), where creating the record and catching the unique key's error needed a savepoint
    and two more round trips. A duplicate running at the same time waits on the unique key
    until the first commits (then finds its record) or rolls back (then inserts its own).
    """
    record = IdempotencyRecord(principal=principal, key=key, request_hash=fingerprint, status_code=0)
    record.created_at = timezone.now()
    meta, quote = IdempotencyRecord._meta, connection.ops.quote_name
    columns = ("principal", "key", "request_hash", "status_code", "created_at")
    values = [meta.get_field(name).get_db_prep_save(getattr(record, name), connection) for name in columns]
    # Only the model's own names are formatted in; every value is a parameter.
    table, names = quote(meta.db_table), ", ".join(map(quote, columns))
    [key_constraint] = (constraint for constraint in meta.constraints if constraint.name == KEY_CONSTRAINT)
    unique = ", ".join(quote(meta.get_field(name).column) for name in key_constraint.fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            f" ON CONFLICT ({unique}) DO NOTHING RETURNING {quote(meta.pk.column)}",
            values,
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    record.pk = inserted[0]
    record._state.adding = False
    return record


def idempotent(view_method):
    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = _key_of(request)
        fingerprint = _fingerprint(request)
        principal = str(getattr(request.user, "pk", "") or "anonymous")
        with transaction.atomic():
            record = _claimed(principal=principal, key=key, fingerprint=fingerprint)
            if record is None:
                return _replay(IdempotencyRecord.objects.get(principal=principal, key=key), fingerprint)
            try:
                with transaction.atomic():
                    response = view_method(self, request, *args, **kwargs)
            except (APIException, Http404, PermissionDenied) as exc:
                if getattr(exc, "status_code", 400) >= 500:
                    raise
                response = exception_handler(exc, {"view": self, "request": request})
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
            return response

    return wrapper
