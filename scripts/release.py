#!/usr/bin/env python3
"""Releases and rollbacks of Imagi Oasis on one host with docker compose (docs/operations.md).

    python3 scripts/release.py secrets                 # .env -> var/deploy/secrets/, one file each
    python3 scripts/release.py build [--version V]     # images imagi-oasis/<image>:V of this checkout
    python3 scripts/release.py release [--version V]   # build, migrate with V, then serve V
    python3 scripts/release.py rollback [--to P]       # serve P again, then undo V's migrations
    python3 scripts/release.py restart SERVICE...      # replace containers, web ones start-first
    python3 scripts/release.py adopt --version V       # name the images running now release V
    python3 scripts/release.py status

Why a script and not `docker compose up -d --build`: compose replaces a service's containers
(stops the old ones, creates the new) before it starts anything, and only then runs the
`<service>-migrate` job the new ones wait for. A migration that fails there leaves the service
with no container running. So a release runs every migration first, with the new images, in
one-off containers (`docker compose run --rm`), while the old release keeps serving; only when
all of them succeeded does it point the running tag at the new images and run `up`. Migrations
must therefore be backward compatible: the old code runs on the new schema until it is replaced
(expand now, contract in a later release).

Tags: every release is built as imagi-oasis/<image>:<release> (from `git describe`, or
--version) and kept. Compose runs the tag OASIS_VERSION names (.env; `dev` by default), which
this script points at a release with `docker tag`. Compose recreates a container when the image
behind its tag changed, so a release restarts only the services whose image differs; a tag of
its own per release in docker-compose.yml would change every service's configuration and restart
all of them, the gateway included. docker-compose.yml never builds (no `build:`, `pull_policy:
never`): building is docker-compose.build.yml's, merged in by `build` only, so no `up` can build
today's code under an old release's tag.

Start-first: compose replaces a container by stopping the old one and only then creating the
new one, so a service with one replica would refuse requests for a whole container start. The web
services the gateway routes to (auth, projects, payments, builder, sites) and the gateway itself
are therefore replaced the other way round, by `restart` and by a release or rollback that
changes their image: the new containers start beside the old ones (`up --no-recreate --scale
S=2N`) until they are healthy; both serve for a moment (the gateway, which looks each name up
again every second, spreads requests over both; two gateways share one port with SO_REUSEPORT);
then the old containers stop gracefully (a request that finds one closed is passed to the next
address; a connection waiting in a closed listener moves to the other) and are removed. Every
other container is recreated by compose as usual.

Rollback to P: refuses unless P's images are on this host (it never builds); reads each
service's migrations with P's image and with the current one (`showmigrations --plan`); points
the running tag at P and runs `up` (P's code runs on the newer schema, which it tolerates by the
expand rule, and P's migrate jobs find nothing to apply: they do not know the newer migrations);
then, with the CURRENT release's image, which alone has the newer migration files, migrates each
app back to the last migration P ships (`migrate <app> <name>`, or `zero`).

Only the standard library: it runs with the host's python3, without the project's virtualenv.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = "docker-compose.yml"
BUILD_FILE = "docker-compose.build.yml"
# Compose reads this beside docker-compose.yml by itself; so must we, or `up` would differ from ours.
OVERRIDE_FILE = "docker-compose.override.yml"
# Our images, as docker-compose.yml names them (imagi-oasis/<image>:${OASIS_VERSION:-dev}).
IMAGES = ("gateway", "auth", "projects", "payments", "builder", "sites", "demo-model")
DJANGO_SERVICES = ("auth", "projects", "payments", "builder", "sites")
DATABASES = tuple(f"{service}-db" for service in DJANGO_SERVICES)
# Replaced start-first, each running the image of its name: the web services the gateway routes to
# (it looks their names up again every second), and the gateway itself (its containers share
# gateway-port's network namespace and published port, listening with SO_REUSEPORT).
START_FIRST = (*DJANGO_SERVICES, "gateway")
# How long a replaced service's old and new containers both serve before the old ones stop: longer
# than the gateway keeps an address it looked up (`valid=1s` in gateway/nginx.conf.j2; the gateway
# config tests hold the two apart), so that by then it knows the new ones.
DEFAULT_OVERLAP_SECONDS = 3.0
SECRETS_DIR = Path("var/deploy/secrets")
RELEASES_FILE = Path("var/deploy/releases")
DEFAULT_RUNNING_TAG = "dev"
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# `migrate` prints "  Applying app.name..." and then " OK" once that migration is in.
APPLYING = re.compile(r"\b(?:Un)?[Aa]pplying (\w+\.\w+)\.\.\.( OK)?")
# `showmigrations --plan`: "[X]  app.0002_name" (applied) or "[ ]  app.0002_name".
PLAN_LINE = re.compile(r"^\s*\[( |X)\]\s+(\w+)\.(\w+)", re.M)


class Refused(Exception):
    """Nothing was changed: the operator is told why (exit 2)."""


class Failed(Exception):
    """A step failed; the message says what runs now and what to do (exit 1)."""


# ---- secrets: .env -> one file per secret ----


@dataclass(frozen=True)
class Secret:
    name: str  # the compose secret, and its file under var/deploy/secrets/
    variables: tuple[str, ...]  # what it is made of, from .env (or the environment)
    make: Callable[[Mapping[str, str]], str]
    required: bool = True


def _one(variable: str) -> Callable[[Mapping[str, str]], str]:
    return lambda values: values[variable]


def _database_url(service: str) -> Callable[[Mapping[str, str]], str]:
    variable = f"{service.upper()}_DB_PASSWORD"
    return lambda values: (
        f"postgres://{service}:{quote(values[variable], safe='')}@{service}-db:5432/{service}"
    )


def _service_clients(values: Mapping[str, str]) -> str:
    return ",".join(
        f"{peer}={values[f'{peer.upper()}_SERVICE_CLIENT_SECRET']}"
        for peer in DJANGO_SERVICES
        if peer != "auth"
    )


def _secrets() -> tuple[Secret, ...]:
    found = []
    for service in DJANGO_SERVICES:
        prefix = service.upper()
        found += [
            Secret(
                f"{service}-django-secret-key",
                (f"{prefix}_DJANGO_SECRET_KEY",),
                _one(f"{prefix}_DJANGO_SECRET_KEY"),
            ),
            Secret(f"{service}-db-password", (f"{prefix}_DB_PASSWORD",), _one(f"{prefix}_DB_PASSWORD")),
            Secret(f"{service}-database-url", (f"{prefix}_DB_PASSWORD",), _database_url(service)),
        ]
        if service != "auth":
            variable = f"{prefix}_SERVICE_CLIENT_SECRET"
            found.append(Secret(f"{service}-service-client-secret", (variable,), _one(variable)))
    peers = tuple(f"{peer.upper()}_SERVICE_CLIENT_SECRET" for peer in DJANGO_SERVICES if peer != "auth")
    found += [
        Secret("auth-service-clients", peers, _service_clients),
        # Optional: an empty file is an unset variable (no SMTP login, no Stripe, the demo model only).
        Secret("auth-smtp-password", ("OASIS_SMTP_PASSWORD",), _one("OASIS_SMTP_PASSWORD"), required=False),
        Secret(
            "payments-stripe-secret-key", ("STRIPE_SECRET_KEY",), _one("STRIPE_SECRET_KEY"), required=False
        ),
        Secret(
            "payments-stripe-webhook-secret",
            ("STRIPE_WEBHOOK_SECRET",),
            _one("STRIPE_WEBHOOK_SECRET"),
            required=False,
        ),
        Secret("builder-openai-api-key", ("OPENAI_API_KEY",), _one("OPENAI_API_KEY"), required=False),
    ]
    return tuple(found)


SECRETS = _secrets()
# Every .env variable this script reads (the compose rules count them as read).
ENV_VARIABLES = frozenset(v for secret in SECRETS for v in secret.variables) | {
    "OASIS_VERSION",
    "OASIS_RELEASE_OVERLAP_SECONDS",
}


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads them: comments and blank lines skipped, quotes removed."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        name = name.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
    return values


def settings(project: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """.env, with the environment winning, as compose interpolates docker-compose.yml."""
    values = read_dotenv(project / ".env")
    values.update({name: value for name, value in environ.items() if name in ENV_VARIABLES})
    return values


def write_secrets(project: Path, environ: Mapping[str, str], out) -> list[str]:
    """Write each secret's file from .env; a file already there is kept when .env leaves it out.

    Refuses, writing nothing, when a required secret is neither in .env nor already a file.
    The directory is the operator's alone (700); the files are 644 because compose bind-mounts
    them as they are, and the containers' users (10001, postgres) must read them.
    """
    values = settings(project, environ)
    directory = project / SECRETS_DIR
    planned: dict[str, str | None] = {}
    missing = []
    for secret in SECRETS:
        given = all(values.get(v, "").strip() for v in secret.variables)
        if given:
            planned[secret.name] = secret.make({v: values[v].strip() for v in secret.variables})
        elif (directory / secret.name).exists():
            planned[secret.name] = None  # kept as it is
        elif secret.required:
            missing += [v for v in secret.variables if not values.get(v, "").strip() and v not in missing]
        else:
            planned[secret.name] = ""
    if missing:
        raise Refused(
            "set " + ", ".join(missing) + " in .env (docs/operations.md: `openssl rand -hex 32` for each)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    written = []
    for name, content in planned.items():
        if content is None:
            continue
        path = directory / name
        temporary = path.with_name(f".{name}.tmp")
        temporary.write_text(content)
        temporary.chmod(0o644)
        os.replace(temporary, path)
        written.append(name)
    print(f"secrets: {len(written)} written, {len(planned) - len(written)} kept, in {SECRETS_DIR}/", file=out)
    return written


# ---- running docker ----


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Docker:
    """docker and docker compose, run in the project directory, their output shown as it comes."""

    def __init__(self, project: Path, environ: Mapping[str, str], out):
        self.project = project
        self.environ = dict(environ)
        self.out = out
        self.binary = shutil.which("docker", path=self.environ.get("PATH")) or "docker"

    def files(self, *, build: bool = False) -> list[str]:
        names = [COMPOSE_FILE]
        if (self.project / OVERRIDE_FILE).exists():
            names.append(OVERRIDE_FILE)
        if build:
            names.append(BUILD_FILE)
        return [arg for name in names for arg in ("-f", str(self.project / name))]

    def compose(
        self, *args: str, version: str | None = None, build: bool = False, quiet: bool = False
    ) -> Result:
        """`docker compose …`; with `version`, its images are that release's (OASIS_VERSION)."""
        command = [self.binary, "compose", "--project-directory", str(self.project), *self.files(build=build)]
        env = dict(self.environ)
        if version is not None:
            env["OASIS_VERSION"] = version
        return self._run([*command, *args], env=env, quiet=quiet)

    def docker(self, *args: str, quiet: bool = False) -> Result:
        return self._run([self.binary, *args], env=self.environ, quiet=quiet)

    def _run(self, command: list[str], *, env: Mapping[str, str], quiet: bool) -> Result:
        try:
            process = subprocess.Popen(
                command,
                cwd=self.project,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        except OSError as exc:
            raise Failed(f"cannot run {command[0]}: {exc.strerror}; is Docker installed?") from exc
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if not quiet:
                self.out.write(line)
                self.out.flush()
        return Result(process.wait(), "".join(lines))


# ---- releases ----


def running_tag(project: Path, environ: Mapping[str, str]) -> str:
    """The tag compose runs: OASIS_VERSION from the environment, else .env, else dev."""
    return settings(project, environ).get("OASIS_VERSION", "").strip() or DEFAULT_RUNNING_TAG


def history(project: Path) -> list[tuple[str, str]]:
    """(action, version) for each release, rollback and adoption, oldest first."""
    path = project / RELEASES_FILE
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            entries.append((parts[1], parts[2]))
    return entries


def record(project: Path, action: str, version: str) -> None:
    path = project / RELEASES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with path.open("a") as handle:
        handle.write(f"{now}\t{action}\t{version}\n")


def current_release(project: Path) -> str | None:
    entries = history(project)
    return entries[-1][1] if entries else None


def previous_release(project: Path) -> str | None:
    """The release that served before the current one was last released (or adopted)."""
    entries = history(project)
    current = current_release(project)
    made = [i for i, (action, version) in enumerate(entries) if version == current and action != "rollback"]
    if not made:
        return None
    earlier = [version for _, version in entries[: made[-1]] if version != current]
    return earlier[-1] if earlier else None


def image(name: str, tag: str) -> str:
    return f"imagi-oasis/{name}:{tag}"


def check_tag(version: str, running: str) -> None:
    if not TAG.match(version):
        raise Refused(f"{version!r} is not a valid image tag (letters, digits, '_', '.', '-')")
    if version == running:
        raise Refused(
            f"the release may not be called {running!r}: that is the tag compose runs (OASIS_VERSION), "
            "which this script points at a release"
        )


def git_describe(project: Path) -> str:
    try:
        found = subprocess.run(
            ["git", "-C", str(project), "describe", "--tags", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        found = None
    if found is None or found.returncode != 0 or not found.stdout.strip():
        raise Refused("cannot name the release from git (git describe); give it one with --version")
    return found.stdout.strip()


def missing_images(docker: Docker, names: tuple[str, ...], tag: str) -> list[str]:
    return [
        image(name, tag)
        for name in names
        if not docker.docker("image", "inspect", image(name, tag), quiet=True).ok
    ]


def build(docker: Docker, version: str) -> None:
    print(f"== building release {version} (docker-compose.build.yml)", file=docker.out)
    if not docker.compose("build", version=version, build=True).ok:
        raise Failed(f"building release {version} failed (above); nothing else was done")


def failed_migration(output: str) -> str:
    """The migration `migrate` was applying when it failed, and the error, in one sentence."""
    started = [(m.group(1), bool(m.group(2))) for m in APPLYING.finditer(output)]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    error = lines[-1] if lines else "no output"
    unfinished = [name for name, ok in started if not ok]
    if unfinished:
        return f"migration {unfinished[-1]} failed: {error}"
    return f"it failed before or after its migrations: {error}"


def containers(docker: Docker, service: str, *, stopped: bool = False) -> list[str]:
    """The ids of a service's running containers (with `stopped`, its exited ones too)."""
    result = docker.compose("ps", *(["--all"] if stopped else []), "--quiet", service, quiet=True)
    if not result.ok:
        raise Failed(f"could not list {service}'s containers: {result.output.strip()}")
    return result.output.split()


def overlap_seconds(docker: Docker) -> float:
    value = settings(docker.project, docker.environ).get("OASIS_RELEASE_OVERLAP_SECONDS", "").strip()
    try:
        return float(value) if value else DEFAULT_OVERLAP_SECONDS
    except ValueError:
        raise Refused(f"OASIS_RELEASE_OVERLAP_SECONDS must be a number of seconds, not {value!r}") from None


def replace(docker: Docker, service: str) -> bool:
    """Replace a service's containers start-first; False (the old ones serving) if the new fail.

    The new containers start beside the old ones and must become healthy (`--wait`); both serve
    for `overlap_seconds`, until the gateway has looked the name up again; then the old ones stop
    gracefully (their requests in flight finish) and are removed. A request the gateway sends to
    an old container that has stopped listening is passed on to the next address.
    """
    pause = overlap_seconds(docker)
    old = containers(docker, service)
    if not old:
        return docker.compose("up", "--detach", "--no-build", "--no-deps", "--wait", service).ok
    print(f"== {service}: {len(old)} new container(s) beside the old", file=docker.out)
    started = docker.compose(
        "up", "--detach", "--no-build", "--no-deps", "--no-recreate",
        "--scale", f"{service}={2 * len(old)}", "--wait", service,
    )  # fmt: skip
    new = [container for container in containers(docker, service, stopped=True) if container not in old]
    if not started.ok:
        if new:
            docker.docker("rm", "--force", *new)
        print(f"{service}: the new container(s) did not become healthy; the old ones serve", file=docker.out)
        return False
    time.sleep(pause)
    print(f"== {service}: the old container(s) stop", file=docker.out)
    return docker.docker("stop", *old).ok and docker.docker("rm", *old).ok


def changed(docker: Docker, service: str, running: str) -> bool:
    """Whether a service's running containers run another image than its tag names now."""
    ids = containers(docker, service)
    if not ids:
        return False
    wanted = docker.docker("image", "inspect", "--format", "{{.Id}}", image(service, running), quiet=True)
    current = docker.docker("inspect", "--format", "{{.Image}}", *ids, quiet=True)
    if not (wanted.ok and current.ok):
        raise Failed(f"could not compare {service}'s image: {wanted.output.strip()} {current.output.strip()}")
    return set(current.output.split()) != {wanted.output.strip()}


def serve(docker: Docker, running: str) -> bool:
    """`up` with the images the running tag names, replacing the changed services first.

    On a running stack: each START_FIRST service whose image changed is replaced start-first
    (`replace`); then `up --no-deps` of every long-running service recreates the others that
    changed (workers, sweepers: nothing routes to them; gateway-port) without waiting for the migrate jobs,
    whose migrations were applied before this with the same image (a plain `up` would re-run a
    changed service's job after stopping its old container, and the service would be down for a
    Django start); the full `up` after it brings the jobs to the new image, finding nothing to
    apply, and recreates nothing else. On a first start, the full `up` alone, in its order.
    """
    up = docker.compose("ps", "--status", "running", "--services", quiet=True)
    if up.ok and up.output.split():
        for service in START_FIRST:
            if changed(docker, service, running) and not replace(docker, service):
                return False
        listed = docker.compose("config", "--services", quiet=True)
        if not listed.ok:
            return False
        services = [name for name in listed.output.split() if not name.endswith("-migrate")]
        if not docker.compose("up", "--detach", "--no-build", "--no-deps", "--wait", *services).ok:
            return False
    return docker.compose("up", "--detach", "--no-build", "--wait").ok


def restart(project: Path, environ: Mapping[str, str], out, *, services: list[str]) -> None:
    """New containers for these services, with the settings and secrets they have now.

    The web services and the gateway start-first, so that with one replica no request fails; the
    others as compose recreates them (gateway-port, which holds the published port: refused
    connections for as long as it takes). Run after changing their secrets or settings (a key rotation).
    """
    docker = Docker(project, environ, out)
    listed = docker.compose("config", "--services", quiet=True)
    if not listed.ok:
        raise Failed(f"docker compose could not read its files: {listed.output.strip()}")
    unknown = [name for name in services if name not in listed.output.split()]
    if unknown:
        raise Refused("no such service in docker-compose.yml: " + ", ".join(unknown))
    write_secrets(project, environ, out)
    for service in services:
        if service in START_FIRST:
            done = replace(docker, service)
        else:
            done = docker.compose(
                "up", "--detach", "--no-build", "--no-deps", "--force-recreate", "--wait", service
            ).ok
        if not done:
            raise Failed(
                f"{service} was not restarted (above); `docker compose ps {service}` lists its containers"
            )
        print(f"{service}: restarted", file=out)


def point_running_tag(docker: Docker, version: str, running: str) -> None:
    for name in IMAGES:
        if not docker.docker("tag", image(name, version), image(name, running)).ok:
            raise Failed(f"could not tag {image(name, version)} as {image(name, running)}")


def release(
    project: Path, environ: Mapping[str, str], out, *, version: str | None, build_images: bool
) -> None:
    docker = Docker(project, environ, out)
    running = running_tag(project, environ)
    version = version or git_describe(project)
    check_tag(version, running)
    current = current_release(project)
    if build_images and version in {v for _, v in history(project)}:
        raise Refused(f"release {version} was made before; give this one another --version (or --no-build)")
    write_secrets(project, environ, out)
    if build_images:
        build(docker, version)
    absent = missing_images(docker, IMAGES, version)
    if absent:
        raise Refused("these images are not on this host: " + ", ".join(absent))

    print("== the databases", file=out)
    if not docker.compose("up", "--detach", "--no-build", "--wait", *DATABASES).ok:
        raise Failed("the databases did not become healthy (above); nothing was restarted")

    serving = f"release {current}" if current else "the containers running now"
    for done, service in enumerate(DJANGO_SERVICES):
        print(f"== {service}: migrations of release {version}", file=out)
        result = docker.compose("run", "--rm", "--no-deps", "-T", f"{service}-migrate", version=version)
        if not result.ok:
            applied = DJANGO_SERVICES[:done]
            raise Failed(
                f"release {version} stopped: {service}: {failed_migration(result.output)}\n"
                f"Nothing was restarted: {serving} keeps serving. "
                + (
                    f"The migrations of {', '.join(applied)} were applied; by the expand rule the "
                    "running release works with them. "
                    if applied
                    else ""
                )
                + f"Fix the migration, then release again (`docker compose run --rm {service}-migrate "
                "python manage.py showmigrations` shows where each app stands)."
            )

    print(f"== serving release {version} (imagi-oasis/*:{running} -> {version})", file=out)
    point_running_tag(docker, version, running)
    record(project, "release", version)
    if not serve(docker, running):
        raise Failed(
            f"`docker compose up` did not finish healthy with release {version} (above); its migrations are "
            f"applied. `docker compose ps` shows which container; "
            + (f"`python3 scripts/release.py rollback` returns to {current}." if current else "")
        )
    print(f"release {version} serves" + (f" (previous: {current})" if current else ""), file=out)


# ---- rollbacks ----


def migration_plan(output: str) -> list[tuple[str, str, bool]]:
    """(app, migration, applied) from `showmigrations --plan`, in plan order."""
    return [(app, name, mark == "X") for mark, app, name in PLAN_LINE.findall(output)]


def reversals(
    old: list[tuple[str, str, bool]], new: list[tuple[str, str, bool]]
) -> list[tuple[str, str, list[str]]]:
    """What to migrate back so the schema is the old release's: (app, target, migrations undone).

    A migration applied in the database that the old release does not ship is undone: its app
    goes back to the last migration the old release ships for it, or to `zero` when the old
    release has no such app. Latest first.
    """
    known = {(app, name) for app, name, _ in old}
    last_known: dict[str, str] = {}
    for app, name, _ in old:
        last_known[app] = name
    undo: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    for index, (app, name, applied) in enumerate(new):
        if applied and (app, name) not in known:
            undo.setdefault(app, []).append(f"{app}.{name}")
            first.setdefault(app, index)
    ordered = sorted(undo, key=first.__getitem__, reverse=True)
    return [(app, last_known.get(app, "zero"), undo[app]) for app in ordered]


def rollback(
    project: Path, environ: Mapping[str, str], out, *, target: str | None, current: str | None
) -> None:
    docker = Docker(project, environ, out)
    running = running_tag(project, environ)
    current = current or current_release(project)
    if not current:
        raise Refused("no release is recorded in var/deploy/releases; say which runs now with --from")
    target = target or previous_release(project)
    if not target:
        raise Refused(f"no release before {current} is recorded; say which with --to")
    check_tag(target, running)
    if target == current:
        raise Refused(f"release {target} is the one running")

    # Rollback never builds: the old release's own images, or nothing.
    absent = missing_images(docker, IMAGES, target) + missing_images(docker, DJANGO_SERVICES, current)
    if absent:
        raise Refused(
            "rollback never builds, and these images are not on this host: "
            + ", ".join(absent)
            + ". Build them from that release's own checkout (tagged with its version), "
            "or `docker load` them."
        )
    write_secrets(project, environ, out)

    print(f"== what release {target} lacks of release {current}'s migrations", file=out)
    undo: list[tuple[str, str, str, list[str]]] = []
    for service in DJANGO_SERVICES:
        plans = {}
        for version in (target, current):
            result = docker.compose(
                "run", "--rm", "--no-deps", "-T", f"{service}-migrate",
                "python", "manage.py", "showmigrations", "--plan",
                version=version, quiet=True,
            )  # fmt: skip
            if not result.ok:
                raise Failed(
                    f"{service}: could not list the migrations with release {version}: "
                    f"{result.output.strip()}\nNothing was changed."
                )
            plans[version] = migration_plan(result.output)
        for app, to, migrations in reversals(plans[target], plans[current]):
            print(f"{service}: {app} back to {to} (undoes {', '.join(migrations)})", file=out)
            undo.append((service, app, to, migrations))
    if not undo:
        print("none: the schema stays as it is", file=out)

    # The old code first: it runs on the newer schema (the expand rule), and its migrate jobs
    # find nothing to apply. The newer code never meets the older schema.
    print(f"== serving release {target} (imagi-oasis/*:{running} -> {target})", file=out)
    point_running_tag(docker, target, running)
    record(project, "rollback", target)
    if not serve(docker, running):
        raise Failed(
            f"`docker compose up` did not finish healthy with release {target} (above); no migration was "
            "undone yet. `docker compose ps` shows which container."
        )

    for service, app, to, migrations in undo:
        print(
            f"== {service}: {app} back to {to}, with release {current}'s image (it has the files)", file=out
        )
        result = docker.compose(
            "run", "--rm", "--no-deps", "-T", f"{service}-migrate",
            "python", "manage.py", "migrate", app, to, "--no-input",
            version=current,
        )  # fmt: skip
        if not result.ok:
            raise Failed(
                f"release {target} serves, but undoing {service}'s {', '.join(migrations)} failed: "
                f"{failed_migration(result.output)}\nRelease {target} works on the newer schema; "
                "a migration that cannot be reversed needs the backup (docs/operations.md, Backups)."
            )
    print(f"release {target} serves, with its schema" + (" (migrations undone)" if undo else ""), file=out)


def adopt(project: Path, environ: Mapping[str, str], out, *, version: str) -> None:
    """Keep the images running now as release `version`, so a later release can roll back to them."""
    docker = Docker(project, environ, out)
    running = running_tag(project, environ)
    check_tag(version, running)
    absent = missing_images(docker, IMAGES, running)
    if absent:
        raise Refused("these images are not on this host: " + ", ".join(absent))
    for name in IMAGES:
        if not docker.docker("tag", image(name, running), image(name, version)).ok:
            raise Failed(f"could not tag {image(name, running)} as {image(name, version)}")
    record(project, "adopt", version)
    print(f"the images tagged {running} are release {version}", file=out)


def status(project: Path, environ: Mapping[str, str], out) -> None:
    print(f"compose runs imagi-oasis/*:{running_tag(project, environ)}", file=out)
    print(f"release serving: {current_release(project) or 'none recorded'}", file=out)
    print(f"rollback would go to: {previous_release(project) or 'none recorded'}", file=out)
    for action, version in history(project):
        print(f"  {action} {version}", file=out)


def main(argv: list[str] | None = None, *, environ: Mapping[str, str] | None = None, out=None) -> int:
    environ = dict(os.environ if environ is None else environ)
    out = out or sys.stdout
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--project-dir", type=Path, default=REPO, help="where docker-compose.yml and .env are"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("secrets", help="write var/deploy/secrets/ from .env")
    for name in ("build", "release"):
        command = commands.add_parser(name)
        command.add_argument(
            "--version", help="the release's tag (default: git describe --tags --always --dirty)"
        )
    commands.choices["release"].add_argument(
        "--no-build", action="store_true", help="release images already built with that tag"
    )
    back = commands.add_parser("rollback")
    back.add_argument("--to", help="the release to go back to (default: the one before the current)")
    back.add_argument("--from", dest="current", help="the release running now (default: var/deploy/releases)")
    commands.add_parser("restart").add_argument("services", nargs="+", metavar="SERVICE")
    commands.add_parser("adopt").add_argument("--version", required=True)
    commands.add_parser("status")
    args = parser.parse_args(argv)
    project = args.project_dir.resolve()
    try:
        if args.command == "secrets":
            write_secrets(project, environ, out)
        elif args.command == "build":
            version = args.version or git_describe(project)
            check_tag(version, running_tag(project, environ))
            build(Docker(project, environ, out), version)
        elif args.command == "release":
            release(project, environ, out, version=args.version, build_images=not args.no_build)
        elif args.command == "rollback":
            rollback(project, environ, out, target=args.to, current=args.current)
        elif args.command == "restart":
            restart(project, environ, out, services=args.services)
        elif args.command == "adopt":
            adopt(project, environ, out, version=args.version)
        else:
            status(project, environ, out)
    except Refused as exc:
        print(f"release.py: refused: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        print(f"release.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
