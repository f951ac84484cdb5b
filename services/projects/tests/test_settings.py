"""Configuration: production refuses to start without its secrets; the preview origin must be an origin."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent


def load_settings(tmp_path, **variables) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OASIS_", "DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    environment.update({"OASIS_VAR_DIR": str(tmp_path), **variables})
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.OASIS['PREVIEW_ORIGIN'])"],
        cwd=SERVICE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "OASIS_ENVIRONMENT": "production",
    "DJANGO_SECRET_KEY": "a-secret",
    "DATABASE_URL": "postgres://projects@db/projects",
    "OASIS_SERVICE_CLIENT_SECRET": "client-secret",
}


def test_production_starts_with_its_secrets(tmp_path):
    result = load_settings(tmp_path, **PRODUCTION, OASIS_PREVIEW_ORIGIN="https://preview.example.com/")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://preview.example.com"


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "OASIS_SERVICE_CLIENT_SECRET"])
def test_production_refuses_to_start_without_a_secret(tmp_path, missing):
    variables = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = load_settings(tmp_path, **variables)

    assert result.returncode != 0
    assert missing in result.stderr


def test_a_preview_origin_that_is_not_an_origin_is_refused(tmp_path):
    result = load_settings(tmp_path, OASIS_PREVIEW_ORIGIN="preview.example.com")

    assert result.returncode != 0
    assert "OASIS_PREVIEW_ORIGIN" in result.stderr


def test_development_needs_no_configuration(tmp_path):
    result = load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
