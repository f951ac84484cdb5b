"""Background tasks of auth (django-tasks): the password reset email, on the `emails` queue."""

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from accounts.models import User

logger = logging.getLogger("oasis.accounts")

# The queue the auth worker runs (`manage.py db_worker --queue-name emails`); TASKS lists it.
EMAIL_QUEUE = "emails"


@task(queue_name=EMAIL_QUEUE)
def send_password_reset_email(user_id: str) -> None:
    """Email the account a link to reset its password; an account since deactivated gets none."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.OASIS["PASSWORD_RESET_URL"].format(uid=uid, token=token)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    try:
        send_mail(
            subject="Reset your Imagi Oasis password",
            message=(
                f"Hello {user.name or user.email},\n\n"
                f"Someone asked to reset the password of your Imagi Oasis account. If it was you, "
                f"open this link within {minutes} minutes:\n\n{link}\n\n"
                "If it was not you, ignore this email; your password stays as it is.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    except Exception:
        logger.exception("Could not send the password reset email")
