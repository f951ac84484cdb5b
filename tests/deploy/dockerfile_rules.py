"""Our rules for the images, on top of hadolint: what a Dockerfile must say, and what it may copy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .tools import CONTAINER_TMP

# A slim Python 3.11 base pinned to a patch release and a Debian release.
PINNED_BASE = re.compile(r"^python:3\.11\.\d+-slim-(bookworm|trixie)$")
# A build stage may run Node 20 (the studio's build), pinned to a release and a slim Debian release.
PINNED_NODE = re.compile(r"^node:20\.\d+\.\d+-(bookworm|trixie)-slim$")
ROOT_USERS = {"root", "0", "0:0", "root:root"}
BUILD_ONLY = re.compile(
    r"\b(pip3?|python3? -m pip) (install|wheel)\b|\b(gcc|g\+\+|build-essential|make|git)\b"
)
MULTIPROC = re.compile(r"PROMETHEUS_MULTIPROC_DIR=(\S+?)(?:\s|&&|;|$)")


@dataclass
class Instruction:
    keyword: str
    arguments: str
    line: int


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text: str) -> list[Stage]:
    """Stages and their instructions, continuation lines joined and comments dropped."""
    stages: list[Stage] = []
    logical, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if logical and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if not logical:
            start = number
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, arguments = logical.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip(), start)
        logical = ""
        if instruction.keyword == "FROM":
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def _json_or_shell(arguments: str) -> list[str] | None:
    try:
        value = json.loads(arguments)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _copy_sources(instruction: Instruction) -> list[str]:
    words = instruction.arguments.split()
    if any(w.startswith("--from") for w in words):
        return []
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1]


# ---- .dockerignore ----


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(f"^{out}$")


def dockerignore_patterns(text: str) -> list[tuple[bool, re.Pattern]]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        patterns.append((negate, _pattern_regex(line.lstrip("!").strip("/"))))
    return patterns


def is_ignored(path: str, patterns: list[tuple[bool, re.Pattern]]) -> bool:
    """Docker's rule: the last matching pattern wins; a matched directory takes its contents along."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for negate, regex in patterns:
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


# ---- the rules ----


def problems(dockerfile: Path, *, context: Path) -> list[str]:
    """Everything wrong with one Dockerfile, as sentences; empty when it follows our rules."""
    text = dockerfile.read_text()
    stages = parse(text)
    found: list[str] = []
    if not stages:
        return [f"{dockerfile}: no FROM"]
    stage_names = {stage.name for stage in stages if stage.name}
    if len(stages) < 2:
        found.append("not multi-stage: build in one stage, copy the result into a clean final stage")
    for stage in stages:
        if stage.base in stage_names:
            continue
        if stage is not stages[-1] and PINNED_NODE.match(stage.base):
            continue  # a Node build stage; nothing of Node reaches the final image but its output
        if not PINNED_BASE.match(stage.base):
            found.append(
                f"base image {stage.base!r} is not a pinned slim Python 3.11 "
                "(python:3.11.<patch>-slim-<debian release>)"
            )
    final = stages[-1]
    users = final.all("USER")
    if not users:
        found.append("the final stage never sets USER, so it runs as root")
    else:
        user = users[-1].arguments.strip()
        if user in ROOT_USERS or user.split(":")[0] in {"root", "0"}:
            found.append(f"the final stage runs as root (USER {user})")
        elif not user.split(":")[0].isdigit():
            found.append(f"USER {user} is a name; Kubernetes can only verify runAsNonRoot for a numeric uid")
    healthchecks = final.all("HEALTHCHECK")
    if not healthchecks or healthchecks[-1].arguments.upper().startswith("NONE"):
        found.append("the final stage has no HEALTHCHECK")
    if not any("--from=" in i.arguments for i in final.all("COPY")):
        found.append("the final stage copies nothing from a build stage")
    for run in final.all("RUN"):
        if BUILD_ONLY.search(run.arguments):
            found.append(
                f"line {run.line}: the final stage builds or installs Python packages; do it in a build stage"
            )
    env_text = " ".join(i.arguments for i in final.all("ENV"))
    if "PYTHONDONTWRITEBYTECODE=1" not in env_text:
        found.append("PYTHONDONTWRITEBYTECODE=1 is not set: Python would try to write bytecode at run time")
    commands = final.all("CMD")
    if not commands:
        found.append("the final stage has no CMD")
    elif _json_or_shell(commands[-1].arguments) is None:
        found.append("CMD is not in JSON (exec) form")
    for instruction in final.instructions:
        for directory in MULTIPROC.findall(instruction.arguments):
            if not directory.strip("\"'").startswith(f"{CONTAINER_TMP}/"):
                found.append(
                    f"PROMETHEUS_MULTIPROC_DIR={directory} is outside {CONTAINER_TMP}, the only writable path"
                )
    found += copy_problems(stages, context=context)
    return found


