"""scripts/release.py against a fake `docker`: the order of what a release and a rollback run.

The fake records every call (its arguments and the OASIS_VERSION it was given) and answers as
Docker would: images exist once built or tagged, `migrate` fails where a test says so,
`showmigrations --plan` prints what a test gives. The live counterpart, against a real engine,
is test_release_day_live.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from . import compose_rules as rules
from .conftest import COMPOSE_FILE, ENV_EXAMPLE
from .tools import REPO

SCRIPT = REPO / "scripts" / "release.py"
BUILD_FILE = REPO / "docker-compose.build.yml"
release_script = rules.RELEASE
IMAGES = release_script.IMAGES
DJANGO = release_script.DJANGO_SERVICES

FAKE_DOCKER = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys

    state_path = os.environ["FAKE_DOCKER_STATE"]
    state = json.load(open(state_path))
    args = sys.argv[1:]
    version = os.environ.get("OASIS_VERSION")
    with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
        log.write(json.dumps({{"args": args, "version": version}}) + "\\n")

    def save():
        json.dump(state, open(state_path, "w"))

    def done(code=0, output=""):
        sys.stdout.write(output)
        sys.exit(code)

    ids = state.setdefault("ids", {{}})  # image name -> image id; an image is its own id until tagged
    containers = state.setdefault("containers", {{}})  # service -> running container ids
    if args[:2] == ["image", "inspect"]:
        name = args[-1]
        if name not in state["images"]:
            done(1, "No such image")
        done(0, ids.get(name, name) + "\\n" if "--format" in args else "")
    if args[0] == "tag":
        if args[1] not in state["images"]:
            done(1, "No such image")
        state["images"].append(args[2])
        ids[args[2]] = ids.get(args[1], args[1])
        save()
        done()
    if args[0] == "inspect":
        done(0, "".join(state["container_images"][c] + "\\n" for c in args[3:]))
    if args[0] in ("stop", "rm"):
        gone = [a for a in args[1:] if not a.startswith("-")]
        for service in containers:
            containers[service] = [c for c in containers[service] if c not in gone]
        save()
        done()
    assert args[0] == "compose", args
    rest = args[1:]
    while rest and rest[0] in ("--project-directory", "-f"):
        rest = rest[2:]
    command, rest = rest[0], rest[1:]
    if command == "build":
        state["images"] += ["imagi-oasis/%s:%s" % (name, version) for name in state["image_names"]]
        save()
        done(state.get("build_rc", 0))
    if command == "up":
        if "--scale" in rest:
            service, count = rest[rest.index("--scale") + 1].split("=")
            running = containers.setdefault(service, [])
            tag = "imagi-oasis/%s:%s" % (service, version or "dev")
            while len(running) < int(count):
                running.append("%s-%d" % (service, len(running) + 1))
                state["container_images"][running[-1]] = ids.get(tag, tag)
            save()
            done(state.get("scale_rc", 0))
        done(state.get("up_rc", 0))
    if command == "ps" and "--quiet" in rest:
        done(0, "".join(c + "\\n" for c in containers.get(rest[-1], [])))
    if command == "ps":
        done(0, "".join(name + "\\n" for name in state.get("running", [])))
    if command == "config":
        done(0, "".join(name + "\\n" for name in state["services"]))
    if command == "run":
        service = next(a for a in rest if not a.startswith("-"))
        extra = rest[rest.index(service) + 1:]
        key = "%s@%s" % (service.removesuffix("-migrate"), version)
        if "showmigrations" in extra:
            done(0, state["plans"].get(key, ""))
        if "migrate" in extra:
            done(state.get("reverse_rc", 0), "  Unapplying %s... OK\\n" % extra[3])
        answer = state["migrate"].get(key, {{"rc": 0, "output": "No migrations to apply.\\n"}})
        done(answer["rc"], answer["output"])
    done(1, "the fake docker does not know: %s" % args)
    """
)


