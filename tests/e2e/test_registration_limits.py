"""Sign-up limits through the gateway: a burst per address and per network, then a steady trickle.

A system of its own (auth alone) with small limits: an address may sign up 5 at once, then
one a minute; its /24 may sign up 8 at once.
"""

import uuid

import pytest

from tests.e2e.conftest import PASSWORD, Client
from tests.e2e.system import SERVICES, System

LIMITS = {
    "OASIS_THROTTLE_REGISTER": "60/hour",
    "OASIS_THROTTLE_REGISTER_BURST": "5",
    "OASIS_THROTTLE_REGISTER_NETWORK": "120/hour",
    "OASIS_THROTTLE_REGISTER_NETWORK_BURST": "8",
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    if "auth" not in SERVICES:
        pytest.skip("needs auth")
    running = System(
        root=tmp_path_factory.mktemp("registration-limits"),
        services=("auth",),
        env_overrides={"auth": LIMITS},
    )
    with running.running():
        yield running


def sign_up(system, address: str):
    email = f"signup-{uuid.uuid4().hex[:10]}@example.com"
    return Client(system.url, source_ip=address).post(
        "/api/v1/auth/register/", json={"email": email, "password": PASSWORD}
    )


def test_a_classroom_behind_one_address_signs_up_together_then_waits_a_minute_not_an_hour(limited):
    for _ in range(5):
        response = sign_up(limited, "127.0.50.1")
        assert response.status_code == 201, response.text
        assert response.json()["access"]

    refused = sign_up(limited, "127.0.50.1")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_sign_ups_spread_over_one_network_meet_its_limit(limited):
    for host in range(1, 9):
        assert sign_up(limited, f"127.0.60.{host}").status_code == 201

    assert sign_up(limited, "127.0.60.200").status_code == 429
    assert sign_up(limited, "127.0.61.1").status_code == 201
