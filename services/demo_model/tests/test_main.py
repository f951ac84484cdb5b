"""`python -m oasis_demo_model` serves as the environment says, and refuses a bad setting clearly."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(**env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "oasis_demo_model"],
        cwd=SERVICE_DIR.parent.parent,
        env={**os.environ, "PYTHONPATH": str(SERVICE_DIR), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_python_dash_m_serves_the_demo_model_on_the_configured_port():
    port = free_port()
    process = start(OASIS_DEMO_PORT=str(port), OASIS_DEMO_LATENCY_MS="5")
    try:
        deadline, health = time.monotonic() + 15, None
        while health is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    health = json.loads(response.read())
            except OSError:
                time.sleep(0.1)
        assert health == {
            "status": "ok",
            "model": "oasis-demo",
            "note": "deterministic demo model, not an AI",
        }
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert (
        f"Oasis demo model (deterministic, not an AI) on http://127.0.0.1:{port}/v1 (latency 5 ms" in output
    )


def test_a_bad_setting_stops_it_with_a_message_naming_the_variable():
    process = start(OASIS_DEMO_FAIL_RATE="lots")
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 2
    assert "OASIS_DEMO_FAIL_RATE must be a number" in output
