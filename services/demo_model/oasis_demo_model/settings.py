"""The demo model's settings: every one read from the environment, with a development default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# What the transport can do wrong: these are drawn at random (OASIS_DEMO_FAIL_KIND=any).
TRANSPORT_FAULT_KINDS = ("429", "500", "timeout", "broken_stream")
# What a real endpoint sends that a well-behaved one would not: queued or named, never drawn at random.
# `length` and `content_filter` cut the answer with that finish reason; `ignore_tools` answers in plain
# text although tools are offered; `401` and `404` refuse the key and the model; `not_openai` answers
# 200 with a body that is not the OpenAI protocol (an HTML page, as from a misrouted proxy).
REPLY_FAULT_KINDS = ("length", "content_filter", "ignore_tools", "401", "404", "not_openai")
FAULT_KINDS = TRANSPORT_FAULT_KINDS + REPLY_FAULT_KINDS
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class SettingsError(ValueError):
    """An environment variable holds a value the demo model cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8090
    latency_ms: int = 0
    tokens_per_second: float = 0.0
    chunk_chars: int = 32
    fail_rate: float = 0.0
    fail_kinds: tuple[str, ...] = ("500",)
    fail_seed: int = 0
    retry_after_ms: int = 1000
    hang_seconds: float = 300.0
    break_after_chunks: int = 3
    control: bool = True
    log_level: str = "info"
    access_log: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        return cls(
            host=reader.text("OASIS_DEMO_HOST", cls.host),
            port=reader.integer("OASIS_DEMO_PORT", cls.port, minimum=0, maximum=65535),
            latency_ms=reader.integer("OASIS_DEMO_LATENCY_MS", cls.latency_ms, minimum=0),
            tokens_per_second=reader.number("OASIS_DEMO_TOKENS_PER_SECOND", cls.tokens_per_second, minimum=0),
            chunk_chars=reader.integer("OASIS_DEMO_CHUNK_CHARS", cls.chunk_chars, minimum=1),
            fail_rate=reader.number("OASIS_DEMO_FAIL_RATE", cls.fail_rate, minimum=0, maximum=1),
            fail_kinds=reader.kinds("OASIS_DEMO_FAIL_KIND", cls.fail_kinds),
            fail_seed=reader.integer("OASIS_DEMO_FAIL_SEED", cls.fail_seed),
            retry_after_ms=reader.integer("OASIS_DEMO_RETRY_AFTER_MS", cls.retry_after_ms, minimum=0),
            hang_seconds=reader.number("OASIS_DEMO_HANG_SECONDS", cls.hang_seconds, minimum=0),
            break_after_chunks=reader.integer(
                "OASIS_DEMO_BREAK_AFTER_CHUNKS", cls.break_after_chunks, minimum=0
            ),
            control=reader.flag("OASIS_DEMO_CONTROL", cls.control),
            log_level=reader.choice("OASIS_DEMO_LOG_LEVEL", cls.log_level, LOG_LEVELS),
            access_log=reader.flag("OASIS_DEMO_ACCESS_LOG", cls.access_log),
        )


class _Reader:
    """Parses one variable at a time and names the variable when its value is wrong."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def _raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
        return self._bounded(name, value, minimum, maximum)

    def number(
        self, name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {raw!r}.") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise SettingsError(f"{name} must be a finite number, not {raw!r}.")
        return self._bounded(name, value, minimum, maximum)

    def flag(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be 1 or 0 (true/false), not {raw!r}.")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw.lower() not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")
        return raw.lower()

    def kinds(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is None:
            return default
        kinds = tuple(part.strip() for part in raw.split(",") if part.strip())
        if raw.lower() == "any":
            return TRANSPORT_FAULT_KINDS
        unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
        if not kinds or unknown:
            raise SettingsError(
                f"{name} must list fault kinds from {', '.join(FAULT_KINDS)} (or 'any'), not {raw!r}."
            )
        return kinds

    @staticmethod
    def _bounded(name, value, minimum, maximum):
        if minimum is not None and value < minimum:
            raise SettingsError(f"{name} must be at least {minimum}, not {value}.")
        if maximum is not None and value > maximum:
            raise SettingsError(f"{name} must be at most {maximum}, not {value}.")
        return value