def copy_problems(stages: list[Stage], *, context: Path) -> list[str]:
    """Every COPY source exists in the build context and survives .dockerignore."""
    ignore_file = context / ".dockerignore"
    patterns = dockerignore_patterns(ignore_file.read_text()) if ignore_file.exists() else []
    found = []
    for stage in stages:
        for copy in stage.all("COPY") + stage.all("ADD"):
            for source in _copy_sources(copy):
                matches = list(context.glob(source.rstrip("/"))) if source not in (".", "./") else [context]
                if not matches:
                    found.append(f"line {copy.line}: COPY {source}: no such path in the build context")
                elif all(is_ignored(m.relative_to(context).as_posix(), patterns) for m in matches):
                    found.append(f"line {copy.line}: COPY {source}: excluded by .dockerignore")
    return found


def studio_problems(dockerfile: Path) -> list[str]:
    """The gateway image builds the studio from web/'s lockfile in a pinned Node stage and serves it.

    The final stage must copy that stage's `dist` to `$OASIS_GATEWAY_SITE_ROOT/studio`, where the
    rendered config's `/studio/` locations look (`root <site_root>`).
    """
    stages = parse(dockerfile.read_text())
    if not stages:
        return [f"{dockerfile}: no FROM"]
    found = []
    node = [s for s in stages[:-1] if s.base.startswith("node:")]
    if not node:
        return ["no build stage builds the studio (web/) from a node image"]
    studio = node[-1]
    if not PINNED_NODE.match(studio.base):
        found.append(
            f"the studio's base image {studio.base!r} is not a pinned slim Node 20 "
            "(node:20.<minor>.<patch>-<debian release>-slim)"
        )
    if not studio.name:
        found.append("the studio's stage has no name (FROM ... AS studio) to copy its build from")
    runs = [r.arguments for r in studio.all("RUN")]
    copied = " ".join(c.arguments for c in studio.all("COPY"))
    if any(re.search(r"\bnpm (install|i)\b", r) for r in runs):
        found.append("the studio's stage runs npm install; npm ci installs exactly the lockfile")
    if not any(re.search(r"\bnpm ci\b", r) for r in runs):
        found.append("the studio's stage never runs npm ci (the lockfile's exact versions)")
    elif "package-lock.json" not in copied and not re.search(r"(^|\s)web/?(\s|$)", copied):
        found.append("the studio's stage runs npm ci without copying web/package-lock.json")
    if not any(re.search(r"\bnpm run build\b", r) for r in runs):
        found.append("the studio's stage never runs the production build (npm run build)")
    site_root = final_env(dockerfile).get("OASIS_GATEWAY_SITE_ROOT", "")
    if not site_root:
        found.append("the final stage does not set OASIS_GATEWAY_SITE_ROOT, where /studio/ is served from")
    served = f"{site_root.rstrip('/')}/studio"
    workdir = next((w.arguments for w in reversed(studio.all("WORKDIR"))), "/")
    built = f"{workdir.rstrip('/')}/dist"
    copies = []
    for copy in stages[-1].all("COPY"):
        words = copy.arguments.split()
        source = next((w.partition("=")[2] for w in words if w.startswith("--from=")), "")
        paths = [w for w in words if not w.startswith("--")]
        if studio.name and source == studio.name and len(paths) == 2:
            copies.append((paths[0].rstrip("/"), paths[1].rstrip("/")))
    if studio.name and not copies:
        found.append(f"the final stage never copies the studio's build from the {studio.name!r} stage")
    elif copies and (built, served) not in copies:
        found.append(
            f"the final stage copies the studio to {', '.join(d for _, d in copies)}, "
            f"not {built} to {served} (OASIS_GATEWAY_SITE_ROOT/studio, where /studio/ is served)"
        )
    return found


def final_env(dockerfile: Path) -> dict[str, str]:
    """The ENV of the final stage (`KEY=value` pairs), as the container starts with it."""
    env: dict[str, str] = {}
    for instruction in parse(dockerfile.read_text())[-1].all("ENV"):
        for pair in re.findall(r"(\w+)=(\"[^\"]*\"|\S+)", instruction.arguments):
            env[pair[0]] = pair[1].strip('"')
    return env


def final_command(dockerfile: Path) -> list[str]:
    return _json_or_shell(parse(dockerfile.read_text())[-1].all("CMD")[-1].arguments) or []
