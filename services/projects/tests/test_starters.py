"""Starter templates: real small sites kept as files; creating a project from one makes revision 1."""

import hashlib
from html.parser import HTMLParser

import pytest

from oasis_common.paths import path_clean
from oasis_common.testing import error_of
from projects.starters import STARTERS, starter_files
from tests.helpers import PROJECTS, create_project, files_of, project_url

SLUGS = [starter.slug for starter in STARTERS]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("#", "mailto:", "http")):
                self.targets.append(value.split("#")[0])


def test_there_are_at_least_three_templates_including_a_blank_page():
    assert len(STARTERS) >= 3
    assert "blank" in SLUGS


def test_the_template_list_describes_each_with_its_files(ada):
    response = ada.get(f"{PROJECTS}templates/")

    assert response.status_code == 200
    listed = {template["slug"]: template for template in response.json()}
    assert list(listed) == SLUGS
    landing = listed["landing"]
    assert landing["name"] == "Landing page"
    assert landing["description"]
    paths = [file["path"] for file in landing["files"]]
    assert "index.html" in paths
    assert paths == sorted(paths)
    index = next(file for file in landing["files"] if file["path"] == "index.html")
    assert index["content_type"] == "text/html"
    assert index["size"] > 0


def test_the_template_list_needs_a_user(anonymous):
    error_of(anonymous.get(f"{PROJECTS}templates/"), 401)


@pytest.mark.parametrize("starter", STARTERS, ids=SLUGS)
def test_every_template_is_a_small_valid_site_whose_links_resolve(starter):
    files = starter_files(starter)

    assert "index.html" in files
    assert sum(len(content) for content in files.values()) < 64 * 1024
    for path, content in files.items():
        assert path_clean(path) == path
        assert content.decode("utf-8")
        if path.endswith(".html"):
            page = content.decode()
            assert page.startswith("<!doctype html>")
            assert '<meta name="viewport"' in page
            assert "<title>" in page
            links = _Links()
            links.feed(page)
            folder = path.rpartition("/")[0]
            for target in links.targets:
                resolved = _resolve(folder, target)
                assert resolved in files, f"{path} links to missing {target}"


def _resolve(folder: str, target: str) -> str:
    parts = folder.split("/") if folder else []
    for segment in target.split("/"):
        if segment == "..":
            parts.pop()
        elif segment:
            parts.append(segment)
    resolved = "/".join(parts)
    return f"{resolved}/index.html" if target.endswith("/") else resolved


@pytest.mark.parametrize("starter", STARTERS, ids=SLUGS)
def test_creating_from_a_template_makes_revision_1_with_its_files(ada, starter):
    files = starter_files(starter)

    project = create_project(ada, "From template", template=starter.slug)

    assert project["template"] == starter.slug
    assert project["current_revision"] == 1
    assert project["file_count"] == len(files)
    assert project["size"] == sum(len(content) for content in files.values())
    assert files_of(ada, project) == {
        path: hashlib.sha256(content).hexdigest() for path, content in files.items()
    }
    [revision] = ada.get(project_url(project, "revisions/")).json()["results"]
    assert revision["number"] == 1
    assert revision["message"] == f"Create from the {starter.name} template"
    assert revision["author"] == {"type": "user", "user_id": str(ada.user_id), "generation_id": None}
    assert {change["action"] for change in revision["changes"]} == {"created"}
