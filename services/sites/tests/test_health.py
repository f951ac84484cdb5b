"""The platform probes and metrics as the sites service answers them."""

import re

import pytest

from hosting.store import StoreNotWritable, store_writable_check


def test_healthz_answers_without_touching_the_database(anonymous, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "sites"}


def test_readyz_checks_the_database_the_cache_and_the_store(anonymous, site_store):
    response = anonymous.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "site_store": "ok"},
    }


def test_a_store_that_refuses_writes_is_not_ready_and_the_log_says_why(anonymous, site_store, caplog):
    live = site_store.root / "live"
    live.rmdir()
    live.write_bytes(b"")

    response = anonymous.get("/readyz")

    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"]["site_store"] == "failing"
    assert f"cannot write in {live}: Not a directory" in caplog.text


def test_an_unknown_path_is_a_json_404(anonymous):
    response = anonymous.get("/api/v1/sites/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_api_needs_a_token(anonymous):
    response = anonymous.get("/api/v1/sites/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_store_check_passes_on_a_writable_store_and_leaves_nothing_behind(site_store):
    store_writable_check(site_store)

    assert [path for path in site_store.root.rglob("*") if path.is_file()] == []


def test_the_store_check_says_which_folder_of_the_store_refuses_writes(site_store):
    # Root ignores file modes, so the folder is made something no file can be written in.
    live = site_store.root / "live"
    live.rmdir()
    live.write_bytes(b"")

    with pytest.raises(StoreNotWritable, match=rf"cannot write in {re.escape(str(live))}: Not a directory"):
        store_writable_check(site_store)
