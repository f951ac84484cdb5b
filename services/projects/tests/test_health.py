"""The platform probes and metrics as the projects service answers them."""

from oasis_common.testing import error_of


def test_healthz_answers_without_touching_the_database(anonymous, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "projects"}


def test_readyz_checks_the_database_and_the_cache(anonymous):
    response = anonymous.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


def test_metrics_are_exported(anonymous):
    response = anonymous.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests" in response.content


def test_an_unknown_path_is_a_json_404(anonymous):
    response = anonymous.get("/nothing/here")

    error_of(response, 404, "not_found")
