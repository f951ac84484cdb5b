"""Whatever a client sends, the answer is a clear 4xx in the envelope, never a 500."""

import pytest

from oasis_common.testing import error_of
from tests.helpers import PROJECTS, project_url

HUGE = "9" * 30


@pytest.mark.parametrize(
    ("method", "suffix", "params"),
    [
        ("get", f"revisions/{HUGE}/", {}),
        ("post", f"revisions/{HUGE}/restore/", {}),
        ("get", "revisions/diff/", {"from": HUGE}),
        ("get", "files/", {"revision": HUGE}),
        ("get", "files/index.html", {"revision": HUGE}),
        ("get", "export/", {"revision": HUGE}),
        ("get", "files/", {"revision": "1e3"}),
        ("get", "revisions/", {"page": "x"}),
    ],
)
def test_out_of_range_or_malformed_numbers_are_4xx(ada, landing, method, suffix, params):
    response = getattr(ada, method)(project_url(landing, suffix), params)

    assert 400 <= response.status_code < 500, response.content
    error_of(response, response.status_code)


@pytest.mark.parametrize(
    "body",
    [
        {"revision": int(HUGE)},
        {"expires_in": int(HUGE)},
        {"revision": None, "expires_in": None},
        [],
    ],
)
def test_preview_options_out_of_range_are_4xx(ada, landing, body):
    response = ada.post(project_url(landing, "preview/"), body, format="json")

    assert response.status_code in (201, 400, 404), response.content


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\x00b"},
        [],
        "just a string",
        {"name": ["list"]},
    ],
)
def test_odd_project_bodies_are_400(ada, body):
    error_of(ada.post(PROJECTS, body, format="json"), 400)


def test_a_search_with_a_nul_character_is_400(ada):
    error_of(ada.get(PROJECTS, {"search": "a\x00"}), 400, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {"writes": [{"path": "a", "base64": "===="}]},
        {"writes": [None]},
        {"renames": ["a"]},
        {"base_revision": int(HUGE), "writes": [{"path": "a", "text": "x"}]},
    ],
)
def test_odd_change_sets_are_400(ada, landing, body):
    response = ada.post(project_url(landing, "changes/"), body, format="json")

    error_of(response, 400)


@pytest.mark.parametrize(
    ("suffix", "raw"),
    [
        ("", b'{"name": "x", "description": "\\ud800"}'),
        ("{id}/changes/", b'{"writes": [{"path": "\\ud800", "text": "x"}]}'),
        ("{id}/changes/", b'{"writes": [{"path": "a", "text": "\\ud800"}]}'),
    ],
)
def test_a_lone_surrogate_in_json_is_400(ada, landing, suffix, raw):
    response = ada.post(PROJECTS + suffix.format(id=landing["id"]), raw, content_type="application/json")

    error_of(response, 400)
