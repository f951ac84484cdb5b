"""What each kind of builder process loads: the web queues runs and never runs a model, so it is
spared the openai SDK (some 20 MB a process); a worker loads it before its first claim."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[1]
WATCHED = ("openai", "generations.runner")
LOADED = f"print(' '.join(sorted(name for name in {WATCHED!r} if name in sys.modules)))"
# One interpreter for both (each costs a second to start): the web's imports first, then a worker's.
PROCESSES = f"""
import sys
import config.asgi, config.urls
{LOADED}
import generations.management.commands.generation_worker
{LOADED}
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> list[str]:
    """What is loaded once the web's application and every view its routes import are (Django
    loads them at the first request), then once a worker's command module is too."""
    env = {
        **os.environ,
        "OASIS_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "OASIS_ENVIRONMENT": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROCESSES], cwd=SERVICE, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_web_process_serving_every_route_loads_no_model_sdk(loaded):
    assert loaded[0] == ""


def test_a_worker_loads_the_runner_and_the_sdk_before_its_first_claim(loaded):
    assert loaded[1] == "generations.runner openai"
