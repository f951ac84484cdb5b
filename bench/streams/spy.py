"""Where each part of the system spends its time while the bench runs: py-spy, sampling from outside.

`Profile.start` runs `py-spy record` on each Python part of the running system (a gunicorn master
with its workers, each builder worker), idle threads included, for a fixed number of seconds;
`Profile.report` then prints, per part, where the samples that passed through our own code
(`services/…`) went: the frames of ours that held them (inclusive), and the leaves they ended
in. A leaf tells what a request waited for: `SocketIO.readinto` a peer's answer,
`Connection.wait` PostgreSQL, `Condition.wait` a lock or a turn, `close_graceful` gunicorn
lingering for the client to close. py-spy costs each sampled process a little CPU; the figures of
a profiled run are not the bench's figures.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# Samples a second per process: enough for a few seconds' run, little CPU.
RATE = 100
# Where a frame's file lies, cut from a py-spy frame such as `post (/repo/services/builder/x.py:3)`.
FILE_PREFIX = re.compile(r"\((?:/[^()]*?/(?:site-packages|services|lib/python3\.\d+)/)")
OWN_CODE = "/services/"


def py_spy() -> str | None:
    """py-spy beside this interpreter (requirements-dev.txt installs it), else on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profile:
    def __init__(self, parts: dict[str, int], seconds: float, folder: Path) -> None:
        """`parts`: each part's name and the process id at its top (its workers are followed)."""
        self.parts = parts
        self.seconds = seconds
        self.folder = folder
        self.recorders: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        executable = py_spy()
        if executable is None:
            raise SystemExit("py-spy is not installed (make install puts it in .venv)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, pid in self.parts.items():
            # A file, not a pipe: read only once py-spy ends, a full pipe would stall it.
            with self._errors(name).open("w") as errors:
                self.recorders[name] = subprocess.Popen(
                    [
                        executable,
                        "record",
                        "--pid",
                        str(pid),
                        "--subprocesses",
                        "--idle",
                        "--nonblocking",
                        "--full-filenames",
                        "--rate",
                        str(RATE),
                        "--duration",
                        str(max(1, round(self.seconds))),
                        "--format",
                        "raw",
                        "--output",
                        str(self._samples(name)),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                )

    def _samples(self, name: str) -> Path:
        return self.folder / f"{name.replace(' ', '-')}.txt"

    def _errors(self, name: str) -> Path:
        return self._samples(name).with_suffix(".log")

    def wait(self) -> None:
        deadline = time.monotonic() + self.seconds + 30
        for name, recorder in self.recorders.items():
            try:
                recorder.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()
            if recorder.returncode:
                print(f"  py-spy on {name} failed: {self._errors(name).read_text().strip()[-300:]}")

    def report(self, top: int = 8) -> None:
        print(f"where each part's own code spent its time (py-spy, {self.seconds:g}s, idle threads too):")
        for name in self.parts:
            path = self._samples(name)
            if not path.exists():
                continue
            summary = summarize(path.read_text())
            if not summary["own"]:
                continue
            print(f"  {name}: {summary['own']} of {summary['all']} samples in our code; of those:")
            for frame, count in summary["frames"].most_common(top):
                print(f"    {100 * count / summary['own']:5.1f}%  {frame}")
            print("    … ending in")
            for frame, count in summary["leaves"].most_common(top // 2 + 1):
                print(f"    {100 * count / summary['own']:5.1f}%  {frame}")
            # Outside our code: waiting for work, or the server's own steps (gunicorn's lingering close).
            print("    outside our code, of all samples:")
            for frame, count in summary["outside"].most_common(3):
                print(f"    {100 * count / summary['all']:5.1f}%  {frame}")
        print(f"  (the samples: {self.folder})")


def summarize(raw: str) -> dict:
    """From py-spy's raw output (one `frame;frame;… count` per line): the samples in all, those
    passing through our own code, our frames' inclusive counts, those samples' leaves, and the
    leaves of the samples outside our code."""
    frames: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    total = own = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        stack_frames = [frame for frame in stack.split(";") if not frame.startswith(("process ", "thread "))]
        ours = {_function(frame) for frame in stack_frames if OWN_CODE in frame}
        if not ours:
            outside[_short(stack_frames[-1]) if stack_frames else "?"] += samples
            continue
        own += samples
        frames.update(dict.fromkeys(ours, samples))
        leaves[_short(stack_frames[-1])] += samples
    return {"all": total, "own": own, "frames": frames, "leaves": leaves, "outside": outside}


def _short(frame: str) -> str:
    return FILE_PREFIX.sub("(", frame)


def _function(frame: str) -> str:
    """The frame without its line: a function's samples counted together."""
    return re.sub(r":\d+\)$", ")", _short(frame))
