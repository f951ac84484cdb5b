"""The gateway's own behaviour: routing, request ids, CORS, rate limits, error pages, the home page."""

import concurrent.futures
import json
import time

import requests

from tests.e2e.conftest import Client, bearer, fresh_ip
from tests.e2e.system import REPO, SERVICES


def test_home_page_says_what_imagi_oasis_is(gateway):
    response = gateway.get("/")

    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]
    assert "Imagi Oasis" in response.text
    assert 'href="/docs/"' in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_docs_serve_the_reference_from_local_files(gateway):
    page = gateway.get("/docs/")
    services = gateway.get("/docs/services.json")
    viewer = gateway.get("/docs/redoc.standalone.js")

    assert page.status_code == 200
    assert set(services.json()) >= set(SERVICES) | {"auth"}
    for service in services.json():
        reference = gateway.get(f"/docs/{service}.yaml")
        assert reference.status_code == 200, service
        assert reference.text == (REPO / "services" / service / "openapi.yaml").read_text(), service
    assert viewer.status_code == 200
    assert "Redoc" in viewer.text
    # Every script and stylesheet of the page comes from the gateway itself.
    assert "://" not in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_health_is_public(gateway):
    assert gateway.get("/healthz").json()["status"] == "ok"


def test_jwks_is_public(gateway):
    keys = gateway.get("/api/v1/auth/.well-known/jwks.json").json()["keys"]

    assert keys
    assert all(key["kty"] == "RSA" for key in keys)
    assert all(key["kid"] for key in keys)


def test_internal_and_metrics_are_never_routed(gateway):
    for path in ("/internal/v1/verify", "/internal/v1/service-token", "/metrics", "/admin/"):
        response = gateway.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_unknown_api_paths_are_404_envelopes(gateway):
    response = gateway.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["request_id"] == response.headers["X-Request-ID"]


def test_protected_paths_need_a_token(gateway):
    response = gateway.get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_well_formed_request_id_is_passed_on_to_the_service(system, gateway, account):
    request_id = "trace-0123456789abcdef"

    response = gateway.get(
        "/api/v1/auth/me/", headers={**bearer(account["access"]), "X-Request-ID": request_id}
    )

    assert response.headers["X-Request-ID"] == request_id
    logged = [json.loads(line) for line in system.log("auth").splitlines() if line.startswith("{")]
    assert any(
        entry.get("request_id") == request_id and entry.get("path") == "/api/v1/auth/me/" for entry in logged
    )


def test_a_malformed_request_id_is_replaced(gateway):
    response = gateway.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})

    assert response.headers["X-Request-ID"] != "bad id with spaces"
    assert len(response.headers["X-Request-ID"]) >= 16


def test_cors_preflight_for_a_configured_origin(gateway):
    response = gateway.options(
        "/api/v1/auth/me/",
        headers={
            "Origin": "http://app.example.test",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://app.example.test"
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_cors_headers_on_answers_and_errors_for_a_configured_origin(gateway, account):
    origin = {"Origin": "http://app.example.test"}
    ok = gateway.get("/api/v1/auth/me/", headers={**bearer(account["access"]), **origin})
    refused = gateway.get("/api/v1/auth/me/", headers=origin)

    assert ok.headers["Access-Control-Allow-Origin"] == "http://app.example.test"
    assert refused.headers["Access-Control-Allow-Origin"] == "http://app.example.test"
    assert "X-Request-ID" in ok.headers["Access-Control-Expose-Headers"]


def test_no_cors_for_other_origins(gateway):
    response = gateway.options(
        "/api/v1/auth/me/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )

    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.status_code == 401


def test_sign_in_is_rate_limited_per_address_with_an_envelope(system):
    client = Client(system.url, source_ip=fresh_ip())

    def hit(_):
        return client.post("/api/v1/auth/token/", json={}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(hit, range(400)))

    assert 429 in statuses
    limited = client.post("/api/v1/auth/token/", json={})
    if limited.status_code == 429:
        assert limited.json()["error"]["code"] == "too_many_requests"
        assert limited.headers["Retry-After"] == "1"
    # Another address is unaffected.
    assert Client(system.url, source_ip=fresh_ip()).post("/api/v1/auth/token/", json={}).status_code == 400


def test_an_unreachable_auth_service_is_a_503_envelope(system, account):
    from tests.e2e.system import free_port

    url = system.start_extra_gateway("gateway-dead-auth", upstreams={"auth": f"127.0.0.1:{free_port()}"})

    protected = requests.get(f"{url}/api/v1/auth/me/", headers=bearer(account["access"]), timeout=10)
    public = requests.post(f"{url}/api/v1/auth/token/", json={}, timeout=10)

    for response in (protected, public):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "service_unavailable"


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(system):
    url = system.start_extra_gateway("gateway-behind-proxy", real_ip_from=["127.0.0.0/8"])
    untrusted = system.start_extra_gateway("gateway-no-proxy")

    requests.get(
        f"{url}/healthz",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "proxied-0001"},
        timeout=10,
    )
    requests.get(
        f"{untrusted}/healthz",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "direct-00001"},
        timeout=10,
    )

    def logged(name: str, request_id: str) -> dict:
        # nginx writes the access log line just after answering.
        for _ in range(50):
            lines = (system.root / name / "access.log").read_text().splitlines()
            found = [json.loads(line) for line in lines if request_id in line]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"{request_id} was not logged by {name}")

    assert logged("gateway-behind-proxy", "proxied-0001")["remote_addr"] == "203.0.113.9"
    direct = logged("gateway-no-proxy", "direct-00001")
    assert direct["remote_addr"].startswith("127."), direct
