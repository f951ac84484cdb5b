"""oasis_common.urls: the platform routes every service mounts."""


def test_metrics_are_exported_for_prometheus(api):
    api.get("/no/such/page")
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "django_http_requests_total_by_method_total" in response.content.decode()
