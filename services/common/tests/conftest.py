"""Fixtures shared by the oasis_common tests: API clients, a controllable clock, fresh platform state."""

import pytest
import responses as responses_lib
from rest_framework.test import APIClient

from oasis_common import authentication, client


@pytest.fixture(autouse=True)
def _fresh_platform_state():
    # Keys and service tokens live in process memory; no test may inherit another's.
    authentication.reset_key_store()
    client.reset_token_cache()
    yield
    authentication.reset_key_store()
    client.reset_token_cache()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def mocked_http():
    """Every outgoing HTTP call must be one the test registered."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class FakeClock:
    """Stands in for the `time` module where the library reads the clock."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(authentication, "time", fake)
    monkeypatch.setattr(client, "time", fake)
    return fake


@pytest.fixture
def oasis_settings(settings):
    """Change OASIS settings one key at a time: `oasis_settings(HTTP_RETRIES=1)`."""

    def change(**values):
        settings.OASIS = {**settings.OASIS, **values}

    return change
