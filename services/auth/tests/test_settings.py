"""Configuration: a refresh audience that another token carries is refused at startup."""

import runpy
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = Path(__file__).resolve().parent.parent / "config" / "settings.py"


@pytest.fixture
def load(monkeypatch, tmp_path):
    monkeypatch.setenv("OASIS_VAR_DIR", str(tmp_path))

    def load(**values) -> dict:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        # The shared settings are a module, imported once per process: compute them anew.
        monkeypatch.delitem(sys.modules, "oasis_common.service_settings", raising=False)
        return runpy.run_path(str(SETTINGS))["OASIS"]

    return load


def test_refresh_tokens_have_an_audience_of_their_own_by_default(load):
    assert load()["JWT_REFRESH_AUDIENCE"] == "oasis-auth-refresh"


@pytest.mark.parametrize("audience", ["oasis-api", "payments"], ids=["the-api", "a-service"])
def test_a_refresh_audience_another_token_carries_is_refused(load, audience):
    with pytest.raises(ImproperlyConfigured, match="OASIS_JWT_REFRESH_AUDIENCE"):
        load(OASIS_JWT_REFRESH_AUDIENCE=audience)
