"""What fuzzing found, each pinned by a plain test against the same running system (tests/fuzz/README.md)."""

from __future__ import annotations

import pytest
import requests

from tests.fuzz.checks import REAL_IDS


def get(target: dict, path: str, **kwargs) -> requests.Response:
    return requests.get(f"{target['base_url']}{path}", headers=target["headers"], timeout=30, **kwargs)


def test_an_address_too_long_for_the_gateway_is_a_414_envelope(fuzz_target):
    response = get(fuzz_target, "/api/v1/projects/?search=" + "x" * 9000)

    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"
    assert response.json()["error"]["request_id"] == response.headers["X-Request-ID"]


def test_headers_too_large_for_the_gateway_are_a_400_envelope(fuzz_target):
    """Found next to the 414: nginx's own 400 for oversized headers was an HTML page."""
    response = requests.get(
        f"{fuzz_target['base_url']}/api/v1/projects/",
        headers={**fuzz_target["headers"], "X-Padding": "x" * 20000},
        timeout=30,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "request_header_too_large"


def test_a_long_address_the_gateway_accepts_reaches_the_service(fuzz_target):
    """gunicorn used to refuse request lines over 4094 bytes with a plain-text 400."""
    response = get(fuzz_target, "/api/v1/payments/ledger/", params={"kind": ["grant"] * 600})

    assert 4094 < len(response.request.url) < 8000
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/projects/", "/api/v1/payments/ledger/"])
def test_a_page_past_the_end_is_a_404_envelope(fuzz_target, path):
    response = get(fuzz_target, path, params={"page": 0})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_options_on_the_project_collection_is_not_a_server_error(fuzz_target):
    response = requests.options(
        f"{fuzz_target['base_url']}/api/v1/projects/", headers=fuzz_target["headers"], timeout=30
    )

    assert response.status_code == 200


@pytest.mark.parametrize("listing", ["generations", "messages"])
def test_the_builders_lists_are_paginated_as_documented(fuzz_target, listing):
    body = get(fuzz_target, f"/api/v1/builder/projects/{REAL_IDS['project_id']}/{listing}/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 1
