"""Ends what the test system started once the process that started it is gone.

`System` runs this with a pipe on its stdin that it never writes to. When the test process ends,
however it ends (pytest-timeout's `os._exit` runs no teardown), the pipe closes; this then sends
SIGTERM to every process group listed in the file named on its command line (one group id a
line), and SIGKILL to any still alive GRACE_SECONDS later.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

GRACE_SECONDS = 10


def listed_groups(path: Path) -> list[int]:
    try:
        return [int(line) for line in path.read_text().split()]
    except FileNotFoundError:
        return []


def signalled(groups: list[int], sig: int) -> list[int]:
    """The groups `sig` reached (signal 0 only asks whether a group still has a process)."""
    reached = []
    for group in groups:
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            continue
        reached.append(group)
    return reached


def main() -> None:
    groups_file = Path(sys.argv[1])
    sys.stdin.buffer.read()  # returns once every writer is gone
    alive = signalled(listed_groups(groups_file), signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = signalled(alive, 0)
    signalled(alive, signal.SIGKILL)


if __name__ == "__main__":
    main()
