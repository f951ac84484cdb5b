"""oasis_common.conf: the library's settings, read through `settings.OASIS` with defaults."""

import pytest

from oasis_common import authentication, client, conf


def test_a_setting_is_read_from_settings_oasis(oasis_settings):
    oasis_settings(HTTP_RETRIES=5)
    assert conf.oasis_settings.HTTP_RETRIES == 5


def test_a_setting_the_service_leaves_out_takes_its_default(settings):
    settings.OASIS = {"SERVICE_NAME": "projects"}
    assert conf.oasis_settings.SERVICE_NAME == "projects"
    for name in ("JWKS_REFETCH_INTERVAL_SECONDS", "HTTP_RETRY_BACKOFF"):
        assert getattr(conf.oasis_settings, name) == conf.DEFAULTS[name]


def test_an_unknown_setting_is_an_error():
    with pytest.raises(AttributeError, match="Unknown OASIS setting 'JWKS_ULR'"):
        _ = conf.oasis_settings.JWKS_ULR


def test_changing_the_settings_forgets_held_keys_and_tokens(oasis_settings):
    store = authentication.key_store()
    client._tokens["payments"] = client._CachedToken("tok", expires_at=float("inf"))
    oasis_settings(JWKS_REFETCH_INTERVAL_SECONDS=1)
    assert authentication.key_store() is not store
    assert authentication.key_store().refetch_interval == 1
    assert client._tokens == {}
