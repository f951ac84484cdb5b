"""Store upkeep: blobs no deployment holds any more are removed, after a grace period, and only those."""

import io
import os
import signal
import threading

import pytest
from django.core.management import CommandError, call_command

from hosting.management.commands import _every as every_loop
from hosting.store import StoredFile
from tests.peers import sha

KEPT, DROPPED = b"still deployed", b"no longer deployed"


def prune(**options) -> str:
    out = io.StringIO()
    call_command("prune_site_blobs", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def blobs(site_store):
    for data in (KEPT, DROPPED):
        site_store.blob_put(sha256=sha(data), data=data, content_type="text/plain")
    site_store.deployment_put(deployment_id="d1", files=[StoredFile("index.html", sha(KEPT))])
    return site_store


def test_blobs_no_deployment_holds_are_removed(blobs):
    assert prune(grace=0) == "Removed 1 unused blob(s).\n"

    assert blobs.blob_path(sha(KEPT)).is_file()
    assert not blobs.blob_path(sha(DROPPED)).exists()
    assert (blobs.deployment_path("d1") / "index.html").read_bytes() == KEPT


def test_recent_blobs_are_kept_for_a_publish_in_progress(blobs):
    assert prune(grace=3600) == "Removed 0 unused blob(s).\n"

    assert blobs.blob_path(sha(DROPPED)).is_file()


def test_a_deleted_deployments_blobs_go_on_the_next_prune(blobs):
    blobs.deployment_delete(deployment_id="d1")

    prune(grace=0)

    assert [path for path in blobs.root.joinpath("blobs").rglob("*") if path.is_file()] == []


def test_a_negative_grace_is_refused(blobs):
    with pytest.raises(CommandError, match="--grace"):
        prune(grace=-1)


# ---- reconcile_site_store ----


def reconcile(**options) -> str:
    out = io.StringIO()
    call_command("reconcile_site_store", stdout=out, **options)
    return out.getvalue()


def test_reconciling_a_store_that_agrees_changes_nothing(api, site, published, site_store):
    assert reconcile(grace=0) == "Set 0 link(s), removed 0, removed 0 unrecorded tree(s).\n"

    assert site_store.live_target("my-site") == published["id"]


def test_a_live_link_left_by_an_uncommitted_publish_is_pointed_back(api, site, published, site_store):
    site_store.deployment_put(deployment_id="never-recorded", files=[])
    site_store.live_point(slug="my-site", deployment_id="never-recorded")

    output = reconcile(grace=0)

    assert output == "Set 1 link(s), removed 0, removed 1 unrecorded tree(s).\n"
    assert site_store.live_target("my-site") == published["id"]
    assert not site_store.deployment_path("never-recorded").exists()


def test_links_of_nothing_are_removed_and_missing_ones_restored(api, site, published, site_store):
    site_store.live_point(slug="deleted-site", deployment_id=published["id"])
    site_store.host_point(hostname="gone.example.org", slug="deleted-site")
    site_store.live_remove(slug="my-site")

    output = reconcile(grace=0)

    assert output == "Set 1 link(s), removed 2, removed 0 unrecorded tree(s).\n"
    assert site_store.live_target("my-site") == published["id"]
    assert site_store.live_target("deleted-site") is None


def test_a_recent_unrecorded_tree_is_kept_for_a_publish_in_progress(api, site, published, site_store):
    site_store.deployment_put(deployment_id="being-committed", files=[])

    reconcile(grace=3600)

    assert site_store.deployment_path("being-committed").is_dir()


def test_a_live_deployment_missing_its_tree_is_reported(api, site, published, site_store):
    site_store.deployment_delete(deployment_id=published["id"])

    with pytest.raises(CommandError, match=published["id"]):
        reconcile(grace=0)


# ---- --every: the same upkeep on a loop, as the sweeper processes run it ----


class StopAfter:
    """Stands in for the loop's stop event: stops it after `rounds` rounds, without waiting."""

    def __init__(self, rounds: int):
        self.rounds, self.waits = rounds, []
        self.stopped = False

    def __call__(self):
        return self

    def is_set(self) -> bool:
        return self.stopped

    def set(self) -> None:
        self.stopped = True

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.stopped = len(self.waits) >= self.rounds
        return self.stopped


@pytest.fixture
def connection_checks(monkeypatch):
    """Counts the loop's connection checks; a real one would close the test's transaction."""
    checks = []
    monkeypatch.setattr(every_loop, "close_old_connections", lambda: checks.append(1))
    return checks


@pytest.fixture
def rounds(monkeypatch, connection_checks):
    def stop_after(count: int) -> StopAfter:
        event = StopAfter(count)
        monkeypatch.setattr(every_loop.threading, "Event", event)
        return event

    return stop_after


def test_the_pruning_loop_prunes_every_round_until_stopped(blobs, rounds, connection_checks):
    stop = rounds(2)

    output = prune(grace=0, every=30)

    assert stop.waits == [30, 30]
    # Each round starts as a request would: without a connection the database may have dropped.
    assert connection_checks == [1, 1]
    assert output == "Pruning unused blobs every 30s; SIGTERM or SIGINT stops.\nStopped.\n"
    assert not blobs.blob_path(sha(DROPPED)).exists()


def test_the_reconciling_loop_keeps_going_after_a_round_that_fails(
    api, site, published, site_store, rounds, caplog
):
    site_store.deployment_delete(deployment_id=published["id"])
    rounds(2)

    output = reconcile(grace=0, every=60)

    assert output.endswith("Stopped.\n")
    failures = [r for r in caplog.records if "Reconciling the site store failed" in r.getMessage()]
    assert len(failures) == 2
    assert published["id"] in str(failures[0].exc_info[1])


@pytest.mark.django_db
def test_a_loop_stops_cleanly_on_sigterm_and_gives_the_signal_back(connection_checks):
    before = signal.getsignal(signal.SIGTERM)
    threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGTERM)).start()

    output = prune(grace=0, every=0.05)

    assert output.endswith("Stopped.\n")
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("command", ["prune_site_blobs", "reconcile_site_store"])
@pytest.mark.parametrize("every", [0, -5])
def test_a_period_that_is_not_positive_is_refused(command, every):
    with pytest.raises(CommandError, match="--every must be a positive number of seconds"):
        call_command(command, every=every, stdout=io.StringIO())
