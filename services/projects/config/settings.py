"""Settings of the projects service: projects, files, revisions, previews, templates, export and import."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from oasis_common import env
from oasis_common.settings import common_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(
    common_settings(service="projects", base_dir=BASE_DIR, apps=["projects", "files", "previews"])
)

MiB = 1024 * 1024

# File uploads and change sets are large; the gateway lets up to 64m through to this service.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.get_int("OASIS_MAX_REQUEST_BYTES", 64 * MiB)
# Imported archives above this size wait in a temporary file rather than in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * MiB

# The longest path a database index can hold on every backend we run; the setting may only lower it.
PATH_BYTES_CEILING = 1024

OASIS.update(  # noqa: F821
    {
        "MAX_PROJECTS_PER_USER": env.get_int("OASIS_MAX_PROJECTS_PER_USER", 100),
        "MAX_FILE_BYTES": env.get_int("OASIS_MAX_FILE_BYTES", 10 * MiB),
        "MAX_FILES_PER_PROJECT": env.get_int("OASIS_MAX_FILES_PER_PROJECT", 5000),
        "MAX_PROJECT_BYTES": env.get_int("OASIS_MAX_PROJECT_BYTES", 100 * MiB),
        "MAX_PATH_BYTES": min(env.get_int("OASIS_MAX_PATH_BYTES", 512), PATH_BYTES_CEILING),
        "MAX_PATH_DEPTH": env.get_int("OASIS_MAX_PATH_DEPTH", 32),
        "MAX_SEGMENT_BYTES": env.get_int("OASIS_MAX_SEGMENT_BYTES", 255),
        "PREVIEW_ORIGIN": env.get_str("OASIS_PREVIEW_ORIGIN").rstrip("/"),
        "PREVIEW_DEFAULT_SECONDS": env.get_int("OASIS_PREVIEW_DEFAULT_SECONDS", 3600),
        "PREVIEW_MAX_SECONDS": env.get_int("OASIS_PREVIEW_MAX_SECONDS", 7 * 24 * 3600),
        "IMPORT_MAX_BYTES": env.get_int("OASIS_IMPORT_MAX_BYTES", 50 * MiB),
        "IMPORT_MAX_ENTRIES": env.get_int("OASIS_IMPORT_MAX_ENTRIES", 10000),
        "IMPORT_MAX_RATIO": env.get_int("OASIS_IMPORT_MAX_RATIO", 100),
        "SNAPSHOT_MAX_BYTES": env.get_int("OASIS_SNAPSHOT_MAX_BYTES", 2 * MiB),
        "TEMPLATES_DIR": Path(env.get_str("OASIS_TEMPLATES_DIR") or BASE_DIR / "templates_library"),
    }
)

# Revision changes and diff entries share one vocabulary (the builder's file events too): one enum.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {"ChangeKindEnum": "files.models.FileChange.Action"}  # noqa: F821

_origin = OASIS["PREVIEW_ORIGIN"]  # noqa: F821
if _origin and not _origin.startswith(("http://", "https://")):
    raise ImproperlyConfigured("OASIS_PREVIEW_ORIGIN must be an origin such as https://preview.example.com")
