"""What a tool call made earlier in a turn came to, as the client reported it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """A tool call made earlier in this turn, with the result the client reported."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    content: str

    @property
    def path(self) -> str | None:
        path = self.arguments.get("path")
        return path if isinstance(path, str) else None
