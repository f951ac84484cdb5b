"""No service imports itself in a circle: the import graph of each service's own packages is a DAG.

Read with `ast` alone (nothing is imported, Django is never set up), so every import statement
counts, the ones inside functions and under `if TYPE_CHECKING:` included: hiding an import in a
function keeps Python from tripping over a circle, not the circle from being there. Relative
imports are resolved, and `from pkg import name` is an import of the module `pkg.name` when
there is one (of `pkg` itself otherwise). A service's graph holds its packages (every folder of
`services/<service>/` with an `__init__.py`, except `tests`) and `oasis_common`, whose own
circles are reported once, under `common`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO

SERVICES = REPO / "services"
COMMON = SERVICES / "common"
COMMON_PACKAGES = ("oasis_common",)
NOT_PRODUCT = {"tests"}


def service_names() -> list[str]:
    return sorted(
        folder.name
        for folder in SERVICES.iterdir()
        if folder.is_dir() and folder != COMMON and any(service_packages(folder))
    )


def service_packages(folder: Path) -> Iterator[Path]:
    """The service's own top-level packages: its apps, its Django project, its library."""
    for child in sorted(folder.iterdir()):
        if child.is_dir() and child.name not in NOT_PRODUCT and (child / "__init__.py").exists():
            yield child


def modules_of(package: Path) -> dict[str, Path]:
    """Every module of `package` by dotted name (a package by the name of its `__init__`)."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _base_of(module: str, path: Path, level: int, target: str | None) -> str:
    """The absolute name `from <dots><target> import ...` refers to, written in `module`."""
    if not level:
        return target or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports_of(module: str, path: Path) -> Iterator[tuple[str, str | None]]:
    """Every import statement of `module` as (module, name): `import a.b` is ("a.b", None),
    `from a import b` is ("a", "b"), with relative imports made absolute."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base_of(module, path, node.level, node.module)
            yield from ((base, alias.name) for alias in node.names)


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Each module's imports of the others in `modules`; anything else (Django, the standard
    library) is left out, since it cannot import us back."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        graph[module] = set()
        for base, name in imports_of(module, path):
            if name is not None and f"{base}.{name}" in modules:
                graph[module].add(f"{base}.{name}")
            elif base in modules:
                graph[module].add(base)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, and modules importing themselves."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(start: str) -> None:
        # Tarjan's algorithm, iteratively: recursion would be bounded by the longest import chain.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = lowlink[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = lowlink[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    lowlink[node] = min(lowlink[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return sorted(found)


def service_modules(service: str) -> dict[str, Path]:
    modules = common_modules()
    for package in service_packages(SERVICES / service):
        modules.update(modules_of(package))
    return modules


def common_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for name in COMMON_PACKAGES:
        modules.update(modules_of(COMMON / name))
    return modules


def service_cycles(service: str) -> list[list[str]]:
    """The circles of `service`, those of oasis_common alone left to `common`."""
    if service == "common":
        return cycles(import_graph(common_modules()))
    library = set(common_modules())
    return [cycle for cycle in cycles(import_graph(service_modules(service))) if not set(cycle) <= library]


def describe(service: str, found: list[list[str]]) -> str:
    """Each circle as its modules, then the imports that close it (importer -> imported)."""
    graph = import_graph(common_modules() if service == "common" else service_modules(service))
    lines = []
    for cycle in found:
        members = set(cycle)
        edges = [f"{module} -> {target}" for module in cycle for target in sorted(graph[module] & members)]
        lines.append(f"{', '.join(cycle)}: {'; '.join(edges)}")
    return "\n".join(lines)


@pytest.mark.parametrize("service", [*service_names(), "common"])
def test_the_service_imports_no_module_in_a_circle(service):
    found = service_cycles(service)

    assert not found, f"import cycles in {service}:\n{describe(service, found)}"


# The checker itself, on small made-up packages.


def write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return modules_of(root / "app")


def test_an_import_inside_a_function_counts(tmp_path):
    modules = write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app import b\n",
            "app/b.py": "def f():\n    from app.a import name\n",
        },
    )

    assert cycles(import_graph(modules)) == [["app.a", "app.b"]]


def test_relative_imports_are_resolved_from_the_module_and_from_a_package(tmp_path):
    modules = write(
        tmp_path,
        {
            "app/__init__.py": "from .inner import c\n",
            "app/a.py": "from . import b\n",
            "app/b.py": "from .inner.c import thing\n",
            "app/inner/__init__.py": "",
            "app/inner/c.py": "from ..a import name\n",
        },
    )

    graph = import_graph(modules)

    assert graph["app"] == {"app.inner.c"}
    assert graph["app.inner.c"] == {"app.a"}
    assert cycles(graph) == [["app.a", "app.b", "app.inner.c"]]


def test_a_name_imported_from_a_package_is_an_import_of_the_package(tmp_path):
    modules = write(
        tmp_path,
        {
            "app/__init__.py": "import app.a\nVALUE = 1\n",
            "app/a.py": "from app import VALUE\n",
        },
    )

    assert import_graph(modules)["app.a"] == {"app"}
    assert cycles(import_graph(modules)) == [["app", "app.a"]]


def test_a_module_importing_itself_is_a_circle_and_outside_imports_are_not(tmp_path):
    modules = write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "import os\nfrom django.db import models\nfrom app import a\n",
            "app/b.py": "from app.a import x\n",
        },
    )

    assert cycles(import_graph(modules)) == [["app.a"]]
