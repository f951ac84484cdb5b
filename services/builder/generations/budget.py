"""A run's budget: its limits (credits, output tokens, tool calls, turns, wall clock) and what it has spent.

Money is kept exactly, in millionths of a credit; what a run costs is rounded up to a
credit and never above the ceiling held for it. Reaching a limit stops the run through
`finishing.exhausted` (the work done is paid for) or, for the clock, `finishing.failed`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from catalog import registry
from catalog.models import LanguageModel
from generations.finishing import exhausted, failed

# A turn that could not write this much is not worth starting.
MIN_OUTPUT_TOKENS = 64


@dataclass
class Budget:
    model: LanguageModel
    ceiling: int
    max_output_tokens: int = 16000
    max_tool_calls: int = 60
    max_turns: int = 12
    max_wall_seconds: float = 600
    started: float = field(default_factory=time.monotonic)
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: int = 0

    @classmethod
    def for_run(cls, *, model: LanguageModel, ceiling: int, limits: dict) -> Budget:
        """The budget of a run holding `ceiling` credits, with the limits of the builder's settings."""
        return cls(
            model=model,
            ceiling=ceiling,
            max_output_tokens=limits["MAX_OUTPUT_TOKENS"],
            max_tool_calls=limits["MAX_TOOL_CALLS"],
            max_turns=limits["MAX_TURNS"],
            max_wall_seconds=limits["MAX_WALL_SECONDS"],
        )

    def spent_micro(self) -> int:
        return self.input_tokens * self.model.input_price + self.output_tokens * self.model.output_price

    def cost(self) -> int:
        """What the run costs so far: rounded up to a credit, never above the ceiling held."""
        exact = registry.cost_credits(
            model=self.model, input_tokens=self.input_tokens, output_tokens=self.output_tokens
        )
        return min(exact, self.ceiling)

    def affordable_output(self, next_input_tokens: int) -> int:
        """How many output tokens the credits left pay for after a request of `next_input_tokens`."""
        remaining = self.ceiling * 1_000_000 - self.spent_micro() - next_input_tokens * self.model.input_price
        if remaining <= 0:
            return 0
        return remaining // self.model.output_price if self.model.output_price else 1 << 30

    def add(self, *, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def turn_max_tokens(self, input_estimate: int) -> int:
        """The `max_tokens` of the next turn: what the model, the run's output cap and the credits allow."""
        allowed = min(
            self.model.max_output_tokens,
            self.max_output_tokens - self.output_tokens,
            self.affordable_output(input_estimate),
        )
        if allowed < MIN_OUTPUT_TOKENS:
            raise exhausted(
                "budget_exhausted",
                "The credit ceiling was reached before the work was done; nothing was applied.",
            )
        return allowed

    def check_ceiling(self) -> None:
        if self.spent_micro() > self.ceiling * 1_000_000:
            raise exhausted("budget_exhausted", "The credit ceiling was reached; nothing was applied.")

    def count_tool_call(self) -> None:
        self.tool_calls += 1
        if self.tool_calls > self.max_tool_calls:
            raise exhausted(
                "tool_call_limit", "The generation used too many tool calls; nothing was applied."
            )

    def turn_limit_reached(self):
        return exhausted(
            "turn_limit", f"The generation stopped after {self.max_turns} steps; nothing was applied."
        )

    def check_clock(self) -> None:
        if time.monotonic() - self.started > self.max_wall_seconds:
            raise failed("timeout", "The generation took too long and was stopped.")
