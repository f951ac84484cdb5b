"""Injected failures and the request counters: what tests and benchmarks use to make the demo misbehave.

A chat completion request takes its fault from, in order: the queue filled through the control
API (one fault per request), the model name (`oasis-demo:fail-<kind>` always fails that way),
then the seeded random draw configured by OASIS_DEMO_FAIL_RATE and OASIS_DEMO_FAIL_KIND.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

from oasis_demo_model import MODEL_ID
from oasis_demo_model.settings import FAULT_KINDS, Settings

MODEL_TRIGGER = f"{MODEL_ID}:fail-"
OPTIONS = {
    "429": "retry_after_ms",
    "timeout": "hang_seconds",
    "broken_stream": "after_chunks",
    "length": "after_tokens",
    "content_filter": "after_tokens",
}
# Where a `length` or `content_filter` fault cuts the answer when it names no `after_tokens`.
CUT_AFTER_TOKENS = 16


class FaultError(ValueError):
    """A fault description the demo does not understand."""


@dataclass(frozen=True)
class Fault:
    kind: str
    retry_after_ms: int | None = None  # 429: the Retry-After the response announces
    hang_seconds: float | None = None  # timeout: how long to hold the request before giving up with a 504
    after_chunks: int | None = None  # broken_stream: chunks sent before the connection is cut
    after_tokens: int | None = None  # length, content_filter: tokens of the answer sent before it stops

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def parse_fault(raw: Any) -> Fault:
    """A fault from the control API: "429", or {"kind": "429", "retry_after_ms": 50}."""
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        raw = {"kind": str(raw)}
    if not isinstance(raw, dict):
        raise FaultError('A fault is a kind ("429") or an object with a "kind".')
    kind = str(raw.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise FaultError(f"Unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}.")
    unknown = set(raw) - {"kind", OPTIONS.get(kind)}
    if unknown:
        raise FaultError(f"A {kind} fault takes no {', '.join(sorted(map(str, unknown)))}.")
    option = OPTIONS.get(kind)
    values: dict[str, Any] = {}
    if option and raw.get(option) is not None:
        value = raw[option]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise FaultError(f"{option} must be a number of at least 0.")
        values[option] = float(value) if option == "hang_seconds" else int(value)
    return Fault(kind=kind, **values)


def split_model(model: str) -> tuple[str, Fault | None]:
    """The model id without its fault trigger, and the fault the trigger names."""
    if model.startswith(MODEL_TRIGGER):
        kind = model[len(MODEL_TRIGGER) :]
        if kind in FAULT_KINDS:
            return MODEL_ID, Fault(kind=kind)
    return model, None


class FaultInjector:
    """Decides each request's fault. Not locked: the server runs on one event loop thread."""

    def __init__(self, settings: Settings):
        self.rate = settings.fail_rate
        self.kinds = settings.fail_kinds
        self.random = random.Random(settings.fail_seed)  # noqa: S311 - chaos for tests, not security
        self.queue: deque[Fault] = deque()

    def push(self, faults: list[Fault]) -> None:
        self.queue.extend(faults)

    def clear(self) -> None:
        self.queue.clear()

    def queued(self) -> list[dict[str, Any]]:
        return [fault.as_dict() for fault in self.queue]

    def next(self, trigger: Fault | None = None) -> Fault | None:
        if self.queue:
            return self.queue.popleft()
        if trigger is not None:
            return trigger
        if self.rate > 0 and self.random.random() < self.rate:
            return Fault(kind=self.random.choice(self.kinds))
        return None


class Stats:
    """Counters since start (or the last reset): requests by outcome, open requests, time to first byte."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.in_flight = 0
        self.outcomes: Counter[str] = Counter()
        # Bounded, so a long benchmark cannot grow memory without limit.
        self.first_byte_ms: deque[float] = deque(maxlen=10_000)
        # The sampling options of the latest requests, for tests that check a client sent them.
        self.options: deque[dict[str, Any]] = deque(maxlen=100)
        # When each request that named itself (X-Client-Request-Id) arrived and got its first byte,
        # in seconds since the epoch: a benchmark lines them up with its own clock and the client's.
        self.calls: deque[dict[str, Any]] = deque(maxlen=10_000)

    def call_answered(self, *, client_request_id: str | None, received: float, latency: float) -> None:
        """A request's first byte went out `latency` seconds after it was received (wall clock)."""
        self.first_byte_ms.append(latency * 1000)
        if client_request_id:
            self.calls.append(
                {"id": client_request_id, "received_at": received, "first_byte_at": received + latency}
            )

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "by_outcome": dict(sorted(self.outcomes.items())),
            "first_byte_ms": _summary(list(self.first_byte_ms)),
            "options": list(self.options),
        }


def _summary(samples: list[float]) -> dict[str, float | int | None]:
    if not samples:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "max": None}
    ordered = sorted(samples)

    def percentile(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)], 2)

    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 2),
        "p50": percentile(0.5),
        "p95": percentile(0.95),
        "max": round(ordered[-1], 2),
    }
