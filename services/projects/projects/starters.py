"""Starter templates: small static sites kept as plain files under `templates_library/<slug>/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from oasis_common.errors import NotFound


@dataclass(frozen=True)
class Starter:
    slug: str
    name: str
    description: str

    @property
    def folder(self) -> Path:
        return Path(settings.OASIS["TEMPLATES_DIR"]) / self.slug


STARTERS = (
    Starter("blank", "Blank page", "One clean page and a stylesheet: start from nothing."),
    Starter(
        "landing",
        "Landing page",
        "A product landing page: hero, features, pricing, a sign-up form and a footer.",
    ),
    Starter(
        "portfolio", "Portfolio and blog", "A personal site: projects, a short bio and a blog with posts."
    ),
)


def starter_list() -> list[Starter]:
    return list(STARTERS)


def starter_get(slug: str) -> Starter:
    for starter in STARTERS:
        if starter.slug == slug:
            return starter
    raise NotFound("No such template.", code="template_not_found")


def starter_files(starter: Starter) -> dict[str, bytes]:
    """Every file of the starter by relative POSIX path, in path order."""
    root = starter.folder
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
