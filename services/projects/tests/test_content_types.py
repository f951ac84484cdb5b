"""Content types come from the extension, identically on every machine; text is valid UTF-8 without NUL."""

import pytest

from files.content_types import content_type_header, content_type_of, is_text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("index.html", "text/html"),
        ("INDEX.HTM", "text/html"),
        ("app.mjs", "text/javascript"),
        ("site.webmanifest", "application/manifest+json"),
        ("photo.webp", "image/webp"),
        ("notes.md", "text/markdown"),
        ("Makefile", "application/octet-stream"),
        ("bundle.js.gz", "application/gzip"),
    ],
)
def test_content_type_of(path, expected):
    assert content_type_of(path) == expected


def test_textual_types_are_served_with_a_charset_and_binary_ones_without():
    assert content_type_header("a.css") == "text/css; charset=utf-8"
    assert content_type_header("a.json") == "application/json; charset=utf-8"
    assert content_type_header("a.png") == "image/png"


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"plain", True), ("caf\u00e9".encode(), True), (b"", True), (b"a\x00b", False), (b"\xff\xfe", False)],
)
def test_is_text(data, expected):
    assert is_text(data) is expected
