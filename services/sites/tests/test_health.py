"""The platform probes and metrics as the sites service answers them."""


def test_healthz_answers_without_touching_the_database(anonymous, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "sites"}


def test_readyz_checks_the_database_and_the_cache(anonymous):
    response = anonymous.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


def test_an_unknown_path_is_a_json_404(anonymous):
    response = anonymous.get("/api/v1/sites/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_api_needs_a_token(anonymous):
    response = anonymous.get("/api/v1/sites/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
