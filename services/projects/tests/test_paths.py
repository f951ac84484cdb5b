"""Path rules: one function decides, every write path uses it, and a refused path changes nothing."""

import pytest

from files.models import Revision
from oasis_common.paths import InvalidPath, path_clean, path_parents
from oasis_common.testing import error_of
from tests.helpers import change_set, file_url, files_of, put_file, text

ATTACKS = [
    ("../x", "path_traversal"),
    ("a/../../x", "path_traversal"),
    ("a/..", "path_traversal"),
    ("/etc/passwd", "path_absolute"),
    ("a\\b", "path_backslash"),
    ("..\\..\\windows", "path_backslash"),
    ("a//b", "path_empty_segment"),
    ("a/", "path_empty_segment"),
    ("a/./b", "path_dot_segment"),
    ("./a", "path_dot_segment"),
    (".", "path_dot_segment"),
    ("a\x00b", "path_control_character"),
    ("a\nb", "path_control_character"),
    ("a\x7fb", "path_control_character"),
    ("a\u202egnp.exe", "path_control_character"),
    ("x" * 5000, "path_too_long"),
    ("/".join(["d"] * 40), "path_too_deep"),
    ("a/" + "n" * 300, "path_segment_too_long"),
    # Look-alikes that NFKC folds into `..`, `.` or `/`.
    ("\uff0e\uff0e/x", "path_lookalike"),  # fullwidth full stops
    ("\u2024\u2024/x", "path_lookalike"),  # one-dot leaders
    ("\u2025/x", "path_lookalike"),  # two-dot leader
    ("a/\uff0e/b", "path_lookalike"),
    ("a\uff0fb", "path_lookalike"),  # fullwidth solidus
    ("", "path_empty"),
]


@pytest.mark.parametrize(("raw", "code"), ATTACKS)
def test_a_bad_path_is_refused_with_a_precise_code(raw, code, settings):
    with pytest.raises(InvalidPath) as refused:
        path_clean(raw)

    assert refused.value.code == code
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    "raw",
    [
        "index.html",
        "css/site.css",
        "a/b/c/d.js",
        ".well-known/security.txt",
        "..hidden",
        "a..b",
        "with space.html",
        "日本語/ページ.html",
        "emoji-🎉.png",
        "x" * 255,
    ],
)
def test_a_good_path_is_kept_as_it_is(raw):
    assert path_clean(raw) == raw


def test_paths_are_stored_in_nfc():
    decomposed = "cafe\u0301.html"

    assert path_clean(decomposed) == "caf\u00e9.html"


def test_the_limits_come_from_settings(settings):
    settings.OASIS = {**settings.OASIS, "MAX_PATH_DEPTH": 2, "MAX_PATH_BYTES": 10}

    assert path_clean("a/b") == "a/b"
    with pytest.raises(InvalidPath) as deep:
        path_clean("a/b/c")
    with pytest.raises(InvalidPath) as long:
        path_clean("abcdefghijk")
    assert deep.value.code == "path_too_deep"
    assert long.value.code == "path_too_long"


def test_a_path_that_is_not_a_string_is_refused():
    with pytest.raises(InvalidPath) as refused:
        path_clean(["a"])

    assert refused.value.code == "path_invalid"


def test_the_refused_path_is_echoed_escaped_and_bounded():
    with pytest.raises(InvalidPath) as refused:
        path_clean("a\x00" + "b" * 6000)

    shown = refused.value.details["path"]
    assert "\x00" not in shown
    assert len(shown) < 1000


def test_parents_are_the_enclosing_folders():
    assert path_parents("a/b/c.txt") == ["a", "a/b"]
    assert path_parents("c.txt") == []


@pytest.mark.parametrize(("raw", "code"), [attack for attack in ATTACKS if attack[0]])
def test_a_change_set_with_a_bad_path_changes_nothing(ada, project, raw, code):
    response = change_set(ada, project, writes=[text("ok.html", "fine"), text(raw, "evil")])

    error = error_of(response, 400, code)
    assert "path" in error["details"]
    assert files_of(ada, project) == {}
    assert not Revision.objects.exists()


@pytest.mark.parametrize(
    ("url_path", "code"),
    [
        ("../x", "path_traversal"),
        ("a/../b", "path_traversal"),
        ("/etc/passwd", "path_absolute"),
        ("a%5Cb", "path_backslash"),
        ("a%00b", "path_control_character"),
        ("a//b", "path_empty_segment"),
        ("a/./b", "path_dot_segment"),
        ("%EF%BC%8E%EF%BC%8E/x", "path_lookalike"),
        ("x" * 5000, "path_too_long"),
    ],
)
def test_a_put_to_a_bad_path_changes_nothing(ada, project, url_path, code):
    response = ada.generic("PUT", file_url(project, "") + url_path, b"evil")

    error_of(response, 400, code)
    assert files_of(ada, project) == {}


def test_a_decomposed_name_and_its_composed_form_are_the_same_file(ada, project):
    put_file(ada, project, "cafe\u0301.html", "<p>menu</p>")

    assert list(files_of(ada, project)) == ["caf\u00e9.html"]
    assert ada.get(file_url(project, "caf\u00e9.html")).content == b"<p>menu</p>"
    assert ada.get(file_url(project, "cafe\u0301.html")).content == b"<p>menu</p>"
