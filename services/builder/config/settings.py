"""Settings of the builder service: the model catalog, generations (agent runs), conversation, events."""

from config import variables
from oasis_common.conf import read
from oasis_common.service_settings import *  # noqa: F403
from oasis_common.service_settings import OASIS, SPECTACULAR_SETTINGS

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "generations.schema.add_event_stream",
    ],
}

# Runs are queued in the database and picked up by `manage.py generation_worker`.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["generations"],
    }
}

OASIS = {**OASIS, **read(variables.BUILDER)}