class Fake:
    """A project directory, a fake docker on PATH, and what it was asked."""

    def __init__(self, tmp_path: Path):
        self.project = tmp_path / "project"
        self.project.mkdir()
        shutil.copy(COMPOSE_FILE, self.project / "docker-compose.yml")
        shutil.copy(BUILD_FILE, self.project / "docker-compose.build.yml")
        values = rules.env_example_values(ENV_EXAMPLE.read_text())
        lines = [f"{n}={v or ('x' * 16 if rules.SECRET_NAME.search(n) else '')}" for n, v in values.items()]
        (self.project / ".env").write_text("\n".join(lines) + "\n")
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        docker = bin_dir / "docker"
        docker.write_text(FAKE_DOCKER.format(python=sys.executable))
        docker.chmod(0o755)
        self.state_path = tmp_path / "state.json"
        self.log_path = tmp_path / "calls.jsonl"
        services = list(rules.load(COMPOSE_FILE)["services"])
        self.state = {
            "images": [],
            "image_names": list(IMAGES),
            "migrate": {},
            "plans": {},
            "services": services,
            "container_images": {},
        }
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_DOCKER_STATE": str(self.state_path),
            "FAKE_DOCKER_LOG": str(self.log_path),
            # No gateway to wait for (test_gateway_config checks the default outlasts its lookups).
            "OASIS_RELEASE_OVERLAP_SECONDS": "0",
        }

    def have_images(self, tag: str) -> None:
        self.state["images"] += [f"imagi-oasis/{name}:{tag}" for name in IMAGES]

    def history(self, *entries: tuple[str, str]) -> None:
        path = self.project / "var" / "deploy" / "releases"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"2026-12-01T00:00:00Z\t{a}\t{v}\n" for a, v in entries))

    def run(self, *args: str) -> subprocess.CompletedProcess:
        self.state_path.write_text(json.dumps(self.state))
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--project-dir", str(self.project), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def state_after(self) -> dict:
        return json.loads(self.state_path.read_text())

    def calls(self) -> list[str]:
        """Each docker call, short: `compose <command> <args> @<OASIS_VERSION>`, `tag a b`."""
        if not self.log_path.exists():
            return []
        found = []
        for line in self.log_path.read_text().splitlines():
            call = json.loads(line)
            args = call["args"]
            if args[0] == "compose":
                rest, files = args[1:], []
                while rest and rest[0] in ("--project-directory", "-f"):
                    if rest[0] == "-f":
                        files.append(Path(rest[1]).name)
                    rest = rest[2:]
                build = " [build file]" if "docker-compose.build.yml" in files else ""
                found.append(f"compose {' '.join(rest)}{build} @{call['version']}")
            else:
                found.append(" ".join(args))
        return found


@pytest.fixture
def fake(tmp_path) -> Fake:
    return Fake(tmp_path)


def migrate_runs(version: str) -> list[str]:
    return [f"compose run --rm --no-deps -T {service}-migrate @{version}" for service in DJANGO]


DATABASES_UP = (
    "compose up --detach --no-build --wait auth-db projects-db payments-db builder-db sites-db @None"
)
SERVE = "compose up --detach --no-build --wait @None"
RUNNING = "compose ps --status running --services @None"
# On a running stack: each routed web service's containers are looked at (none here), then the
# long-running services first, without re-running the migrate jobs.
SERVE_RUNNING = [
    RUNNING,
    *[f"compose ps --quiet {service} @None" for service in release_script.START_FIRST],
    "compose config --services @None",
    "compose up --detach --no-build --no-deps --wait "
    + " ".join(name for name in rules.load(COMPOSE_FILE)["services"] if not name.endswith("-migrate"))
    + " @None",
    SERVE,
]


def test_the_script_knows_the_images_and_services_docker_compose_yml_has():
    compose = rules.load(COMPOSE_FILE)["services"]
    ours = {rules._image_service(service) for service in compose.values()} - {""}
    assert ours == set(IMAGES)
    for service in DJANGO:
        assert f"{service}-migrate" in compose
        assert f"{service}-db" in compose


def test_the_build_file_builds_each_image_once_and_compose_alone_builds_none():
    compose = rules.load(COMPOSE_FILE)
    assert rules.build_file_problems(rules.load(BUILD_FILE), compose) == []
    assert rules.image_build_problems(compose) == []


