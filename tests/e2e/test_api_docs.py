"""The API reference at /docs/: each service's public API, exactly what the gateway routes to it."""

from __future__ import annotations

import re

import pytest
import yaml
from render import ConfigError, build_site
from routes import ROUTES

from tests.e2e.system import REPO

ROUTES_BY_SERVICE = {route.service: route for route in ROUTES}
ANY_ID = "00000000-0000-0000-0000-000000000000"


def test_the_published_documents_describe_only_what_the_gateway_routes_to_each_service(gateway):
    services = gateway.get("/docs/services.json").json()

    assert "auth" in services
    for service in services:
        text = gateway.get(f"/docs/{service}.yaml").text
        route = ROUTES_BY_SERVICE[service]
        routed = (*route.prefixes, *route.public_prefixes)
        assert "/internal/" not in text, service
        assert all(path.startswith(routed) for path in yaml.safe_load(text)["paths"]), service


@pytest.mark.parametrize("service", sorted(ROUTES_BY_SERVICE))
def test_every_internal_path_is_refused_at_the_gateway(gateway, service):
    paths = yaml.safe_load((REPO / "services" / service / "openapi-internal.yaml").read_text())["paths"]

    for path in paths:
        response = gateway.get(re.sub(r"\{[^}]+\}", ANY_ID, path))
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_the_site_is_not_built_from_a_document_with_an_internal_path(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "services" / "payments").mkdir(parents=True)
    published = (REPO / "services" / "payments" / "openapi.yaml").read_text()
    leaked = published.replace("paths:\n", "paths:\n  /internal/v1/holds:\n    post: {}\n", 1)
    (repo / "services" / "payments" / "openapi.yaml").write_text(leaked)
    monkeypatch.setattr("render.REPO_ROOT", repo)

    with pytest.raises(ConfigError, match="/internal/v1/holds"):
        build_site(tmp_path / "site")
