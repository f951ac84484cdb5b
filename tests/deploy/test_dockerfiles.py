"""Every image passes hadolint and our rules (multi-stage, pinned slim 3.11, non-root, HEALTHCHECK, COPYs)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from . import dockerfile_rules as rules
from .conftest import DJANGO_SERVICES, DOCKERFILES, GATEWAY_DOCKERFILE, SERVICE_DOCKERFILES
from .tools import CONTAINER_TMP, REPO, hadolint

sys.path.insert(0, str(REPO / "scripts"))

from platform_tools import WEB_APPLICATION


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep:
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_every_service_folder_has_a_dockerfile():
    services = {p.name for p in (REPO / "services").iterdir() if p.is_dir() and p.name != "common"}
    assert services <= set(SERVICE_DOCKERFILES), (
        f"services without an image: {services - set(SERVICE_DOCKERFILES)}"
    )
    missing = [str(path) for path in DOCKERFILES.values() if not path.exists()]
    assert missing == []


def test_hadolint_passes_every_dockerfile():
    result = hadolint(*DOCKERFILES.values())
    assert result.ok, result.output


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_follows_our_rules(name):
    assert rules.problems(DOCKERFILES[name], context=REPO) == []


@pytest.mark.parametrize("service", DJANGO_SERVICES)
def test_web_image_runs_gunicorn_with_the_shared_config_and_the_dev_application(service):
    command = " ".join(rules.final_command(SERVICE_DOCKERFILES[service]))
    application = " ".join(WEB_APPLICATION.get(service, ["config.wsgi"]))
    assert "exec gunicorn -c python:oasis_common.gunicorn_conf" in command
    assert command.endswith(application)


def test_builder_web_serves_asgi_with_uvicorn_workers():
    command = " ".join(rules.final_command(SERVICE_DOCKERFILES["builder"]))
    assert "-k uvicorn_worker.UvicornWorker config.asgi" in command


@pytest.mark.parametrize(
    ("name", "port"),
    [*((service, "8000") for service in DJANGO_SERVICES), ("demo_model", "8090"), ("gateway", "8080")],
)
def test_image_exposes_the_port_compose_and_kubernetes_use(name, port):
    final = rules.parse(DOCKERFILES[name].read_text())[-1]
    assert [i.arguments for i in final.all("EXPOSE")] == [port]
    assert f"127.0.0.1:{port}/healthz" in final.all("HEALTHCHECK")[-1].arguments


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_says_how_to_build_it_from_the_repository_root(name):
    relative = DOCKERFILES[name].relative_to(REPO).as_posix()
    assert re.search(rf"docker build -f {re.escape(relative)} .* \.$", DOCKERFILES[name].read_text(), re.M)


@pytest.mark.parametrize("service", DJANGO_SERVICES)
def test_service_image_starts_in_production_mode_writing_only_under_tmp(service):
    env = rules.final_env(SERVICE_DOCKERFILES[service])
    assert env["OASIS_ENVIRONMENT"] == "production"
    assert env["OASIS_VAR_DIR"].startswith(f"{CONTAINER_TMP}/")
    assert env["OASIS_STATIC_ROOT"] == "/app/static"
    build = rules.parse(SERVICE_DOCKERFILES[service].read_text())[0]
    assert any("collectstatic" in run.arguments for run in build.all("RUN"))


def test_gateway_image_renders_the_shared_template_at_start():
    command = " ".join(rules.final_command(GATEWAY_DOCKERFILE))
    assert "python gateway/render.py" in command
    assert 'exec nginx -e stderr -p "$OASIS_GATEWAY_RUNTIME_DIR"' in command
    env = rules.final_env(GATEWAY_DOCKERFILE)
    assert env["OASIS_GATEWAY_RUNTIME_DIR"].startswith(f"{CONTAINER_TMP}/")
    assert int(env["OASIS_GATEWAY_LISTEN"]) >= 1024, "a non-root nginx needs a high port"


def test_gateway_image_pins_what_constraints_txt_pins():
    pins = constraint_pins()
    text = GATEWAY_DOCKERFILE.read_text()
    pinned = dict(re.findall(r"([A-Za-z][\w.-]*)==([\w.]+)", text))
    assert pinned, "the gateway image installs no pinned packages"
    for name, version in pinned.items():
        assert pins.get(name.lower().replace("_", "-")) == version, (
            f"{name}=={version} disagrees with constraints.txt"
        )


# ---- each rule fails on a planted mistake ----

AUTH = SERVICE_DOCKERFILES["auth"]


def _without_healthcheck(text: str) -> str:
    return re.sub(r"HEALTHCHECK .*?\n    CMD .*?\n", "", text, flags=re.S)


def _before_user(line: str):
    return lambda text: text.replace("USER 10001:10001", f"{line}\nUSER 10001:10001")


PLANTED = {
    "runs as root": (lambda t: t.replace("USER 10001:10001", "USER root"), "runs as root"),
    "no USER at all": (lambda t: t.replace("USER 10001:10001\n", ""), "never sets USER"),
    "a user name, not a uid": (lambda t: t.replace("USER 10001:10001", "USER oasis"), "is a name"),
    "one stage": (lambda t: t[t.rindex("FROM ") :], "not multi-stage"),
    "unpinned base": (
        lambda t: t.replace("python:3.11.14-slim-bookworm", "python:3.11-slim"),
        "not a pinned",
    ),
    "full (not slim) base": (
        lambda t: t.replace("python:3.11.14-slim-bookworm", "python:3.11.14-bookworm"),
        "not a pinned slim",
    ),
    "another Python": (
        lambda t: t.replace("python:3.11.14-slim-bookworm", "python:3.12.7-slim-bookworm"),
        "not a pinned slim Python 3.11",
    ),
    "no HEALTHCHECK": (_without_healthcheck, "no HEALTHCHECK"),
    "pip in the final stage": (
        _before_user("RUN pip install --no-cache-dir gunicorn==27.0.1"),
        "builds or installs Python packages",
    ),
    "compiler in the final stage": (
        _before_user("RUN apt-get install -y --no-install-recommends gcc=4:12.2.0-3"),
        "builds or installs",
    ),
    "copies an excluded path": (
        lambda t: t.replace("COPY constraints.txt ./", "COPY constraints.txt ./\nCOPY tests/ tests/"),
        "excluded by .dockerignore",
    ),
    "copies a missing path": (
        lambda t: t.replace(
            "COPY constraints.txt ./", "COPY constraints.txt ./\nCOPY services/auth/nope.txt ./"
        ),
        "no such path",
    ),
    "metrics outside /tmp": (
        lambda t: t.replace(f"{CONTAINER_TMP}/prometheus", "/app/prometheus"),
        "is outside",
    ),
    "shell-form CMD": (lambda t: re.sub(r"^CMD .*$", "CMD gunicorn config.wsgi", t, flags=re.M), "JSON"),
    "bytecode writes at run time": (
        lambda t: t.replace("PYTHONDONTWRITEBYTECODE=1 \\\n    PYTHONUNBUFFERED=1", "PYTHONUNBUFFERED=1"),
        "PYTHONDONTWRITEBYTECODE",
    ),
}


@pytest.mark.parametrize("mistake", sorted(PLANTED))
def test_our_rules_report_a_planted_mistake(mistake, tmp_path: Path):
    change, expected = PLANTED[mistake]
    original = AUTH.read_text()
    planted = change(original)
    assert planted != original, "the plant changed nothing"
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(planted)
    found = rules.problems(dockerfile, context=REPO)
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda t: t.replace("FROM python:3.11.14-slim-bookworm AS build", "FROM python:latest AS build"),
            "DL3007",
        ),
        (_before_user("RUN pip install flask"), "DL3013"),
        (lambda t: re.sub(r"^CMD .*$", "CMD gunicorn config.wsgi", t, flags=re.M), "DL3025"),
        (lambda t: t.replace("WORKDIR /app\nCOPY services", "RUN cd /app\nCOPY services"), "DL3003"),
    ],
    ids=["latest tag", "unpinned pip", "shell-form CMD", "cd instead of WORKDIR"],
)
def test_hadolint_reports_a_planted_mistake(change, code, tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    planted = change(AUTH.read_text())
    assert planted != AUTH.read_text()
    dockerfile.write_text(planted)
    result = hadolint(dockerfile)
    assert not result.ok
    assert code in result.output


def test_dockerignore_keeps_local_state_and_tests_out_of_the_context():
    patterns = rules.dockerignore_patterns((REPO / ".dockerignore").read_text())
    for path in (
        ".venv/bin/python",
        "var/keys/jwt-signing.pem",
        ".env",
        "services/auth/tests/test_x.py",
        ".git/HEAD",
    ):
        assert rules.is_ignored(path, patterns), path
    for path in ("services/auth/manage.py", "services/common/oasis_common/env.py", "gateway/render.py"):
        assert not rules.is_ignored(path, patterns), path


def test_dockerignore_sends_the_studio_sources_but_not_a_local_build():
    patterns = rules.dockerignore_patterns((REPO / ".dockerignore").read_text())
    for path in ("web/node_modules/vite/package.json", "web/dist/index.html", "web/dist/assets/x.js"):
        assert rules.is_ignored(path, patterns), path
    for path in ("web/package.json", "web/package-lock.json", "web/src/main.tsx", "web/index.html"):
        assert not rules.is_ignored(path, patterns), path


# ---- the gateway image builds the studio and serves it at /studio/ ----


def test_gateway_image_builds_the_studio_from_the_lockfile_and_serves_it():
    assert rules.studio_problems(GATEWAY_DOCKERFILE) == []


def test_gateway_image_serves_the_studio_where_the_rendered_config_looks():
    """The final stage's site root is the one render.py writes into `root` for /studio/."""
    sys.path.insert(0, str(REPO / "gateway"))
    import render

    site_root = rules.final_env(GATEWAY_DOCKERFILE)["OASIS_GATEWAY_SITE_ROOT"]
    config = render.GatewayConfig.from_env(
        {"OASIS_GATEWAY_RUNTIME_DIR": f"{CONTAINER_TMP}/gateway", "OASIS_GATEWAY_SITE_ROOT": site_root}
    )
    text = render.render(config)
    studio = text[text.index("location ^~ /studio/ {") :]
    assert f"root {site_root};" in studio[: studio.index("}")]