def test_the_build_file_rules_report_a_planted_mistake():
    compose = rules.load(COMPOSE_FILE)
    build = rules.load(BUILD_FILE)
    del build["services"]["gateway"]
    build["services"]["sites"]["build"]["dockerfile"] = "services/projects/Dockerfile"
    build["services"]["auth"]["environment"] = {"X": "1"}
    found = rules.build_file_problems(build, compose)
    assert "the image gateway is never built by docker-compose.build.yml" in found
    assert "sites: the image sites is built from services/projects/Dockerfile" in found
    assert "auth: docker-compose.build.yml may only add build:, not environment" in found


def test_a_first_release_starts_everything_in_compose_order(fake):
    done = fake.run("release", "--version", "1.0.0")

    assert done.returncode == 0, done.stderr
    assert fake.calls() == [
        "compose build [build file] @1.0.0",
        *[f"image inspect imagi-oasis/{name}:1.0.0" for name in IMAGES],
        DATABASES_UP,
        *migrate_runs("1.0.0"),
        *[f"tag imagi-oasis/{name}:1.0.0 imagi-oasis/{name}:dev" for name in IMAGES],
        RUNNING,
        SERVE,
    ]


def test_a_release_migrates_with_the_new_images_before_anything_is_restarted(fake):
    fake.have_images("1.0.0")
    fake.history(("release", "1.0.0"))
    fake.state["running"] = ["gateway", "projects"]

    done = fake.run("release", "--version", "1.1.0")

    assert done.returncode == 0, done.stderr
    assert fake.calls() == [
        "compose build [build file] @1.1.0",
        *[f"image inspect imagi-oasis/{name}:1.1.0" for name in IMAGES],
        DATABASES_UP,
        *migrate_runs("1.1.0"),
        *[f"tag imagi-oasis/{name}:1.1.0 imagi-oasis/{name}:dev" for name in IMAGES],
        *SERVE_RUNNING,
    ]
    assert "release 1.1.0 serves (previous: 1.0.0)" in done.stdout
    assert release_script.history(fake.project)[-1] == ("release", "1.1.0")
    assert (fake.project / "var" / "deploy" / "secrets" / "auth-database-url").exists()


DJANGO_MIGRATE_FAILURE = """\
Operations to perform:
  Apply all migrations: admin, auth, contenttypes, files, projects, sessions
Running migrations:
  Applying projects.0007_project_summary... OK
  Applying files.0004_file_checksum...Traceback (most recent call last):
  File "/app/manage.py", line 22, in <module>
    main()
django.db.utils.IntegrityError: column "checksum" of relation "files_file" contains null values
"""


def test_a_failed_migration_restarts_nothing_and_names_the_migration(fake):
    fake.have_images("1.0.0")
    fake.history(("release", "1.0.0"))
    fake.state["migrate"]["projects@1.1.0"] = {"rc": 1, "output": DJANGO_MIGRATE_FAILURE}

    done = fake.run("release", "--version", "1.1.0")

    assert done.returncode == 1
    assert "projects: migration files.0004_file_checksum failed" in done.stderr
    assert 'column "checksum" of relation "files_file" contains null values' in done.stderr
    assert "Nothing was restarted: release 1.0.0 keeps serving" in done.stderr
    assert "The migrations of auth were applied" in done.stderr
    calls = fake.calls()
    assert calls[-1] == "compose run --rm --no-deps -T projects-migrate @1.1.0"
    # The running tag still names 1.0.0's images, and no `up` recreated anything.
    assert not [call for call in calls if call.startswith("tag ")]
    assert not [call for call in calls if call.startswith("compose up --detach --no-build --no-deps")]
    assert SERVE not in calls
    assert release_script.current_release(fake.project) == "1.0.0"


def test_a_release_is_refused_the_tag_compose_runs(fake):
    done = fake.run("release", "--version", "dev")

    assert done.returncode == 2
    assert "that is the tag compose runs" in done.stderr
    assert fake.calls() == []


def test_a_release_name_is_never_reused_for_new_code(fake):
    fake.history(("release", "1.0.0"))

    done = fake.run("release", "--version", "1.0.0")

    assert done.returncode == 2
    assert "release 1.0.0 was made before" in done.stderr
    assert fake.calls() == []


