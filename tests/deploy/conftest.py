"""What the deployment checks share: the repository's files, and a copy of them to plant mistakes in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .tools import REPO

SERVICE_DOCKERFILES = {
    "auth": REPO / "services" / "auth" / "Dockerfile",
    "projects": REPO / "services" / "projects" / "Dockerfile",
    "payments": REPO / "services" / "payments" / "Dockerfile",
    "builder": REPO / "services" / "builder" / "Dockerfile",
    "sites": REPO / "services" / "sites" / "Dockerfile",
    "demo_model": REPO / "services" / "demo_model" / "Dockerfile",
}
GATEWAY_DOCKERFILE = REPO / "gateway" / "Dockerfile"
DOCKERFILES = {**SERVICE_DOCKERFILES, "gateway": GATEWAY_DOCKERFILE}
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
K8S = REPO / "k8s"
OVERLAYS = ("dev", "prod")
DJANGO_SERVICES = ("auth", "projects", "payments", "builder", "sites")


@pytest.fixture
def k8s_copy(tmp_path: Path) -> Path:
    """A scratch copy of k8s/ to plant a mistake in and render."""
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    return copy


def replace_once(path: Path, old: str, new: str) -> None:
    """Edit a copied file, insisting the text to change is there (so a plant never silently misses)."""
    text = path.read_text()
    assert text.count(old) >= 1, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))
