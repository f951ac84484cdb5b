"""The management commands as operators run them: real processes, exit codes and signals."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2]


def environment(var_dir: Path) -> dict:
    """A development environment of its own: a SQLite database under `var_dir`, nothing shared."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OASIS_", "DATABASE_URL"))}
    env.update(
        {
            "OASIS_ENVIRONMENT": "development",
            "OASIS_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "OASIS_LOG_LEVEL": "WARNING",
        }
    )
    return env


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=SERVICE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated development database, made once and copied for each test."""
    var_dir = tmp_path_factory.mktemp("template")
    manage(environment(var_dir), "migrate", "--no-input", "-v", "0")
    return var_dir / "payments" / "db.sqlite3"


@pytest.fixture
def dev(tmp_path, migrated) -> dict:
    (tmp_path / "payments").mkdir()
    shutil.copy(migrated, tmp_path / "payments" / "db.sqlite3")
    return environment(tmp_path)


def database(env: dict) -> sqlite3.Connection:
    return sqlite3.connect(Path(env["OASIS_VAR_DIR"]) / "payments" / "db.sqlite3")


def place_expired_hold(env: dict, user_id: str) -> str:
    code = (
        "from datetime import timedelta; from django.utils import timezone; "
        "from credits.holds import hold_create; from credits.models import Hold; "
        f"hold = hold_create(user_id='{user_id}', amount=300, reason='x', service='builder'); "
        "Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1)); "
        "print(hold.pk)"
    )
    # The last line: Django's shell first says how many objects it imported.
    return manage(env, "shell", "-c", code).stdout.strip().splitlines()[-1]


def test_check_ledger_exits_zero_on_a_sound_ledger(dev):
    place_expired_hold(dev, str(uuid.uuid4()))

    result = manage(dev, "check_ledger", check=False)

    assert result.returncode == 0, result.stderr
    assert "agree" in result.stdout


def test_check_ledger_exits_non_zero_on_a_hand_corrupted_balance(dev):
    user_id = str(uuid.uuid4())
    place_expired_hold(dev, user_id)
    with database(dev) as db:
        db.execute("UPDATE credits_creditaccount SET balance = balance + 7")

    result = manage(dev, "check_ledger", check=False)

    assert result.returncode == 1
    assert f"account {user_id}: balance is 2007 but its entries sum to 2000" in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_sweeper_loop_releases_expired_holds_and_stops_cleanly_on_a_signal(dev, stop):
    hold_id = place_expired_hold(dev, str(uuid.uuid4())).replace("-", "")
    sweeper = subprocess.Popen(
        [sys.executable, "manage.py", "release_expired_holds", "--every", "0.2"],
        cwd=SERVICE,
        env=dev,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        status = "open"
        while status == "open" and time.monotonic() < deadline:
            time.sleep(0.2)
            with database(dev) as db:
                status = db.execute("SELECT status FROM credits_hold WHERE id = ?", [hold_id]).fetchone()[0]
        assert status == "expired"
        assert sweeper.poll() is None, "the sweeper should keep running until told to stop"

        sweeper.send_signal(stop)
        out, err = sweeper.communicate(timeout=15)
    finally:
        if sweeper.poll() is None:
            sweeper.kill()

    assert sweeper.returncode == 0, err
    assert out.strip().endswith("Stopped.")
    assert manage(dev, "check_ledger", check=False).returncode == 0


def test_the_sweeper_runs_once_without_every(dev):
    place_expired_hold(dev, str(uuid.uuid4()))

    result = manage(dev, "release_expired_holds")

    assert result.stdout.strip() == "Released 1 expired hold(s)."


def test_the_sweeper_refuses_a_period_that_is_not_positive(dev):
    result = manage(dev, "release_expired_holds", "--every", "0", check=False)

    assert result.returncode == 1
    assert "--every must be a positive number of seconds" in result.stderr