GATEWAY_PLANTED = {
    "no studio stage": (
        lambda t: re.sub(r"# ---- studio:.*?(?=# ---- build:)", "", t, flags=re.S),
        "no build stage builds the studio",
    ),
    "unpinned node": (
        lambda t: t.replace("node:20.19.5-bookworm-slim", "node:20-bookworm-slim"),
        "not a pinned slim Node 20",
    ),
    "full (not slim) node": (
        lambda t: t.replace("node:20.19.5-bookworm-slim", "node:20.19.5-bookworm"),
        "not a pinned slim Node 20",
    ),
    "npm install, not npm ci": (
        lambda t: t.replace("RUN npm ci --no-audit --no-fund", "RUN npm install --no-audit --no-fund"),
        "npm install",
    ),
    "no lockfile": (
        lambda t: t.replace(
            "COPY web/package.json web/package-lock.json ./", "COPY web/package.json ./"
        ).replace("COPY web/ ./", "COPY web/src/ ./src/"),
        "without copying web/package-lock.json",
    ),
    "no production build": (lambda t: t.replace("RUN npm run build\n", ""), "npm run build"),
    "build never copied": (
        lambda t: t.replace("COPY --from=studio /srv/oasis/web/dist /srv/oasis/site/studio\n", ""),
        "never copies the studio's build",
    ),
    "copied beside the served path": (
        lambda t: t.replace(
            "/srv/oasis/web/dist /srv/oasis/site/studio", "/srv/oasis/web/dist /srv/oasis/studio"
        ),
        "where /studio/ is served",
    ),
    "site root moved away from the studio": (
        lambda t: t.replace("OASIS_GATEWAY_SITE_ROOT=/srv/oasis/site", "OASIS_GATEWAY_SITE_ROOT=/srv/www"),
        "where /studio/ is served",
    ),
    "the source tree, not the build": (
        lambda t: t.replace(
            "/srv/oasis/web/dist /srv/oasis/site/studio", "/srv/oasis/web /srv/oasis/site/studio"
        ),
        "where /studio/ is served",
    ),
}


@pytest.mark.parametrize("mistake", sorted(GATEWAY_PLANTED))
def test_studio_rules_report_a_planted_mistake(mistake, tmp_path: Path):
    change, expected = GATEWAY_PLANTED[mistake]
    original = GATEWAY_DOCKERFILE.read_text()
    planted = change(original)
    assert planted != original, "the plant changed nothing"
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(planted)
    found = rules.studio_problems(dockerfile)
    assert any(expected in problem for problem in found), found


def test_our_rules_take_a_pinned_node_build_stage_but_not_a_node_final_image(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(GATEWAY_DOCKERFILE.read_text())
    assert rules.problems(dockerfile, context=REPO) == []
    final = GATEWAY_DOCKERFILE.read_text().rsplit("FROM python:3.11.14-slim-bookworm\n", 1)
    dockerfile.write_text("FROM node:20.19.5-bookworm-slim\n".join(final))
    assert any("not a pinned slim Python 3.11" in p for p in rules.problems(dockerfile, context=REPO))
