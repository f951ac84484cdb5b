"""A run's budget: exact money, the rounding up, every limit and what reaching it means."""

import time

import pytest

from catalog.models import LanguageModel
from generations.budget import MIN_OUTPUT_TOKENS, Budget
from generations.finishing import RunStopped
from generations.models import Status

# Prices are credits per million tokens: a million input tokens cost 2 credits, output 8.
MODEL = LanguageModel(slug="m", input_price=2, output_price=8, max_output_tokens=4000, context_window=32000)


def budget(**limits) -> Budget:
    return Budget(model=MODEL, **{"ceiling": 10, **limits})


def stop_of(action) -> RunStopped:
    with pytest.raises(RunStopped) as stopped:
        action()
    return stopped.value


@pytest.mark.parametrize(
    ("input_tokens", "output_tokens", "cost"),
    [
        (0, 0, 0),
        (1, 0, 1),  # any use at all costs a credit: rounded up
        (500_000, 0, 1),
        (500_001, 0, 2),
        (0, 125_000, 1),
        (1_000_000, 1_000_000, 10),
        (5_000_000, 5_000_000, 10),  # never above the ceiling held
    ],
)
def test_the_cost_is_rounded_up_to_a_credit_and_capped_at_the_ceiling(input_tokens, output_tokens, cost):
    spent = budget()
    spent.add(input_tokens=input_tokens, output_tokens=output_tokens)

    assert spent.cost() == cost


def test_money_is_kept_exactly_in_millionths_of_a_credit():
    spent = budget()
    spent.add(input_tokens=3, output_tokens=5)
    spent.add(input_tokens=1, output_tokens=1)

    assert (spent.input_tokens, spent.output_tokens) == (4, 6)
    assert spent.spent_micro() == 4 * 2 + 6 * 8


@pytest.mark.parametrize(
    ("ceiling", "spent_output", "next_input", "affordable"),
    [
        (10, 0, 0, 1_250_000),  # 10 credits buy 1.25M output tokens at 8 a million
        (10, 0, 1_000_000, 1_000_000),  # the next request's input is paid first
        (1, 125_000, 0, 0),  # the ceiling is spent
        (1, 0, 600_000, 0),  # the input alone is over
    ],
)
def test_affordable_output_is_what_the_credits_left_pay_for(ceiling, spent_output, next_input, affordable):
    spent = budget(ceiling=ceiling)
    spent.add(input_tokens=0, output_tokens=spent_output)

    assert spent.affordable_output(next_input) == affordable


def test_a_free_output_is_never_the_limit():
    free = Budget(model=LanguageModel(input_price=1, output_price=0, max_output_tokens=10), ceiling=1)

    assert free.affordable_output(0) == 1 << 30


@pytest.mark.parametrize(
    ("max_output_tokens", "spent_output", "allowed"),
    [
        (16000, 0, 4000),  # the model's own cap
        (1000, 0, 1000),  # the run's output cap
        (1000, 900, 100),  # what is left of it
    ],
)
def test_a_turn_may_write_what_the_model_the_run_and_the_credits_allow(
    max_output_tokens, spent_output, allowed
):
    spent = budget(max_output_tokens=max_output_tokens)
    spent.add(input_tokens=0, output_tokens=spent_output)

    assert spent.turn_max_tokens(0) == allowed


def test_a_turn_too_small_to_be_useful_ends_the_run_as_budget_exhausted():
    spent = budget(max_output_tokens=1000)
    spent.add(input_tokens=0, output_tokens=1000 - MIN_OUTPUT_TOKENS + 1)

    stop = stop_of(lambda: spent.turn_max_tokens(0))

    assert (stop.status, stop.code, stop.charge) == (Status.BUDGET_EXHAUSTED, "budget_exhausted", True)


def test_going_over_the_ceiling_is_exhausted_and_exactly_at_it_is_not():
    spent = budget(ceiling=1)
    spent.add(input_tokens=0, output_tokens=125_000)  # exactly one credit
    spent.check_ceiling()

    spent.add(input_tokens=1, output_tokens=0)
    stop = stop_of(spent.check_ceiling)

    assert (stop.status, stop.code, stop.charge) == (Status.BUDGET_EXHAUSTED, "budget_exhausted", True)


def test_the_tool_call_past_the_limit_is_exhausted():
    spent = budget(max_tool_calls=2)
    spent.count_tool_call()
    spent.count_tool_call()

    stop = stop_of(spent.count_tool_call)

    assert (stop.status, stop.code, stop.charge) == (Status.BUDGET_EXHAUSTED, "tool_call_limit", True)


def test_the_turn_limit_names_the_number_of_steps():
    stop = budget(max_turns=3).turn_limit_reached()

    assert (stop.status, stop.code, stop.charge) == (Status.BUDGET_EXHAUSTED, "turn_limit", True)
    assert "3 steps" in stop.message


def test_the_wall_clock_fails_the_run_uncharged():
    spent = budget(max_wall_seconds=60, started=time.monotonic() - 61)

    stop = stop_of(spent.check_clock)

    assert (stop.status, stop.code, stop.charge) == (Status.FAILED, "timeout", False)
    budget(max_wall_seconds=60).check_clock()


def test_a_run_takes_its_limits_from_the_settings(settings):
    limits = {"MAX_OUTPUT_TOKENS": 100, "MAX_TOOL_CALLS": 2, "MAX_TURNS": 3, "MAX_WALL_SECONDS": 4}

    spent = Budget.for_run(model=MODEL, ceiling=5, limits=limits)

    assert (spent.ceiling, spent.max_output_tokens, spent.max_tool_calls) == (5, 100, 2)
    assert (spent.max_turns, spent.max_wall_seconds) == (3, 4)
