"""oasis_common.conf: the platform table, `read` from the environment, and `oasis_settings`."""

import pytest
from django.core.exceptions import ImproperlyConfigured

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


def test_the_defaults_are_the_platform_table():
    assert list(conf.DEFAULTS.items()) == [(setting.name, setting.default) for setting in conf.PLATFORM]
    assert len(conf.DEFAULTS) == len(conf.PLATFORM)


@pytest.mark.parametrize(
    ("kind", "default", "raw", "expected"),
    [
        (str, "fallback", None, "fallback"),
        (str, "fallback", "  ", "fallback"),
        (str, "", " value ", "value"),
        (int, 5, "12", 12),
        (int, 5, "", 5),
        (float, 0.5, "2", 2.0),
        (bool, True, "off", False),
        (bool, False, None, False),
        (list, ["a"], "b, c,", ["b", "c"]),
        (list, ["a"], None, ["a"]),
        (dict, {"x": "1"}, "a=1,b=2", {"a": "1", "b": "2"}),
        (dict, {"x": "1"}, None, {"x": "1"}),
    ],
)
def test_a_variable_is_read_by_its_kind(monkeypatch, kind, default, raw, expected):
    if raw is None:
        monkeypatch.delenv("OASIS_TEST_SETTING", raising=False)
    else:
        monkeypatch.setenv("OASIS_TEST_SETTING", raw)
    table = (conf.Setting("TEST", "OASIS_TEST_SETTING", default, kind),)

    assert conf.read(table) == {"TEST": expected}


def test_a_default_known_only_at_start_replaces_the_tables(monkeypatch):
    monkeypatch.delenv("OASIS_TEST_SETTING", raising=False)
    table = (conf.Setting("TEST", "OASIS_TEST_SETTING", "", derived="the service's name"),)

    assert conf.read(table, defaults={"TEST": "projects"}) == {"TEST": "projects"}


def test_a_setting_without_a_variable_is_left_to_the_code():
    table = (conf.Setting("LOADER", None, "x"),)

    assert conf.read(table) == {}


def test_what_is_read_is_checked(monkeypatch):
    monkeypatch.setenv("OASIS_TEST_SETTING", "0")
    table = (conf.Setting("TEST", "OASIS_TEST_SETTING", 1, int, clean=conf.positive),)

    with pytest.raises(ImproperlyConfigured, match="OASIS_TEST_SETTING must be positive, not 0"):
        conf.read(table)


def test_a_peer_url_setting_is_named_after_the_peer_and_loses_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("OASIS_PAYMENTS_URL", "http://payments:8000/")
    setting = conf.peer("payments")

    assert (setting.name, setting.env_var) == ("PAYMENTS_URL", "OASIS_PAYMENTS_URL")
    assert conf.read((setting,)) == {"PAYMENTS_URL": "http://payments:8000"}
