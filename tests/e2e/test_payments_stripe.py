"""Buying credits end to end: checkout against a stand-in for Stripe's API, then Stripe's signed webhook.

This module runs its own system (auth and payments, behind the gateway) with Stripe keys
set and the Stripe API pointed at a local stand-in, so checkout sessions really exist.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.e2e.conftest import Client, bearer, fresh_ip, register, sign_in
from tests.e2e.system import SERVICES, System

pytestmark = pytest.mark.skipif("payments" not in SERVICES, reason="the payments service is not started")

PAYMENTS = "/api/v1/payments/"
WEBHOOK_SECRET = "whsec_e2e_webhook_secret"
ORIGIN = "https://app.example.test"
HOST = ORIGIN.removeprefix("https://")


class FakeStripe(ThreadingHTTPServer):
    """Answers POST /v1/checkout/sessions as Stripe does, one session per idempotency key.

    While `failure` is set, every request gets it instead: Stripe's error answer
    (`status`, `error`, `request_id`), or `{"drop": True}` to close the connection unanswered.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StripeHandler)
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self.failure: dict | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StripeHandler(BaseHTTPRequestHandler):
    server: FakeStripe

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        key = self.headers.get("Idempotency-Key", "")
        with self.server.lock:
            self.server.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
            failure = self.server.failure
            session = self.server.sessions.get(key)
            if failure is None and session is None:
                session_id = f"cs_test_{uuid.uuid4().hex}"
                session = {
                    "id": session_id,
                    "object": "checkout.session",
                    "url": f"https://checkout.stripe.test/pay/{session_id}",
                    "expires_at": int(time.time()) + 86400,
                    "status": "open",
                    "payment_status": "unpaid",
                }
                self.server.sessions[key] = session
        if failure is None:
            self._answer(200 if self.path == "/v1/checkout/sessions" else 404, session)
        elif failure.get("drop"):
            self.close_connection = True
        else:
            headers = {"Request-Id": failure["request_id"]}
            self._answer(failure["status"], {"error": failure["error"]}, headers)

    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def stripe():
    server = FakeStripe()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def paid_system(tmp_path_factory, stripe):
    running = System(
        root=tmp_path_factory.mktemp("payments-stripe"),
        services=tuple(name for name in ("auth", "payments") if name in SERVICES),
        env_overrides={
            "payments": {
                "STRIPE_SECRET_KEY": "sk_test_e2e",
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "OASIS_STRIPE_API_BASE": stripe.url,
                "OASIS_CHECKOUT_REDIRECT_ORIGINS": ORIGIN,
            }
        },
    )
    with running.running():
        yield running


@pytest.fixture
def gateway(paid_system) -> Client:
    return Client(paid_system.url, source_ip=fresh_ip())


@pytest.fixture
def buyer(gateway) -> dict:
    user = register(gateway)
    return {**user, "auth": bearer(sign_in(gateway, user["email"])["access"])}


def checkout(gateway, buyer, **overrides):
    body = {"pack_id": "starter", "success_url": f"{ORIGIN}/done", "cancel_url": f"{ORIGIN}/", **overrides}
    return gateway.post(f"{PAYMENTS}checkout/", json=body, headers=buyer["auth"])


def signed(event: dict, secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict]:
    payload = json.dumps(event)
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return payload.encode(), {
        "Content-Type": "application/json",
        "Stripe-Signature": f"t={timestamp},v1={mac}",
    }


def completed_event(session_id: str, user_id: str) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "checkout.session.completed",
        "livemode": False,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "amount_total": 1000,
                "currency": "usd",
                "client_reference_id": user_id,
                "metadata": {"user_id": user_id, "pack_id": "starter", "credits": "10000"},
                "payment_intent": f"pi_{uuid.uuid4().hex}",
                "payment_status": "paid",
                "status": "complete",
            }
        },
    }


def test_checkout_opens_a_stripe_session_for_the_buyer(gateway, buyer, stripe):
    response = checkout(gateway, buyer)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["url"] == f"https://checkout.stripe.test/pay/{created['session_id']}"
    sent = stripe.requests[-1]
    assert sent["path"] == "/v1/checkout/sessions"
    assert sent["headers"]["Authorization"] == "Bearer sk_test_e2e"
    assert sent["headers"]["Idempotency-Key"].startswith(f"checkout:{buyer['id']}:")
    assert sent["form"]["client_reference_id"] == buyer["id"]
    assert sent["form"]["metadata[credits]"] == "10000"
    assert sent["form"]["mode"] == "payment"


def test_the_buyer_reads_their_session_and_no_one_else_can(gateway, buyer):
    session_id = checkout(gateway, buyer).json()["session_id"]
    other = register(gateway)
    other_auth = bearer(sign_in(gateway, other["email"])["access"])

    mine = gateway.get(f"{PAYMENTS}checkout/{session_id}/", headers=buyer["auth"])
    theirs = gateway.get(f"{PAYMENTS}checkout/{session_id}/", headers=other_auth)

    assert mine.status_code == 200
    assert mine.json()["status"] == "open"
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"


