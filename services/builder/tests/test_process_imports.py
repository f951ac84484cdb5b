"""What each kind of builder process loads: the web queues runs and never runs a model, so it is
spared the openai SDK (some 20 MB a process); a worker loads it before its first claim."""

import os
import subprocess
import sys
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[1]
WATCHED = ("openai", "generations.runner")
LOADED = f"import sys; print(' '.join(sorted(name for name in {WATCHED!r} if name in sys.modules)))"


def loaded_after(imports: str, tmp_path) -> str:
    env = {**os.environ, "OASIS_VAR_DIR": str(tmp_path), "OASIS_ENVIRONMENT": "development"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", f"{imports}; {LOADED}"],
        cwd=SERVICE,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_web_process_serving_every_route_loads_no_model_sdk(tmp_path):
    # The ASGI application, and every view its routes import (Django loads them at the first request).
    assert loaded_after("import config.asgi, config.urls", tmp_path) == ""


def test_a_worker_loads_the_runner_and_the_sdk_before_its_first_claim(tmp_path):
    imports = "import django; django.setup(); import generations.management.commands.generation_worker"
    assert loaded_after(imports, tmp_path) == "generations.runner openai"
