"""Content types from file extensions, the same on every machine, and whether bytes are text."""

from __future__ import annotations

import mimetypes

# Built-in table only: the host's /etc/mime.types differs between machines and images.
_table = mimetypes.MimeTypes(filenames=())
for _type, _extension in (
    ("text/html", ".html"),
    ("text/html", ".htm"),
    ("text/css", ".css"),
    ("text/javascript", ".js"),
    ("text/javascript", ".mjs"),
    ("application/json", ".json"),
    ("application/json", ".map"),
    ("application/manifest+json", ".webmanifest"),
    ("text/markdown", ".md"),
    ("text/plain", ".txt"),
    ("image/svg+xml", ".svg"),
    ("image/webp", ".webp"),
    ("image/avif", ".avif"),
    ("image/x-icon", ".ico"),
    ("font/woff", ".woff"),
    ("font/woff2", ".woff2"),
    ("font/ttf", ".ttf"),
    ("font/otf", ".otf"),
    ("application/xml", ".xml"),
    ("text/plain", ".ts"),
    ("text/plain", ".tsx"),
    ("text/plain", ".jsx"),
    ("text/plain", ".yml"),
    ("text/plain", ".yaml"),
):
    _table.add_type(_type, _extension)

DEFAULT = "application/octet-stream"
# Served with `; charset=utf-8` so browsers never guess an encoding.
TEXTUAL = frozenset(
    {
        "application/json",
        "application/manifest+json",
        "application/xml",
        "application/javascript",
        "image/svg+xml",
    }
)


def content_type_of(path: str) -> str:
    """The media type for `path`, from its extension (case-insensitive); unknown is octet-stream."""
    guessed, encoding = _table.guess_type(path.lower(), strict=False)
    if guessed is None or encoding is not None:
        # `site.css.gz` is a gzip file, not CSS: never label compressed bytes as their inner type.
        return DEFAULT if encoding is None else "application/gzip"
    return guessed


def content_type_header(path: str) -> str:
    """The Content-Type header value for serving `path`."""
    media_type = content_type_of(path)
    if media_type.startswith("text/") or media_type in TEXTUAL:
        return f"{media_type}; charset=utf-8"
    return media_type


def is_text(data: bytes) -> bool:
    """Whether `data` is text we can show and diff: valid UTF-8 without NUL bytes."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
