"""docs/operations.md documents every variable the code, the compose file and the manifests use."""

from __future__ import annotations

import re
import sys

from . import compose_rules
from .conftest import ENV_EXAMPLE, K8S
from .tools import REPO

OPERATIONS = REPO / "docs" / "operations.md"
SERVICES = ("auth", "projects", "payments", "builder", "sites")
READS = re.compile(
    r"(?:(?:\bget_(?:str|bool|int|float|list|mapping|secret)|_non_negative|_positive|environ\.get"
    r"|database_config|reader\.\w+)\(|\bSetting\(\s*\"[A-Z][A-Z0-9_]*\",)\s*\"([A-Z][A-Z0-9_]+)\""
)
GATEWAY_READS = re.compile(r"(?<![.\w])get\(\"([A-Z][A-Z0-9_]+)\"")


def code_variables() -> set[str]:
    """Every environment variable the services, the demo model and the gateway renderer read."""
    found = set()
    for path in (REPO / "services").rglob("*.py"):
        relative = path.relative_to(REPO).as_posix()
        if "/tests/" in relative or "/migrations/" in relative or path.name == "testing.py":
            continue
        found |= set(READS.findall(path.read_text()))
    renderer = (REPO / "gateway" / "render.py").read_text()
    found |= set(READS.findall(renderer))
    found |= {f"OASIS_GATEWAY_{name}" for name in GATEWAY_READS.findall(renderer)}
    # Names built from the service's name: peer URLs and gateway upstreams.
    found |= {f"OASIS_{service.upper()}_URL" for service in SERVICES}
    found |= {f"OASIS_{service.upper()}_UPSTREAM" for service in SERVICES}
    return found


def manifest_variables() -> set[str]:
    found = set()
    for env_file in K8S.rglob("*.env"):
        for line in env_file.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                found.add(line.partition("=")[0].strip())
    return found


def undocumented(doc: str, variables: set[str]) -> list[str]:
    return sorted(name for name in variables if f"`{name}`" not in doc)


def test_the_variable_scan_finds_what_each_part_reads():
    found = code_variables()
    for name in (
        "DATABASE_URL",
        "OASIS_SERVICE_CLIENTS",
        "OASIS_PREVIEW_ORIGIN",
        "STRIPE_SECRET_KEY",
        "OASIS_WORKER_THREADS",
        "OASIS_DEMO_PORT",
        "OASIS_GATEWAY_LISTEN",
        "OASIS_CORS_ORIGINS",
        "OASIS_WEB_WORKERS",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        assert name in found, name


def test_every_variable_the_code_reads_is_documented():
    missing = undocumented(OPERATIONS.read_text(), code_variables())
    assert missing == [], "document these in docs/operations.md (Configuration reference)"


def test_every_compose_and_manifest_variable_is_documented():
    compose = compose_rules.env_example_values(ENV_EXAMPLE.read_text())
    assert undocumented(OPERATIONS.read_text(), set(compose) | manifest_variables()) == []


def test_every_variable_that_moves_a_port_of_make_dev_is_documented():
    sys.path.insert(0, str(REPO / "scripts"))
    from platform_tools import dev_processes
    from ports import DEFAULT_PORTS, PORT_BASE_VARIABLE, port_variable

    variables = {PORT_BASE_VARIABLE} | {port_variable(p) for p in dev_processes() if p in DEFAULT_PORTS}
    assert undocumented(OPERATIONS.read_text(), variables) == []


def test_a_variable_missing_from_the_doc_is_reported(tmp_path):
    doc = OPERATIONS.read_text().replace("`OASIS_GENERATION_STALE_AFTER_SECONDS`", "the stale-after setting")
    assert "OASIS_GENERATION_STALE_AFTER_SECONDS" in undocumented(doc, code_variables())


def test_the_documented_commands_name_workloads_that_exist():
    doc = OPERATIONS.read_text()
    compose = compose_rules.load(REPO / "docker-compose.yml")["services"]
    for name in re.findall(
        r"docker compose (?:exec -T|run --rm|stop|start|up -d(?: --scale)?) ([a-z][a-z-]+)", doc
    ):
        assert name in compose, name
    kubernetes = "\n".join(p.read_text() for p in K8S.rglob("*.yaml"))
    named = re.findall(
        r"(?:deployment|statefulset)/([a-z][a-z-]+)|(?:patch hpa|get secret) ([a-z][a-z-]+)", doc
    )
    assert named
    for name in filter(None, (a or b for a, b in named)):
        assert re.search(rf"[nN]ame: {re.escape(name)}$", kubernetes, re.M), name


def commands_needing_root(doc: str) -> list[str]:
    """Lines of the guide's shell blocks that need root: an operator should not."""
    blocks = re.findall(r"```sh\n(.*?)```", doc, re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    return [line for line in lines if re.search(r"(^|[;&|(]\s*)sudo\b", line)]


def test_the_guide_needs_no_sudo():
    assert commands_needing_root(OPERATIONS.read_text()) == []


def test_a_sudo_in_the_guide_is_reported():
    doc = OPERATIONS.read_text().replace(
        "chmod 640 var/deploy/jwt/signing.pem", "sudo chown 10001 var/deploy/jwt/signing.pem", 1
    )
    assert commands_needing_root(doc) == ["sudo chown 10001 var/deploy/jwt/signing.pem"]
