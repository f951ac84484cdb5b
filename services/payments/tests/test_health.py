"""The platform probes and metrics as the payments service answers them."""


def test_healthz_answers_without_touching_the_database(api, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "payments"}


def test_readyz_checks_the_database_and_the_cache(api, db):
    response = api.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


def test_metrics_are_exported(api, db):
    response = api.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests" in response.content


def test_an_unknown_path_is_a_json_404(api, db):
    response = api.get("/api/v1/payments/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
