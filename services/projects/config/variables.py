"""The projects service's own keys of `settings.OASIS`: one table, read by config/settings.py."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from oasis_common.conf import DEFAULTS, Setting, url

MiB = 1024 * 1024
# The longest path a database index can hold on every backend we run; the setting may only lower it.
PATH_BYTES_CEILING = 1024


def at_most_the_ceiling(setting: Setting, value: int) -> int:
    return min(value, PATH_BYTES_CEILING)


def origin(setting: Setting, value: str) -> str:
    value = url(setting, value)
    if value and not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{setting.env_var} must be an origin such as https://preview.example.com")
    return value


def path(setting: Setting, value: str) -> Path:
    return Path(value)


PROJECTS = (
    Setting("MAX_PROJECTS_PER_USER", "OASIS_MAX_PROJECTS_PER_USER", 100, int),
    Setting("MAX_FILE_BYTES", "OASIS_MAX_FILE_BYTES", 10 * MiB, int, "one file"),
    Setting("MAX_FILES_PER_PROJECT", "OASIS_MAX_FILES_PER_PROJECT", 5000, int),
    Setting("MAX_PROJECT_BYTES", "OASIS_MAX_PROJECT_BYTES", 100 * MiB, int, "all files of a project"),
    Setting(
        "MAX_PATH_BYTES",
        "OASIS_MAX_PATH_BYTES",
        DEFAULTS["MAX_PATH_BYTES"],
        int,
        f"at most {PATH_BYTES_CEILING}",
        clean=at_most_the_ceiling,
    ),
    Setting("MAX_PATH_DEPTH", "OASIS_MAX_PATH_DEPTH", DEFAULTS["MAX_PATH_DEPTH"], int),
    Setting("MAX_SEGMENT_BYTES", "OASIS_MAX_SEGMENT_BYTES", DEFAULTS["MAX_SEGMENT_BYTES"], int),
    Setting("PREVIEW_ORIGIN", "OASIS_PREVIEW_ORIGIN", "", help="an origin for /preview/ links", clean=origin),
    Setting("PREVIEW_DEFAULT_SECONDS", "OASIS_PREVIEW_DEFAULT_SECONDS", 3600, int, "preview link lifetime"),
    Setting("PREVIEW_MAX_SECONDS", "OASIS_PREVIEW_MAX_SECONDS", 7 * 24 * 3600, int),
    Setting("IMPORT_MAX_BYTES", "OASIS_IMPORT_MAX_BYTES", 50 * MiB, int, "an imported zip"),
    Setting("IMPORT_MAX_ENTRIES", "OASIS_IMPORT_MAX_ENTRIES", 10000, int),
    Setting("IMPORT_MAX_RATIO", "OASIS_IMPORT_MAX_RATIO", 100, int, "largest compression ratio accepted"),
    Setting("SNAPSHOT_MAX_BYTES", "OASIS_SNAPSHOT_MAX_BYTES", 2 * MiB, int),
    Setting(
        "TEMPLATES_DIR",
        "OASIS_TEMPLATES_DIR",
        "",
        help="starter templates",
        clean=path,
        derived="templates_library/ beside manage.py",
    ),
)
