"""Settings of the projects service: projects, files, revisions, previews, templates, export and import."""

from config import variables
from oasis_common import env
from oasis_common.conf import read
from oasis_common.service_settings import *  # noqa: F403
from oasis_common.service_settings import BASE_DIR, OASIS, SPECTACULAR_SETTINGS

# File uploads and change sets are large; the gateway lets up to 64m through to this service.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.get_int("OASIS_MAX_REQUEST_BYTES", 64 * variables.MiB)
# Imported archives above this size wait in a temporary file rather than in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * variables.MiB

OASIS = {**OASIS, **read(variables.PROJECTS, defaults={"TEMPLATES_DIR": str(BASE_DIR / "templates_library")})}

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    # Revision changes and diff entries share one vocabulary (the builder's file events too): one enum.
    "ENUM_NAME_OVERRIDES": {"ChangeKindEnum": "files.models.FileChange.Action"},
}
