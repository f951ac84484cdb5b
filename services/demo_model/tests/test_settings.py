"""Settings come from OASIS_DEMO_* variables with defaults; a bad value names its variable."""

import pytest

from oasis_demo_model.settings import TRANSPORT_FAULT_KINDS, Settings, SettingsError


def test_the_defaults_serve_on_port_8090_without_faults_and_with_the_control_api():
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8090)
    assert (settings.latency_ms, settings.tokens_per_second, settings.fail_rate) == (0, 0.0, 0.0)
    assert settings.control is True


@pytest.mark.parametrize(
    ("name", "value", "field", "parsed"),
    [
        ("OASIS_DEMO_HOST", "10.1.2.3", "host", "10.1.2.3"),
        ("OASIS_DEMO_PORT", "9000", "port", 9000),
        ("OASIS_DEMO_LATENCY_MS", "250", "latency_ms", 250),
        ("OASIS_DEMO_TOKENS_PER_SECOND", "40.5", "tokens_per_second", 40.5),
        ("OASIS_DEMO_CHUNK_CHARS", "4", "chunk_chars", 4),
        ("OASIS_DEMO_FAIL_RATE", "0.1", "fail_rate", 0.1),
        ("OASIS_DEMO_FAIL_KIND", "429, broken_stream", "fail_kinds", ("429", "broken_stream")),
        ("OASIS_DEMO_FAIL_KIND", "any", "fail_kinds", TRANSPORT_FAULT_KINDS),
        ("OASIS_DEMO_FAIL_SEED", "42", "fail_seed", 42),
        ("OASIS_DEMO_RETRY_AFTER_MS", "20", "retry_after_ms", 20),
        ("OASIS_DEMO_HANG_SECONDS", "1.5", "hang_seconds", 1.5),
        ("OASIS_DEMO_BREAK_AFTER_CHUNKS", "0", "break_after_chunks", 0),
        ("OASIS_DEMO_CONTROL", "0", "control", False),
        ("OASIS_DEMO_LOG_LEVEL", "WARNING", "log_level", "warning"),
        ("OASIS_DEMO_ACCESS_LOG", "off", "access_log", False),
        ("OASIS_DEMO_PORT", "  ", "port", 8090),
    ],
)
def test_each_variable_sets_its_setting(name, value, field, parsed):
    assert getattr(Settings.from_env({name: value}), field) == parsed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OASIS_DEMO_PORT", "eighty"),
        ("OASIS_DEMO_PORT", "70000"),
        ("OASIS_DEMO_LATENCY_MS", "-1"),
        ("OASIS_DEMO_TOKENS_PER_SECOND", "nan"),
        ("OASIS_DEMO_FAIL_RATE", "1.5"),
        ("OASIS_DEMO_FAIL_KIND", "418"),
        ("OASIS_DEMO_CONTROL", "maybe"),
        ("OASIS_DEMO_LOG_LEVEL", "loud"),
        ("OASIS_DEMO_CHUNK_CHARS", "0"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
