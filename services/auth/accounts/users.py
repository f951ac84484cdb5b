"""Account operations: register, authenticate, update, and change or reset a password."""

from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework.exceptions import ValidationError

from accounts import lockout, tasks
from accounts.models import User, normalize_email
from oasis_common.errors import ServiceError
from tokens import revocation

EMAIL_TAKEN = {"email": ["An account with this email already exists."]}


def user_register(*, email: str, password: str, name: str = "") -> User:
    email = normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(EMAIL_TAKEN)
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, name=name)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise ValidationError(EMAIL_TAKEN) from exc


def user_authenticate(*, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; as slow for unknown emails as for known."""
    user = User.objects.filter(email__iexact=normalize_email(email)).first()
    if user is None:
        User().set_password(password)  # spend the hashing time an existing user would
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def password_verify(*, user: User, password: str, ip: str) -> None:
    """Check a signed-in user's current password before a sensitive change.

    Wrong guesses count towards the sign-in lockout, or a stolen access token would be an
    unlimited password oracle; while the account or address is locked, nothing is checked.
    """
    lockout.lockout_check(email=user.email, ip=ip)
    if not user.check_password(password):
        lockout.failure_record(email=user.email, ip=ip)
        raise ValidationError({"current_password": ["The current password is not correct."]})
    lockout.failures_clear(email=user.email)


def user_update(*, user: User, name: str | None = None, email: str | None = None) -> User:
    fields = []
    if name is not None:
        user.name = name
        fields.append("name")
    if email is not None and normalize_email(email) != user.email:
        email = normalize_email(email)
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise ValidationError(EMAIL_TAKEN)
        user.email = email
        fields.append("email")
    if fields:
        try:
            with transaction.atomic():
                user.save(update_fields=fields)
        except IntegrityError as exc:
            raise ValidationError(EMAIL_TAKEN) from exc
    return user


@transaction.atomic
def tokens_revoke_all(*, user: User) -> None:
    """Every token issued to the user before now stops working (within the gateway's cache time).

    Token `iat`s are whole seconds, so the cutoff is the start of the next one: a token
    issued in this second is refused too. Returning (and committing the new password) only
    once that moment has passed, at most a second later, keeps every token issued afterwards
    valid, a sign-in with the new password included.
    """
    # Lock the row first, so a refresh running now either finishes before the cutoff is
    # chosen or waits and sees it (token_refresh reads the cutoff under the same lock).
    User.objects.select_for_update().filter(pk=user.pk).values("pk").first()
    now = timezone.now()
    cutoff = now.replace(microsecond=0) + timedelta(seconds=1)
    user.tokens_valid_after = cutoff
    user.save(update_fields=["tokens_valid_after"])
    revocation.cutoff_publish(user=user)
    time.sleep(max(0.0, (cutoff - timezone.now()).total_seconds()))


@transaction.atomic
def password_change(*, user: User, new_password: str) -> User:
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens_revoke_all(user=user)
    return user


def password_reset_request(*, email: str) -> None:
    """Email a reset link if the account exists; the caller learns nothing either way.

    The email is the task accounts.tasks.send_password_reset_email, queued in the database and
    sent by the auth worker, so the mail server's time is never part of the answer. Both paths
    run the same lookup; what still differs is the queue row a known address adds, one INSERT
    and its commit (about a millisecond, within the noise of the lookup and the network, and
    behind the reset throttle), where an unknown address adds nothing.
    """
    user = User.objects.filter(email__iexact=normalize_email(email), is_active=True).first()
    if user is None:
        return
    tasks.send_password_reset_email.enqueue(user_id=str(user.pk))


class InvalidResetToken(ServiceError):
    code = "invalid_reset_token"
    message = "This password reset link is invalid or has expired."


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from an emailed link; the link works once and expires.

    The row lock makes two simultaneous uses of one link resolve to one success: the
    token's hash covers the password hash, so the second sees a changed password.
    """
    try:
        user_id = force_str(urlsafe_base64_decode(uid))
        user = User.objects.select_for_update().get(pk=user_id, is_active=True)
    except (ValueError, TypeError, OverflowError, DjangoValidationError, User.DoesNotExist) as exc:
        raise InvalidResetToken() from exc
    if not default_token_generator.check_token(user, token):
        raise InvalidResetToken()
    password_validate(password=new_password, user=user, field="new_password")
    password_change(user=user, new_password=new_password)
    lockout.failures_clear(email=user.email)
    return user


def password_validate(*, password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({field: list(exc.messages)}) from exc