def test_a_release_is_named_by_git_describe_by_default(fake):
    git = ["git", "-C", str(fake.project), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "docker-compose.yml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    subprocess.run([*git, "tag", "v2.3.0"], check=True)

    done = fake.run("build")

    assert done.returncode == 0, done.stderr
    assert fake.calls() == ["compose build [build file] @v2.3.0"]


PLAN_1_0 = """\
[X]  contenttypes.0001_initial
[X]  projects.0001_initial
[X]  files.0001_initial
[X]  files.0002_file_size
"""
PLAN_1_1 = (
    PLAN_1_0
    + """\
[X]  files.0003_file_checksum
[X]  projects.0002_project_summary
[X]  exports.0001_initial
"""
)


def test_a_rollback_serves_the_old_images_then_undoes_the_newer_migrations_with_the_newer_image(fake):
    fake.have_images("1.0.0")
    fake.have_images("1.1.0")
    fake.history(("release", "1.0.0"), ("release", "1.1.0"))
    for service in DJANGO:
        fake.state["plans"][f"{service}@1.0.0"] = "[X]  contenttypes.0001_initial\n"
        fake.state["plans"][f"{service}@1.1.0"] = "[X]  contenttypes.0001_initial\n"
    fake.state["plans"]["projects@1.0.0"] = PLAN_1_0
    fake.state["plans"]["projects@1.1.0"] = PLAN_1_1
    fake.state["running"] = ["gateway", "projects"]

    done = fake.run("rollback")

    assert done.returncode == 0, done.stderr
    calls = fake.calls()
    show = "python manage.py showmigrations --plan"
    assert calls == [
        *[f"image inspect imagi-oasis/{name}:1.0.0" for name in IMAGES],
        *[f"image inspect imagi-oasis/{name}:1.1.0" for name in DJANGO],
        *[
            f"compose run --rm --no-deps -T {service}-migrate {show} @{version}"
            for service in DJANGO
            for version in ("1.0.0", "1.1.0")
        ],
        *[f"tag imagi-oasis/{name}:1.0.0 imagi-oasis/{name}:dev" for name in IMAGES],
        *SERVE_RUNNING,
        # Latest first, each with the image that has the migration files: 1.1.0's.
        "compose run --rm --no-deps -T projects-migrate python manage.py migrate exports zero"
        " --no-input @1.1.0",
        "compose run --rm --no-deps -T projects-migrate python manage.py migrate projects 0001_initial "
        "--no-input @1.1.0",
        "compose run --rm --no-deps -T projects-migrate python manage.py migrate files 0002_file_size "
        "--no-input @1.1.0",
    ]
    assert not [
        call for call in calls if "compose build" in call or "build file" in call or "--build" in call
    ]
    assert "projects: files back to 0002_file_size (undoes files.0003_file_checksum)" in done.stdout
    assert release_script.current_release(fake.project) == "1.0.0"


def test_a_rollback_never_builds_an_old_release_it_does_not_have(fake):
    fake.have_images("1.1.0")
    fake.state["images"].remove("imagi-oasis/gateway:1.1.0")
    fake.state["images"] += ["imagi-oasis/auth:1.0.0"]
    fake.history(("release", "1.0.0"), ("release", "1.1.0"))

    done = fake.run("rollback")

    assert done.returncode == 2
    assert "rollback never builds" in done.stderr
    assert "imagi-oasis/projects:1.0.0" in done.stderr
    assert "imagi-oasis/auth:1.0.0," not in done.stderr
    assert all(call.startswith("image inspect") for call in fake.calls())


def test_a_rollback_whose_reversal_fails_says_the_old_release_serves_on_the_newer_schema(fake):
    fake.have_images("1.0.0")
    fake.have_images("1.1.0")
    fake.history(("release", "1.0.0"), ("release", "1.1.0"))
    fake.state["plans"]["projects@1.0.0"] = PLAN_1_0
    fake.state["plans"]["projects@1.1.0"] = PLAN_1_1
    fake.state["reverse_rc"] = 1

    done = fake.run("rollback", "--to", "1.0.0")

    assert done.returncode == 1
    assert "release 1.0.0 serves, but undoing projects's exports.exports.0001_initial" not in done.stderr
    assert "undoing projects's exports.0001_initial failed" in done.stderr
    assert "Release 1.0.0 works on the newer schema" in done.stderr


def test_reversals_go_back_to_the_last_migration_the_old_release_ships():
    old = release_script.migration_plan(PLAN_1_0)
    new = release_script.migration_plan(PLAN_1_1.replace("[X]  exports", "[ ]  exports"))

    assert release_script.reversals(old, new) == [
        ("projects", "0001_initial", ["projects.0002_project_summary"]),
        ("files", "0002_file_size", ["files.0003_file_checksum"]),
    ]
    assert release_script.reversals(old, old) == []


def test_adopting_the_running_images_makes_them_a_release_to_roll_back_to(fake):
    fake.have_images("dev")

    done = fake.run("adopt", "--version", "1.0.0")

    assert done.returncode == 0, done.stderr
    assert [c for c in fake.calls() if c.startswith("tag")] == [
        f"tag imagi-oasis/{name}:dev imagi-oasis/{name}:1.0.0" for name in IMAGES
    ]
    fake.history(("adopt", "1.0.0"), ("release", "1.1.0"))
    assert release_script.previous_release(fake.project) == "1.0.0"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([("release", "1.0"), ("release", "1.1")], "1.0"),
        ([("release", "1.0"), ("release", "1.1"), ("rollback", "1.0")], None),
        ([("release", "1.0"), ("release", "1.1"), ("rollback", "1.0"), ("release", "1.2")], "1.0"),
        ([("release", "1.0"), ("release", "1.1"), ("release", "1.2"), ("rollback", "1.1")], "1.0"),
        ([("adopt", "1.0"), ("release", "1.1")], "1.0"),
        ([("rollback", "1.0")], None),
    ],
    ids=["after a release", "after a rollback", "a release after a rollback", "a rollback to the middle",
         "after an adoption", "nothing released here"],
)  # fmt: skip
def test_a_rollback_goes_to_what_served_before_the_current_release(fake, entries, expected):
    fake.history(*entries)

    assert release_script.previous_release(fake.project) == expected


