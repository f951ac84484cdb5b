"""Fixtures for the contract tests: pacts written by consumer tests, providers started for real.

Consumer tests run the consumers' own client code against Pact's mock server; each test
module writes its pact files to a temporary folder and, when every one of its tests
passed, replaces the committed files in `tests/contract/pacts/` (so a partial or failing
run never leaves a half-written contract). Provider tests replay the committed files.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

# Pact's core would otherwise report usage over the network, which this project never reaches.
os.environ["PACT_DO_NOT_TRACK"] = "true"

from pact import Pact

from tests.contract import consumers

consumers.configure()

PACTS = Path(__file__).resolve().parent / "pacts"


class PactBook:
    """The pacts one consumer test module writes: one Pact per interaction, merged per file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new(self, consumer: str, provider: str) -> Pact:
        return Pact(consumer, provider).with_specification("V4")

    @contextmanager
    def serving(self, pact: Pact):
        """The mock server's base URL; the interaction is written only when it was met exactly."""
        with pact.serve(addr="127.0.0.1") as server:
            yield str(server.url).rstrip("/")
        pact.write_file(self.folder)


def _selected_partially(config) -> bool:
    options = config.option
    return bool(options.keyword or options.markexpr or any("::" in arg for arg in config.args))


_outcomes = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" or report.failed:
        item.stash.setdefault(_outcomes, []).append(report.passed)
    return report


@pytest.fixture(scope="module")
def pacts(request, tmp_path_factory):
    book = PactBook(tmp_path_factory.mktemp("pacts"))
    yield book
    items = [item for item in request.session.items if item.module is request.module]
    passed = all(item.stash.get(_outcomes, [False]) and all(item.stash[_outcomes]) for item in items)
    if passed and not _selected_partially(request.config):
        PACTS.mkdir(exist_ok=True)
        for written in sorted(book.folder.glob("*.json")):
            shutil.copyfile(written, PACTS / written.name)


@pytest.fixture(scope="session")
def providers(tmp_path_factory):
    """auth, projects and payments running for real, with the provider-state hook mounted."""
    from tests.contract.providers import started_providers

    system = started_providers(tmp_path_factory.mktemp("providers"))
    yield system
    system.stop()
