"""ASGI entry point for the builder service: Django behind its start admission, plus the lifespan that
runs the event hub."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Under ASGI every request runs on a thread of its own, so a persistent connection is one per
# request, never reused and held until its thread goes; Django advises none under ASGI.
os.environ.setdefault("OASIS_DB_CONN_MAX_AGE", "0")
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402

from generations.admission import StartAdmission  # noqa: E402
from generations.hub import lifespan  # noqa: E402

django_with_admission = StartAdmission(django_application)


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send, url=settings.OASIS.get("REDIS_URL") or "")
        return
    await django_with_admission(scope, receive, send)
