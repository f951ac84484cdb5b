"""docs/operations.md documents every variable of the settings tables, with the tables' defaults.

The tables are oasis_common.conf.PLATFORM and each service's config/variables.py; a default the
code works out at start (`derived`) is only required to be documented, not compared.
"""

from __future__ import annotations

import importlib.util
import re

import pytest

from oasis_common.conf import PLATFORM, Setting

from .conftest import REPO

OPERATIONS = REPO / "docs" / "operations.md"
SERVICES = ("auth", "projects", "payments", "builder", "sites")
MiB = 1024 * 1024


def service_tables(service: str) -> list[tuple[Setting, ...]]:
    """The tables of a service's config/variables.py, loaded by path: every service's is `config`."""
    path = REPO / "services" / service / "config" / "variables.py"
    spec = importlib.util.spec_from_file_location(f"_{service}_variables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [
        value
        for value in vars(module).values()
        if isinstance(value, tuple) and value and all(isinstance(item, Setting) for item in value)
    ]


def documented_settings() -> list[tuple[str, Setting]]:
    tables = [("common", PLATFORM)]
    tables += [(service, table) for service in SERVICES for table in service_tables(service)]
    return [(owner, setting) for owner, table in tables for setting in table if setting.env_var]


def default_cells(doc: str) -> dict[str, str]:
    """Each variable of the doc's tables and the default it is given: the first row naming it."""
    cells: dict[str, str] = {}
    for line in doc.splitlines():
        columns = [column.strip() for column in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(columns) < 2:
            continue
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", columns[0]):
            cells.setdefault(name, columns[1])
    return cells


def agrees(setting: Setting, cell: str) -> bool:
    """Whether a doc cell states the setting's default (annotations such as *(image: …)* aside)."""
    text = re.sub(r"\*\(.*?\)\*", "", cell).strip()
    literal = re.match(r"`([^`]*)`", text)
    default = setting.default
    if default in ("", [], {}, None):
        # Nothing set: the doc says so in words ("empty", "unset", "OpenAI's"), never as a value.
        return literal is None
    if setting.kind is bool:
        words = ("true", "on") if default else ("false", "off")
        return (literal[1] if literal else text.split()[0]) in words
    if literal is None:
        mib = re.match(r"(\d+) MiB\b", text)
        return setting.kind is int and mib is not None and int(mib[1]) * MiB == default
    if setting.kind in (int, float):
        return float(literal[1]) == default
    if setting.kind is list:
        return literal[1].split(",") == default
    return literal[1] == default


def disagreements(doc: str) -> list[str]:
    cells = default_cells(doc)
    found = []
    for owner, setting in documented_settings():
        cell = cells.get(setting.env_var)
        if cell is None:
            found.append(f"{setting.env_var} ({owner}) is not documented")
        elif not setting.derived and not agrees(setting, cell):
            found.append(f"{setting.env_var} ({owner}): the doc says {cell!r}, the code {setting.default!r}")
    return found


def test_every_service_has_a_table_of_its_own():
    assert all(service_tables(service) for service in SERVICES)


def test_every_variable_of_the_tables_is_documented_with_its_default():
    assert disagreements(OPERATIONS.read_text()) == [], "update docs/operations.md (Configuration reference)"


@pytest.mark.parametrize(
    ("documented", "drifted"),
    [
        ("| `OASIS_HTTP_RETRIES` | `2` |", "| `OASIS_HTTP_RETRIES` | `3` |"),
        ("| `OASIS_MAX_FILE_BYTES` | 10 MiB |", "| `OASIS_MAX_FILE_BYTES` | 20 MiB |"),
        ("| `OASIS_PROVIDER_STATES` | off |", "| `OASIS_PROVIDER_STATES` | on |"),
        ("| `OASIS_SITES_DNS_TIMEOUT` | `5` |", "| `OASIS_SITES_DNS_TIMEOUT` | `5.5` |"),
        ("| `OASIS_JWKS_FILE` | unset |", "| `OASIS_JWKS_FILE` | `/etc/jwks.json` |"),
    ],
    ids=["int", "MiB", "bool", "float", "unset"],
)
def test_a_default_the_doc_gets_wrong_is_reported(documented, drifted):
    doc = OPERATIONS.read_text()
    assert documented in doc

    assert len(disagreements(doc.replace(documented, drifted))) == 1


def test_a_variable_missing_from_the_doc_is_reported():
    doc = OPERATIONS.read_text().replace("`OASIS_SSE_POLL_SECONDS`", "the poll setting")

    assert disagreements(doc) == ["OASIS_SSE_POLL_SECONDS (builder) is not documented"]
