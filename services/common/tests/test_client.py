"""oasis_common.client: calls to peers with timeouts, safe retries, request ids and service tokens."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from responses import matchers

from oasis_common import client
from oasis_common.client import ServiceClient, service_token
from oasis_common.context import reset_request_id, set_request_id
from oasis_common.errors import PeerUnavailable
from oasis_common.testing import user_token

PAYMENTS = "http://payments.test"
HOLDS = f"{PAYMENTS}/internal/v1/holds"
TOKEN_URL = "http://auth.test/internal/v1/service-token"


@pytest.fixture
def auth_issues_tokens(mocked_http):
    """Auth answers each service-token request with the next token: tok-1, tok-2, ..."""
    issued = []

    def issue(request):
        issued.append(json.loads(request.body))
        return (
            200,
            {},
            json.dumps({"access": f"tok-{len(issued)}", "token_type": "Bearer", "expires_in": 300}),
        )

    mocked_http.add_callback("POST", TOKEN_URL, callback=issue, content_type="application/json")
    return issued


@pytest.fixture
def payments(auth_issues_tokens):
    return ServiceClient("payments", PAYMENTS)


def calls_to(mocked_http, url):
    return [call for call in mocked_http.calls if call.request.url.split("?")[0] == url]


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.ConnectionError("connection refused")},
        {"body": requests.ConnectTimeout("connect timed out")},
        {"body": requests.ReadTimeout("read timed out")},
        {"status": 500},
        {"status": 502},
        {"status": 503},
        {"status": 504},
    ],
    ids=["refused", "connect-timeout", "read-timeout", "500", "502", "503", "504"],
)
def test_an_unreachable_or_failing_peer_becomes_peer_unavailable(mocked_http, payments, failure):
    mocked_http.get(HOLDS, **failure)
    with pytest.raises(PeerUnavailable) as caught:
        payments.get("/internal/v1/holds")
    assert caught.value.status_code == 503
    assert caught.value.code == "service_unavailable"
    assert caught.value.details == {"service": "payments"}


def test_a_user_gets_a_clean_503_when_a_peer_is_down(api, mocked_http, auth_issues_tokens):
    mocked_http.get(f"{PAYMENTS}/internal/v1/ping", body=requests.ConnectionError("refused"))
    response = api.get("/api/v1/testapp/peer-echo/", HTTP_AUTHORIZATION=f"Bearer {user_token()}")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["details"] == {"service": "payments"}


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 422])
def test_a_peer_4xx_is_returned_to_the_caller_unretried(mocked_http, payments, status):
    mocked_http.post(HOLDS, status=status, json={"error": {"code": "nope"}})
    response = payments.post("/internal/v1/holds", json={}, idempotency_key="key-1")
    assert response.status_code == status
    assert response.json() == {"error": {"code": "nope"}}
    assert len(calls_to(mocked_http, HOLDS)) == 1


def test_a_429_with_retry_after_is_returned_at_once(mocked_http, payments):
    mocked_http.get(HOLDS, status=429, headers={"Retry-After": "30"}, json={})
    response = payments.get("/internal/v1/holds")
    assert response.status_code == 429
    assert len(calls_to(mocked_http, HOLDS)) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_get_is_retried_on_a_gateway_error_and_then_succeeds(mocked_http, payments, status):
    mocked_http.get(HOLDS, status=status)
    mocked_http.get(HOLDS, status=200, json={"holds": []})
    response = payments.get("/internal/v1/holds")
    assert response.status_code == 200
    assert response.json() == {"holds": []}
    assert len(calls_to(mocked_http, HOLDS)) == 2


def test_retries_stop_after_the_configured_number(mocked_http, oasis_settings, auth_issues_tokens):
    oasis_settings(HTTP_RETRIES=3)
    mocked_http.get(HOLDS, status=503)
    with pytest.raises(PeerUnavailable):
        ServiceClient("payments", PAYMENTS).get("/internal/v1/holds")
    assert len(calls_to(mocked_http, HOLDS)) == 4


def test_a_post_without_an_idempotency_key_is_not_retried(mocked_http, payments):
    mocked_http.post(HOLDS, status=503)
    mocked_http.post(HOLDS, status=201, json={})
    with pytest.raises(PeerUnavailable):
        payments.post("/internal/v1/holds", json={"amount": 5})
    assert len(calls_to(mocked_http, HOLDS)) == 1


def test_a_post_with_an_idempotency_key_is_retried_with_the_same_key(mocked_http, payments):
    mocked_http.post(HOLDS, status=503)
    mocked_http.post(HOLDS, status=201, json={"id": 7})
    response = payments.post("/internal/v1/holds", json={"amount": 5}, idempotency_key="hold-42")
    assert response.status_code == 201
    calls = calls_to(mocked_http, HOLDS)
    assert [call.request.headers["Idempotency-Key"] for call in calls] == ["hold-42", "hold-42"]
    assert [json.loads(call.request.body) for call in calls] == [{"amount": 5}, {"amount": 5}]


def test_the_caller_can_forbid_a_retry(mocked_http, payments):
    mocked_http.get(HOLDS, status=503)
    with pytest.raises(PeerUnavailable):
        payments.request("GET", "/internal/v1/holds", retry=False)
    assert len(calls_to(mocked_http, HOLDS)) == 1


def test_requests_carry_connect_and_read_timeouts(mocked_http, oasis_settings, auth_issues_tokens):
    oasis_settings(HTTP_CONNECT_TIMEOUT=0.5, HTTP_READ_TIMEOUT=4.0)
    mocked_http.get(HOLDS, json={})
    ServiceClient("payments", PAYMENTS).get("/internal/v1/holds")
    ServiceClient("payments", PAYMENTS).get("/internal/v1/holds", timeout=(1.0, 60.0))
    assert [call.request.req_kwargs["timeout"] for call in calls_to(mocked_http, HOLDS)] == [
        (0.5, 4.0),
        (1.0, 60.0),
    ]


def test_the_request_id_of_the_current_request_is_passed_on(mocked_http, payments):
    mocked_http.get(HOLDS, json={})
    token = set_request_id("req-from-the-gateway-1")
    try:
        payments.get("/internal/v1/holds")
    finally:
        reset_request_id(token)
    payments.get("/internal/v1/holds")
    first, second = calls_to(mocked_http, HOLDS)
    assert first.request.headers["X-Request-ID"] == "req-from-the-gateway-1"
    assert "X-Request-ID" not in second.request.headers


def test_json_and_query_parameters_are_sent(mocked_http, payments):
    mocked_http.post(
        HOLDS,
        json={},
        match=[matchers.json_params_matcher({"amount": 5}), matchers.query_param_matcher({"dry": "1"})],
    )
    assert payments.post("/internal/v1/holds", json={"amount": 5}, params={"dry": "1"}).status_code == 200


def test_the_service_token_is_fetched_once_and_reused(mocked_http, payments, auth_issues_tokens, settings):
    mocked_http.get(HOLDS, json={})
    payments.get("/internal/v1/holds")
    payments.get("/internal/v1/holds")
    ServiceClient("payments", PAYMENTS).get("/internal/v1/holds")
    assert auth_issues_tokens == [
        {
            "client_id": "projects",
            "client_secret": settings.OASIS["SERVICE_CLIENT_SECRET"],
            "audience": "payments",
        }
    ]
    assert {call.request.headers["Authorization"] for call in calls_to(mocked_http, HOLDS)} == {
        "Bearer tok-1"
    }
    token_call = calls_to(mocked_http, TOKEN_URL)[0]
    assert "Authorization" not in token_call.request.headers


def test_each_peer_gets_a_token_addressed_to_it(mocked_http, auth_issues_tokens):
    assert service_token("payments") == "tok-1"
    assert service_token("builder") == "tok-2"
    assert service_token("payments") == "tok-1"
    assert [body["audience"] for body in auth_issues_tokens] == ["payments", "builder"]


def test_the_service_token_is_renewed_shortly_before_it_expires(clock, auth_issues_tokens):
    assert service_token("payments") == "tok-1"
    clock.advance(300 - client.TOKEN_RENEWAL_MARGIN - 1)
    assert service_token("payments") == "tok-1"
    clock.advance(2)
    assert service_token("payments") == "tok-2"
    assert len(auth_issues_tokens) == 2


def test_the_service_token_is_forgotten_after_a_401(mocked_http, payments, auth_issues_tokens):
    mocked_http.get(HOLDS, status=401, json={"error": {"code": "invalid_token"}})
    mocked_http.get(HOLDS, json={})
    assert payments.get("/internal/v1/holds").status_code == 401
    assert payments.get("/internal/v1/holds").status_code == 200
    assert [call.request.headers["Authorization"] for call in calls_to(mocked_http, HOLDS)] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_a_service_token_request_is_retried_when_auth_is_briefly_down(mocked_http):
    mocked_http.post(TOKEN_URL, status=503)
    mocked_http.post(TOKEN_URL, json={"access": "tok", "token_type": "Bearer", "expires_in": 300})
    assert service_token("payments") == "tok"


@pytest.mark.parametrize(
    "refusal",
    [{"status": 401, "json": {}}, {"status": 400, "json": {}}, {"body": requests.ConnectionError()}],
)
def test_without_a_service_token_the_peer_call_is_unavailable(mocked_http, refusal):
    mocked_http.post(TOKEN_URL, **refusal)
    with pytest.raises(PeerUnavailable) as caught:
        ServiceClient("payments", PAYMENTS).get("/internal/v1/holds")
    assert caught.value.details == {"service": "auth"}
    assert calls_to(mocked_http, HOLDS) == []


@pytest.mark.parametrize(
    "answer",
    [
        {"body": "<html>502 Bad Gateway</html>", "content_type": "text/html"},
        {"json": {"token_type": "Bearer"}},
        {"json": {"access": "tok", "expires_in": "soon"}},
        {"json": ["tok"]},
    ],
    ids=["html", "no token", "bad lifetime", "not an object"],
)
def test_a_garbled_service_token_answer_makes_the_peer_call_unavailable(mocked_http, answer):
    mocked_http.post(TOKEN_URL, status=200, **answer)
    with pytest.raises(PeerUnavailable) as caught:
        ServiceClient("payments", PAYMENTS).get("/internal/v1/holds")
    assert caught.value.details == {"service": "auth"}


def test_an_unauthenticated_call_sends_no_token(mocked_http):
    mocked_http.get(f"{PAYMENTS}/healthz", json={"status": "ok"})
    ServiceClient("payments", PAYMENTS).get("/healthz", authenticate=False)
    assert "Authorization" not in mocked_http.calls[0].request.headers
    assert calls_to(mocked_http, TOKEN_URL) == []


class SlowUnavailablePeer(BaseHTTPRequestHandler):
    """A real peer that answers 503 and asks to be left alone for a while."""

    requests_seen = 0

    def do_GET(self):
        type(self).requests_seen += 1
        body = b'{"error": {"code": "maintenance"}}'
        self.send_response(503)
        self.send_header("Retry-After", "3")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_peer():
    SlowUnavailablePeer.requests_seen = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowUnavailablePeer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_peer_asking_for_retry_after_cannot_stall_the_caller(slow_peer):
    started = time.monotonic()
    with pytest.raises(PeerUnavailable):
        ServiceClient("payments", slow_peer).get("/internal/v1/holds", authenticate=False)
    assert time.monotonic() - started < 1
    assert SlowUnavailablePeer.requests_seen == 3


def test_a_peer_with_nothing_listening_is_unavailable_at_once():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(PeerUnavailable):
        ServiceClient("payments", f"http://127.0.0.1:{port}").get("/internal/v1/holds", authenticate=False)
    assert time.monotonic() - started < 1
