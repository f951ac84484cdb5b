"""The README's curl walk-through asks for what the services' OpenAPI documents describe.

Every curl in it: a documented path and method, a JSON body with the documented fields (the
required ones included), and the fields it picks out of an answer present in that answer's schema.
The whole journey is there: an account, a project, a build, its stream, the export.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml

from .tools import REPO

README = REPO / "README.md"
SERVICES = ("auth", "projects", "payments", "builder", "sites")
JOURNEY = {
    ("post", "/api/v1/auth/register/"),
    ("post", "/api/v1/auth/token/"),
    ("post", "/api/v1/projects/"),
    ("post", "/api/v1/builder/projects/{project_id}/generations/"),
    ("get", "/api/v1/builder/generations/{generation_id}/events/"),
    ("get", "/api/v1/projects/{project_id}/export/"),
}


def walkthrough(text: str) -> str:
    """The shell block that follows "Try it"."""
    start = text.index("Try it")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block, "no shell block after 'Try it'"
    return block.group(1)


def commands(block: str) -> list[tuple[str, str]]:
    """Each curl, and the field its answer is piped to `json` for (or '')."""
    found = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split("  # ")[0].strip()
        for part, rest in re.findall(r"(curl [^|)&]*)([^;]*)", line):
            picked = re.search(r"""\| json '\["(\w+)"\]'""", rest)
            found.append((part.strip(), picked.group(1) if picked else ""))
    return found


def documents() -> dict[str, dict]:
    return {s: yaml.safe_load((REPO / "services" / s / "openapi.yaml").read_text()) for s in SERVICES}


def template(path: str, documented: dict) -> str | None:
    """The documented path a concrete one (with $VARIABLES) stands for."""
    for candidate in documented:
        pattern = re.sub(r"\\\{[^}]+\\\}", r"\\$[A-Z_]+", re.escape(candidate))
        if re.fullmatch(pattern, path):
            return candidate
    return None


def request(command: str) -> tuple[str, str, dict | None]:
    words = shlex.split(command.replace("$API", "/api/v1"), posix=True)
    method = words[words.index("-X") + 1].lower() if "-X" in words else "get"
    path = next(w for w in words[1:] if w.startswith("/api/"))
    body = json.loads(words[words.index("-d") + 1]) if "-d" in words else None
    return method, path, body


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def problems(block: str) -> list[str]:
    docs = documents()
    paths = {path: doc for doc in docs.values() for path in doc["paths"]}
    found, asked = [], set()
    for command, picked in commands(block):
        method, path, body = request(command)
        documented = template(path, paths)
        if documented is None:
            found.append(f"{method.upper()} {path} is not a documented path")
            continue
        doc = paths[documented]
        operation = doc["paths"][documented].get(method)
        if operation is None:
            found.append(f"{method.upper()} {documented} is not documented")
            continue
        asked.add((method, documented))
        if body is not None:
            schema = resolve(doc, operation["requestBody"]["content"]["application/json"]["schema"])
            unknown = set(body) - set(schema.get("properties", {}))
            missing = set(schema.get("required", [])) - set(body)
            if unknown:
                found.append(f"{method.upper()} {documented}: {sorted(unknown)} are not in its request body")
            if missing:
                found.append(f"{method.upper()} {documented}: the required {sorted(missing)} are missing")
        if not picked:
            continue
        answer = next(
            (r for code, r in operation["responses"].items() if code.startswith("2") and r.get("content")),
            None,
        )
        schema = resolve(doc, answer["content"]["application/json"]["schema"]) if answer else {}
        if picked not in schema.get("properties", {}):
            found.append(f"{method.upper()} {documented}: its answer has no {picked!r}")
    for method, path in sorted(JOURNEY - asked):
        found.append(f"the walk-through never does {method.upper()} {path}")
    return found


def test_the_readme_walkthrough_asks_for_what_the_api_documents():
    assert problems(walkthrough(README.read_text())) == []


def test_the_stream_is_watched_unbuffered():
    block = walkthrough(README.read_text())
    assert any(c.startswith("curl -N ") and "/events/" in c for c, _ in commands(block))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("/projects/ -H", "/project/ -H", "POST /api/v1/project/ is not a documented path"),
        ('{"name": "Bakery"}', '{"title": "Bakery"}', "['title'] are not in its request body"),
        ('{"name": "Bakery"}', '{"description": "x"}', "the required ['name'] are missing"),
        ("""json '["id"]')\n# 3""", """json '["uuid"]')\n# 3""", "its answer has no 'uuid'"),
        ("curl -N $API/builder/generations/$GENERATION/events/", "true", "never does GET"),
    ],
)
def test_a_planted_mistake_in_the_walkthrough_is_reported(old, new, expected):
    block = walkthrough(README.read_text())
    assert old in block
    found = problems(block.replace(old, new, 1))
    assert any(expected in problem for problem in found), found