def test_the_makefile_runs_the_script():
    makefile = (REPO / "Makefile").read_text()
    assert "scripts/release.py release" in makefile
    assert "scripts/release.py rollback" in makefile


# ---- start-first replacement of the web services the gateway routes to ----


def start_first(service: str, old: list[str], new: list[str]) -> list[str]:
    return [
        f"compose ps --quiet {service} @None",
        f"compose up --detach --no-build --no-deps --no-recreate --scale {service}={2 * len(old)} "
        f"--wait {service} @None",
        f"compose ps --all --quiet {service} @None",
        f"stop {' '.join(old)}",
        f"rm {' '.join(old)}",
    ]


def running_release(fake: Fake, version: str, containers: dict[str, list[str]]) -> None:
    """A stack serving `version`, with these containers, tagged as the running tag (dev)."""
    fake.have_images(version)
    fake.history(("release", version))
    fake.state["running"] = list(containers)
    fake.state["containers"] = containers
    fake.state["container_images"] = {
        c: f"imagi-oasis/{service}:{version}" for service, ids in containers.items() for c in ids
    }


def test_a_release_replaces_a_changed_web_service_start_first_and_leaves_the_others(fake):
    running_release(fake, "1.0.0", {"auth": ["auth-1"], "projects": ["projects-1"], "gateway": ["gw-1"]})
    fake.have_images("1.1.0")
    # Only projects' image differs in 1.1.0; auth's and the gateway's were built from the same files.
    fake.state["ids"] = {
        "imagi-oasis/auth:1.1.0": "imagi-oasis/auth:1.0.0",
        "imagi-oasis/gateway:1.1.0": "imagi-oasis/gateway:1.0.0",
    }

    done = fake.run("release", "--no-build", "--version", "1.1.0")

    assert done.returncode == 0, done.stdout + done.stderr
    calls = fake.calls()
    served = calls[calls.index(RUNNING) :]
    assert served == [
        RUNNING,
        "compose ps --quiet auth @None",
        "image inspect --format {{.Id}} imagi-oasis/auth:dev",
        "inspect --format {{.Image}} auth-1",
        "compose ps --quiet projects @None",
        "image inspect --format {{.Id}} imagi-oasis/projects:dev",
        "inspect --format {{.Image}} projects-1",
        *start_first("projects", ["projects-1"], ["projects-2"]),
        *[f"compose ps --quiet {service} @None" for service in ("payments", "builder", "sites")],
        "compose ps --quiet gateway @None",
        "image inspect --format {{.Id}} imagi-oasis/gateway:dev",
        "inspect --format {{.Image}} gw-1",
        *SERVE_RUNNING[-3:],
    ]
    assert fake.state_after()["containers"]["projects"] == ["projects-2"]
    assert fake.state_after()["container_images"]["projects-2"] == "imagi-oasis/projects:1.1.0"
    assert fake.state_after()["containers"]["auth"] == ["auth-1"]


