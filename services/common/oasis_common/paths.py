"""The one place that decides whether a project file path is acceptable, and in which form it is stored.

Projects stores files under these rules; the builder refuses a path a model invents by the
same rules before it ever reaches projects.

A path is relative POSIX (`css/site.css`), NFC-normalised, and checked after
normalisation. Segments are also compared in their NFKC form, so look-alikes that a
later tool might fold into `.`, `..` or a slash (fullwidth full stop, one-dot leader,
fullwidth solidus) are refused rather than stored.
"""

from __future__ import annotations

import unicodedata

from oasis_common.conf import oasis_settings
from oasis_common.errors import ServiceError

# Characters that reorder or hide text: a file list must show the name that is stored.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


class InvalidPath(ServiceError):
    code = "invalid_path"
    message = "This file path is not allowed."

    def __init__(self, code: str, message: str, path: str) -> None:
        # Echo a bounded, printable form: the raw path may be huge or hold control characters.
        shown = path[:200].encode("unicode_escape").decode("ascii")
        super().__init__(message, code=code, details={"path": shown})


def path_clean(raw: object) -> str:
    """Return `raw` in its stored form (NFC), or raise InvalidPath with a precise code."""
    if not isinstance(raw, str):
        raise InvalidPath("path_invalid", "A path must be a string.", str(raw))
    if not raw:
        raise InvalidPath("path_empty", "The path is empty.", raw)
    limits = {
        name: getattr(oasis_settings, name)
        for name in ("MAX_PATH_BYTES", "MAX_PATH_DEPTH", "MAX_SEGMENT_BYTES")
    }
    if len(raw) > limits["MAX_PATH_BYTES"]:
        # Bounded before normalising: NFC of a huge string is wasted work.
        raise InvalidPath("path_too_long", f"A path may be at most {limits['MAX_PATH_BYTES']} bytes.", raw)
    if "\\" in raw:
        raise InvalidPath("path_backslash", "Use forward slashes in paths.", raw)
    for char in raw:
        if unicodedata.category(char) in REFUSED_CATEGORIES or char in BIDI_CONTROLS:
            raise InvalidPath("path_control_character", "Paths may not contain control characters.", raw)
    path = unicodedata.normalize("NFC", raw)
    if len(path.encode()) > limits["MAX_PATH_BYTES"]:
        raise InvalidPath("path_too_long", f"A path may be at most {limits['MAX_PATH_BYTES']} bytes.", raw)
    if path.startswith("/"):
        raise InvalidPath("path_absolute", "Paths are relative to the project root.", raw)
    segments = path.split("/")
    if len(segments) > limits["MAX_PATH_DEPTH"]:
        raise InvalidPath("path_too_deep", f"A path may have at most {limits['MAX_PATH_DEPTH']} parts.", raw)
    for segment in segments:
        _check_segment(segment, raw, limits["MAX_SEGMENT_BYTES"])
    return path


def _check_segment(segment: str, raw: str, max_bytes: int) -> None:
    if segment == "":
        raise InvalidPath("path_empty_segment", "Paths may not contain empty parts (`a//b`, `a/`).", raw)
    if segment == "..":
        raise InvalidPath("path_traversal", "Paths may not contain `..`.", raw)
    if segment == ".":
        raise InvalidPath("path_dot_segment", "Paths may not contain `.` parts.", raw)
    folded = unicodedata.normalize("NFKC", segment)
    if folded in (".", "..") or "/" in folded or "\\" in folded:
        raise InvalidPath(
            "path_lookalike", "Paths may not contain characters that imitate `.`, `..` or `/`.", raw
        )
    if len(segment.encode()) > max_bytes:
        raise InvalidPath(
            "path_segment_too_long", f"A file or folder name may be at most {max_bytes} bytes.", raw
        )


def path_parents(path: str) -> list[str]:
    """The folders that contain `path`, outermost first: `a/b/c` gives `a`, `a/b`."""
    segments = path.split("/")
    return ["/".join(segments[:index]) for index in range(1, len(segments))]
