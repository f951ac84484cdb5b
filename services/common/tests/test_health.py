"""oasis_common.health: liveness without I/O, readiness of the database, cache and required peers."""

import pytest
import requests
from django.db.utils import OperationalError

from oasis_common import health

AUTH = "http://auth.test"
PAYMENTS = "http://payments.test"


def test_healthz_answers_without_touching_the_database_or_the_network(api, mocked_http):
    # No `db` fixture: pytest-django fails any query, and `mocked_http` any HTTP call.
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "projects"}


def test_readyz_is_ready_when_the_database_and_cache_answer(api, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = api.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


def test_readyz_checks_each_required_peer(api, db, mocked_http, oasis_settings):
    oasis_settings(READY_PEERS=[AUTH, f"{PAYMENTS}/"])
    mocked_http.get(f"{AUTH}/healthz", json={"status": "ok"})
    mocked_http.get(f"{PAYMENTS}/healthz", json={"status": "ok"})
    response = api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        f"peer:{AUTH}": "ok",
        f"peer:{PAYMENTS}/": "ok",
    }


@pytest.mark.parametrize(
    "failure",
    [{"status": 503}, {"status": 404}, {"body": requests.ConnectionError("refused")}],
    ids=["5xx", "404", "unreachable"],
)
def test_readyz_is_not_ready_when_a_required_peer_is_down(api, db, mocked_http, oasis_settings, failure):
    oasis_settings(READY_PEERS=[AUTH])
    mocked_http.get(f"{AUTH}/healthz", **failure)
    response = api.get("/readyz")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    assert error["details"]["checks"] == {"database": "ok", "cache": "ok", f"peer:{AUTH}": "failing"}


def test_a_peer_probe_has_short_timeouts(api, db, mocked_http, oasis_settings):
    oasis_settings(READY_PEERS=[AUTH])
    mocked_http.get(f"{AUTH}/healthz", json={})
    api.get("/readyz")
    connect, read = mocked_http.calls[0].request.req_kwargs["timeout"]
    assert connect <= 1
    assert read <= 2


def test_readyz_is_not_ready_when_the_database_fails(api, db, monkeypatch):
    def database_down():
        raise OperationalError("could not connect to server at 10.0.0.5")

    monkeypatch.setattr(health, "_check_database", database_down)
    response = api.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"] == {"database": "failing", "cache": "ok"}
    assert "10.0.0.5" not in response.content.decode()


def test_a_check_a_service_adds_is_run_and_its_failure_logged_with_the_cause(api, db, caplog, monkeypatch):
    def full() -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(health, "_added_checks", {"disk": full})

    response = api.get("/readyz")

    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"] == {
        "database": "ok",
        "cache": "ok",
        "disk": "failing",
    }
    assert "readiness check disk failed: OSError: No space left on device" in caplog.text


def test_a_failing_cache_leaves_the_service_ready_but_degraded(api, db, caplog, monkeypatch):
    def redis_down() -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(health, "_check_cache", redis_down)

    response = api.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "failing"}}
    assert "readiness check cache failed: ConnectionError: Error 111 connecting" in caplog.text
