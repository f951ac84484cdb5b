"""oasis_common.middleware: probes before host checks; request ids and one access log line per request."""

import re

import pytest

from oasis_common.context import get_request_id

UNKNOWN_URL = "/no/such/page"


@pytest.mark.parametrize("incoming", ["gateway-0123456789", "0123456789abcdef0123456789abcdef"])
def test_a_well_formed_request_id_is_kept_and_echoed(api, incoming):
    response = api.get(UNKNOWN_URL, HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] == incoming
    assert response.json()["error"]["request_id"] == incoming


@pytest.mark.parametrize("incoming", ["short", "bad id with spaces", "x" * 200, "<img src=x>"])
def test_a_malformed_request_id_is_replaced(api, incoming):
    response = api.get(UNKNOWN_URL, HTTP_X_REQUEST_ID=incoming)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]


def test_a_request_id_is_generated_when_absent(api):
    first = api.get(UNKNOWN_URL)["X-Request-ID"]
    second = api.get(UNKNOWN_URL)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_the_request_id_does_not_outlive_its_request(api):
    api.get(UNKNOWN_URL, HTTP_X_REQUEST_ID="gateway-0123456789")
    assert get_request_id() == ""


def test_each_request_is_logged_once_with_its_outcome(api, caplog):
    caplog.set_level("INFO", logger="oasis.requests")
    api.get(UNKNOWN_URL, HTTP_X_REQUEST_ID="gateway-0123456789")
    (record,) = [r for r in caplog.records if r.name == "oasis.requests"]
    assert (record.method, record.path, record.status) == ("GET", UNKNOWN_URL, 404)
    assert record.duration_ms >= 0


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_probes_answer_whatever_the_host_header(api, db, probe):
    # Orchestrators probe a pod by its IP address, which is never in ALLOWED_HOSTS.
    response = api.get(probe, HTTP_HOST="10.42.0.17:8000")
    assert response.status_code == 200, response.content


def test_other_paths_still_refuse_an_unknown_host(api):
    response = api.get(UNKNOWN_URL, HTTP_HOST="10.42.0.17:8000")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert "10.42.0.17" not in response.content.decode()


def test_a_probe_path_is_matched_exactly(api):
    assert api.get("/healthz/extra").status_code == 404
