"""Fault injection: the control queue, model triggers, seeded random failures, and the counters."""

import pytest

from oasis_demo_model.faults import Fault, FaultError, FaultInjector, Stats, parse_fault, split_model
from oasis_demo_model.settings import Settings


def test_queued_faults_are_served_one_per_request_in_order():
    injector = FaultInjector(Settings())
    injector.push([Fault("429"), Fault("500"), Fault("500")])
    assert [injector.next() for _ in range(4)] == [Fault("429"), Fault("500"), Fault("500"), None]


def test_the_queue_comes_before_the_model_trigger():
    injector = FaultInjector(Settings())
    injector.push([Fault("429")])
    assert injector.next(Fault("500")) == Fault("429")
    assert injector.next(Fault("500")) == Fault("500")


def test_clearing_empties_the_queue():
    injector = FaultInjector(Settings())
    injector.push([Fault("timeout", hang_seconds=1.0)])
    assert injector.queued() == [{"kind": "timeout", "hang_seconds": 1.0}]
    injector.clear()
    assert injector.next() is None


def test_random_faults_follow_the_seed():
    settings = Settings(fail_rate=0.5, fail_kinds=("429", "500"), fail_seed=7)
    first, second = FaultInjector(settings), FaultInjector(settings)
    sequence = [first.next() for _ in range(50)]
    assert sequence == [second.next() for _ in range(50)]
    assert {fault.kind for fault in sequence if fault} == {"429", "500"}
    assert 10 < sum(fault is None for fault in sequence) < 40


@pytest.mark.parametrize(("rate", "failures"), [(0.0, 0), (1.0, 20)])
def test_a_rate_of_zero_never_fails_and_one_always_does(rate, failures):
    injector = FaultInjector(Settings(fail_rate=rate, fail_kinds=("500",)))
    assert sum(injector.next() is not None for _ in range(20)) == failures


@pytest.mark.parametrize(
    ("raw", "fault"),
    [
        ("429", Fault("429")),
        (500, Fault("500")),
        ({"kind": "429", "retry_after_ms": 50}, Fault("429", retry_after_ms=50)),
        ({"kind": "timeout", "hang_seconds": 2}, Fault("timeout", hang_seconds=2.0)),
        ({"kind": "broken_stream", "after_chunks": 0}, Fault("broken_stream", after_chunks=0)),
    ],
)
def test_faults_are_a_kind_or_an_object_with_options(raw, fault):
    assert parse_fault(raw) == fault


@pytest.mark.parametrize(
    "raw",
    [
        "418",
        None,
        True,
        {"kind": "500", "retry_after_ms": 5},
        {"kind": "429", "retry_after_ms": -1},
        {"kind": "timeout", "hang_seconds": "long"},
        {"retry_after_ms": 5},
    ],
)
def test_unknown_kinds_and_options_are_refused(raw):
    with pytest.raises(FaultError):
        parse_fault(raw)


@pytest.mark.parametrize(
    ("model", "split"),
    [
        ("oasis-demo", ("oasis-demo", None)),
        ("oasis-demo:fail-429", ("oasis-demo", Fault("429"))),
        ("oasis-demo:fail-broken_stream", ("oasis-demo", Fault("broken_stream"))),
        ("oasis-demo:fail-418", ("oasis-demo:fail-418", None)),
        ("gpt-4o", ("gpt-4o", None)),
    ],
)
def test_a_model_name_can_carry_a_fault(model, split):
    assert split_model(model) == split


def test_stats_summarise_time_to_first_byte():
    stats = Stats()
    stats.first_byte_ms.extend(float(ms) for ms in range(1, 101))
    stats.outcomes.update(["ok", "ok", "429"])
    snapshot = stats.snapshot()
    assert snapshot["by_outcome"] == {"429": 1, "ok": 2}
    assert snapshot["first_byte_ms"] == {"count": 100, "mean": 50.5, "p50": 50.0, "p95": 95.0, "max": 100.0}
    stats.reset()
    assert stats.snapshot()["first_byte_ms"]["count"] == 0
