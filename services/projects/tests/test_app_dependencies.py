"""How the apps lean on each other: files and previews build on the projects app's base, never around it.

The files app stores its rows against a `Project`, so it must import from `projects`; the
projects app's own operations (creating from a template, importing, exporting, deleting)
use files. What keeps this from being a circle is that the projects modules files and
previews import (the model, ownership, query parameters, publication shapes) import nothing
of files or previews, directly or through others. Read with `ast`, so imports inside
functions count too.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("projects", "files", "previews")


def modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                parts = path.relative_to(ROOT).with_suffix("").parts
                found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(known: dict[str, Path]) -> dict[str, set[str]]:
    """Each module's imports of the others (`from pkg import mod` counts as `pkg.mod`)."""
    graph = {}
    for module, path in known.items():
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            else:
                continue
            graph[module].update(name for name in names if name in known and name != module)
    return graph


def reached(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


GRAPH = imports(modules())
USED_BY_THE_OTHER_APPS = sorted(
    {
        target
        for module, targets in GRAPH.items()
        if not module.startswith("projects")
        for target in targets
        if target.startswith("projects")
    }
)


def test_the_other_apps_use_the_projects_apps_base():
    assert USED_BY_THE_OTHER_APPS == [
        "projects.models",
        "projects.ownership",
        "projects.params",
        "projects.publication_serializers",
    ]


@pytest.mark.parametrize("module", USED_BY_THE_OTHER_APPS)
def test_what_files_and_previews_import_from_projects_leads_back_to_neither(module):
    back = sorted(name for name in reached(GRAPH, module) if not name.startswith("projects"))

    assert back == [], f"{module} reaches {back}: files or previews would import themselves through it"


def test_the_projects_app_never_imports_previews():
    previews = {name for name in GRAPH if name.startswith("previews")}

    assert not any(GRAPH[name] & previews for name in GRAPH if name.startswith("projects"))
