"""The test system's processes end with the test process, even one that dies without its teardown."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.e2e import system as harness
from tests.e2e.reaper import GRACE_SECONDS

REPO = Path(__file__).resolve().parents[2]

# A test process that starts a service whose group holds two processes (a master and its worker),
# prints the group's id, and dies the way pytest-timeout ends a hung run: no teardown at all.
DIES_WITHOUT_TEARDOWN = """
import os, sys
from pathlib import Path
from tests.e2e import system as harness

system = harness.System(root=Path(sys.argv[1]))
system._spawn("service", ["sh", "-c", "sleep 600 & sleep 600"])
print(system.processes["service"].pid, flush=True)
os._exit(1)
"""


def group_members(group: int) -> list[int]:
    """The live processes of a process group (a zombie left for init to reap is not live)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, group_id = fields[0], int(fields[2])
        if group_id == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_until_gone(group: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := group_members(group)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_what_a_dead_test_process_started_is_ended_with_its_whole_group(tmp_path):
    died = subprocess.run(
        [sys.executable, "-c", DIES_WITHOUT_TEARDOWN, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    group = int(died.stdout.split()[0])

    assert wait_until_gone(group, timeout=GRACE_SECONDS + 5) == []


def test_a_stopped_system_leaves_no_reaper_and_a_stopped_process_is_no_longer_listed(tmp_path):
    system = harness.System(root=tmp_path)
    system._spawn("first", ["sleep", "600"])
    system._spawn("second", ["sleep", "600"])
    reaper = system.reaper
    first = system.processes["first"].pid

    system.stop_process("first")
    listed = (tmp_path / "process-groups").read_text().split()
    system.stop()

    assert listed == [str(system.processes["second"].pid)]
    assert first not in map(int, listed)
    assert system.reaper is None
    assert reaper.poll() is not None
    assert group_members(system.processes["second"].pid) == []