def test_a_return_url_outside_the_allowed_origins_is_refused(gateway, buyer):
    response = checkout(gateway, buyer, success_url="https://evil.example.com/done")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "redirect_not_allowed"


@pytest.mark.parametrize(
    "url",
    [
        f"https://evil.example\\@{HOST}/",
        f"{ORIGIN}\\@evil.example/",
        f"https://user@{HOST}/",
        f"{ORIGIN}%2F@evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        f"{ORIGIN}\t.evil.example/",
        f" {ORIGIN}/",
    ],
)
@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
def test_a_hostile_return_url_is_refused_naming_the_field(gateway, buyer, stripe, field, url):
    sent = len(stripe.requests)

    response = checkout(gateway, buyer, **{field: url})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert set(response.json()["error"]["details"]) == {field}
    assert len(stripe.requests) == sent


def test_the_packs_are_purchasable_with_stripe(gateway, buyer):
    response = gateway.get(f"{PAYMENTS}packs/", headers=buyer["auth"])

    assert response.status_code == 200, response.text
    assert {pack["purchasable"] for pack in response.json()} == {True}


def test_stripes_signed_webhook_through_the_gateway_grants_the_credits_once(gateway, buyer):
    session_id = checkout(gateway, buyer).json()["session_id"]
    payload, headers = signed(completed_event(session_id, buyer["id"]))

    first = gateway.post(f"{PAYMENTS}webhooks/stripe/", data=payload, headers=headers)
    again = gateway.post(f"{PAYMENTS}webhooks/stripe/", data=payload, headers=headers)

    assert first.status_code == 200, first.text
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert gateway.get(f"{PAYMENTS}balance/", headers=buyer["auth"]).json() == {
        "balance": 12_000,
        "held": 0,
        "available": 12_000,
    }
    assert gateway.get(f"{PAYMENTS}checkout/{session_id}/", headers=buyer["auth"]).json()["status"] == "paid"


def test_a_webhook_with_a_bad_signature_is_refused(gateway, buyer):
    session_id = checkout(gateway, buyer).json()["session_id"]
    payload, headers = signed(completed_event(session_id, buyer["id"]), secret="whsec_forged")

    response = gateway.post(f"{PAYMENTS}webhooks/stripe/", data=payload, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert gateway.get(f"{PAYMENTS}balance/", headers=buyer["auth"]).json()["balance"] == 2000


@pytest.fixture
def stripe_fails(stripe):
    """Make the stand-in for Stripe answer every request with `failure` until the test ends."""

    def fail(**failure) -> None:
        stripe.failure = failure

    yield fail
    stripe.failure = None


BAD_KEY = {"message": "Invalid API Key provided: sk_test_****_e2e", "type": "invalid_request_error"}
INVALID_REQUEST = {
    "code": "parameter_invalid_integer",
    "message": "Invalid integer: 10.5",
    "param": "line_items[0][price_data][unit_amount]",
    "type": "invalid_request_error",
}
RATE_LIMITED = {
    "code": "rate_limit",
    "message": "Request rate limit exceeded",
    "type": "invalid_request_error",
}
RESOURCE_MISSING = {
    "code": "resource_missing",
    "message": "No such price: 'price_1Gone'",
    "param": "line_items[0][price]",
    "type": "invalid_request_error",
}


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, INVALID_REQUEST), (401, BAD_KEY), (404, RESOURCE_MISSING)],
    ids=["invalid-request", "bad-key", "resource-missing"],
)
def test_a_stripe_refusal_reaches_the_buyer_as_final_and_the_operator_with_its_request_id(
    gateway, buyer, stripe_fails, paid_system, status, error
):
    request_id = f"req_e2e{uuid.uuid4().hex[:14]}"
    stripe_fails(status=status, error=error, request_id=request_id)

    response = checkout(gateway, buyer)

    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "payment_provider_error"
    assert "Retry-After" not in response.headers
    assert request_id not in response.text
    assert "try again" not in response.text.lower()
    [line] = [line for line in paid_system.log("payments").splitlines() if request_id in line]
    logged = json.loads(line)
    assert (logged["level"], logged["stripe_status"]) == ("ERROR", status)
    assert logged["stripe_request_id"] == request_id
    assert logged["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 429, "error": RATE_LIMITED},
        {"status": 500, "error": {"message": "An unknown error occurred", "type": "api_error"}},
        {"drop": True},
    ],
    ids=["rate-limited", "server-error", "unreachable"],
)
def test_a_stripe_outage_reaches_the_buyer_as_try_again_shortly(gateway, buyer, stripe_fails, failure):
    stripe_fails(request_id=f"req_e2e{uuid.uuid4().hex[:14]}", **failure)

    response = checkout(gateway, buyer)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "payment_provider_unavailable"
    assert response.headers["Retry-After"] == "5"