def test_new_containers_that_never_become_healthy_are_removed_and_the_old_ones_keep_serving(fake):
    running_release(fake, "1.0.0", {"projects": ["projects-1"]})
    fake.have_images("1.1.0")
    fake.state["scale_rc"] = 1

    done = fake.run("release", "--no-build", "--version", "1.1.0")

    assert done.returncode == 1
    assert "projects: the new container(s) did not become healthy; the old ones serve" in done.stdout
    assert "rm --force projects-2" in fake.calls()
    assert not [c for c in fake.calls() if c.startswith("stop")]
    assert fake.state_after()["containers"]["projects"] == ["projects-1"]
    assert "rollback` returns to 1.0.0" in done.stderr


def test_a_rollback_replaces_the_web_services_start_first_too(fake):
    running_release(fake, "1.1.0", {"projects": ["projects-1"]})
    fake.have_images("1.0.0")
    fake.history(("release", "1.0.0"), ("release", "1.1.0"))

    done = fake.run("rollback")

    assert done.returncode == 0, done.stdout + done.stderr
    assert_in_order(fake.calls(), start_first("projects", ["projects-1"], ["projects-2"]))
    assert fake.state_after()["container_images"]["projects-2"] == "imagi-oasis/projects:1.0.0"


def test_restart_replaces_web_services_start_first_and_recreates_the_others(fake):
    containers = {"payments": ["payments-1", "payments-2"], "builder-worker": ["w-1"], "gateway": ["gw-1"]}
    running_release(fake, "1.0.0", containers)

    done = fake.run("restart", "payments", "builder-worker", "gateway")

    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.calls() == [
        "compose config --services @None",
        *start_first("payments", ["payments-1", "payments-2"], ["payments-3", "payments-4"]),
        "compose up --detach --no-build --no-deps --force-recreate --wait builder-worker @None",
        *start_first("gateway", ["gw-1"], ["gateway-2"]),
    ]
    assert fake.state_after()["containers"]["payments"] == ["payments-3", "payments-4"]
    assert "payments: restarted" in done.stdout
    assert (fake.project / "var" / "deploy" / "secrets" / "auth-database-url").exists()


def test_restart_refuses_a_service_compose_does_not_have(fake):
    done = fake.run("restart", "projects", "billing")

    assert done.returncode == 2
    assert "no such service in docker-compose.yml: billing" in done.stderr
    assert fake.calls() == ["compose config --services @None"]


def assert_in_order(calls: list[str], expected: list[str]) -> None:
    """`expected` appears in `calls` as one run (found by its second call: the first is a `ps`)."""
    start = calls.index(expected[1]) - 1
    assert calls[start : start + len(expected)] == expected, calls


def test_an_overlap_that_is_not_a_number_is_refused_before_anything_starts(fake):
    running_release(fake, "1.0.0", {"projects": ["projects-1"]})
    fake.env["OASIS_RELEASE_OVERLAP_SECONDS"] = "three"

    done = fake.run("restart", "projects")

    assert done.returncode == 2
    assert "OASIS_RELEASE_OVERLAP_SECONDS must be a number of seconds, not 'three'" in done.stderr
    assert not [call for call in fake.calls() if call.startswith("compose up")]
