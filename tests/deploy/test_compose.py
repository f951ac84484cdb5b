"""docker-compose.yml passes the Compose schema and our rules; each rule fails on a planted mistake."""

from __future__ import annotations

import copy
import secrets
import shutil
from pathlib import Path

import pytest
import yaml

from . import compose_rules as rules
from . import dockerfile_rules, tools
from .conftest import COMPOSE_FILE, DJANGO_SERVICES, ENV_EXAMPLE, GATEWAY_DOCKERFILE
from .tools import compose_command, compose_schema, run


@pytest.fixture(scope="module")
def compose() -> dict:
    return rules.load(COMPOSE_FILE)


def check(doc: dict, tmp_path: Path, *, env_example: str | None = None) -> list[str]:
    """Write `doc` to a scratch compose file and check that file, as the suite checks the real one."""
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return rules.problems(
        rules.load(path),
        env_example=ENV_EXAMPLE.read_text() if env_example is None else env_example,
        compose_text=path.read_text(),
    )


def test_compose_file_passes_the_compose_specification_schema():
    result = compose_schema(COMPOSE_FILE)
    assert result.ok, result.output


def filled_env(tmp_path: Path, *, leave_empty: tuple[str, ...] = ()) -> dict[str, str]:
    """.env.example with every secret given a value, as an operator fills it in; written to tmp_path."""
    values = rules.env_example_values(ENV_EXAMPLE.read_text())
    filled = {
        name: "" if name in leave_empty else value or secrets.token_hex(16)
        for name, value in values.items()
        if value or rules.SECRET_NAME.search(name)
    }
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in filled.items()))
    return filled


def test_docker_compose_accepts_the_file_with_its_settings_and_refuses_it_without(tmp_path):
    command, why_not = compose_command()
    if command is None:
        pytest.skip(f"{why_not}; the schema and our rules still checked the file")
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    (tmp_path / "var" / "deploy" / "jwt").mkdir(parents=True)
    filled_env(tmp_path)
    configured = run([*command, "--project-directory", str(tmp_path), "config", "--quiet"], cwd=tmp_path)
    assert configured.ok, configured.output
    (tmp_path / ".env").write_text("")
    refused = run([*command, "--project-directory", str(tmp_path), "config", "--quiet"], cwd=tmp_path)
    assert not refused.ok
    assert "in .env" in refused.output


def test_no_secret_value_reaches_the_containers_configuration(tmp_path):
    """What `docker compose config` renders is what `docker inspect` shows: paths, never values."""
    command, why_not = compose_command()
    if command is None:
        pytest.skip(f"{why_not}; our rules still refuse a secret passed as plain environment")
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    (tmp_path / "var" / "deploy" / "jwt").mkdir(parents=True)
    filled = filled_env(tmp_path)
    assert rules.RELEASE.main(["--project-dir", str(tmp_path), "secrets"], environ={}) == 0
    rendered = run([*command, "--project-directory", str(tmp_path), "config"], cwd=tmp_path)
    assert rendered.ok, rendered.output
    secret_values = {v for name, v in filled.items() if name in rules.RELEASE.ENV_VARIABLES and len(v) > 8}
    # 14 required (keys, passwords, client secrets), SMTP, Stripe's two, OpenAI's.
    assert len(secret_values) == 18
    assert [v for v in secret_values if v in rendered.output] == []
    assert "/run/secrets/projects-database-url" in rendered.output


def test_the_secrets_come_from_env_into_one_file_each_that_compose_mounts(compose, tmp_path):
    filled = filled_env(tmp_path, leave_empty=("OPENAI_API_KEY",))
    assert rules.RELEASE.main(["--project-dir", str(tmp_path), "secrets"], environ={}) == 0
    directory = tmp_path / "var" / "deploy" / "secrets"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in directory.iterdir()) == sorted(compose["secrets"])
    for name, definition in compose["secrets"].items():
        assert definition == {"file": f"./var/deploy/secrets/{name}"}
    assert (directory / "projects-database-url").read_text() == (
        f"postgres://projects:{filled['PROJECTS_DB_PASSWORD']}@projects-db:5432/projects"
    )
    assert (directory / "projects-db-password").read_text() == filled["PROJECTS_DB_PASSWORD"]
    clients = (directory / "auth-service-clients").read_text()
    for peer in ("projects", "payments", "builder", "sites"):
        peer_secret = (directory / f"{peer}-service-client-secret").read_text()
        assert f"{peer}={peer_secret}" in clients.split(",")
        assert peer_secret == filled[f"{peer.upper()}_SERVICE_CLIENT_SECRET"]
    assert (directory / "payments-stripe-secret-key").read_text() == filled["STRIPE_SECRET_KEY"]
    # An optional one left empty is an empty file: the services read an empty value as unset.
    assert (directory / "builder-openai-api-key").read_text() == ""


def test_the_secrets_are_refused_until_env_gives_them(tmp_path, capsys):
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    assert rules.RELEASE.main(["--project-dir", str(tmp_path), "secrets"], environ={}) == 2
    refusal = capsys.readouterr().err
    assert "set AUTH_DJANGO_SECRET_KEY, AUTH_DB_PASSWORD" in refusal
    assert "STRIPE" not in refusal, "the Stripe keys are optional"
    assert not (tmp_path / "var").exists(), "nothing is written when one is missing"


def test_a_secret_file_already_there_is_kept_when_env_leaves_it_out(tmp_path):
    filled_env(tmp_path)
    assert rules.RELEASE.main(["--project-dir", str(tmp_path), "secrets"], environ={}) == 0
    key = tmp_path / "var" / "deploy" / "secrets" / "auth-django-secret-key"
    key.write_text("from-a-vault")
    text = (tmp_path / ".env").read_text()
    (tmp_path / ".env").write_text(
        "".join(line + "\n" for line in text.splitlines() if not line.startswith("AUTH_DJANGO_SECRET_KEY="))
    )
    assert rules.RELEASE.main(["--project-dir", str(tmp_path), "secrets"], environ={}) == 0
    assert key.read_text() == "from-a-vault"


def test_compose_file_follows_our_rules(compose):
    found = rules.problems(
        compose, env_example=ENV_EXAMPLE.read_text(), compose_text=COMPOSE_FILE.read_text()
    )
    assert found == []


def test_the_checked_copy_of_the_compose_file_is_clean_too(compose, tmp_path):
    # The planted-mistake tests below check a rewritten copy; it must start out clean.
    assert check(copy.deepcopy(compose), tmp_path) == []


@pytest.mark.parametrize("service", DJANGO_SERVICES)
def test_web_containers_run_the_image_command_and_answer_readiness(compose, service):
    web = compose["services"][service]
    assert "command" not in web, "the web process is the image's CMD (gunicorn)"
    assert "/readyz" in " ".join(web["healthcheck"]["test"])


def test_worker_and_stale_run_sweeper_share_the_builder_image(compose):
    services = compose["services"]
    assert services["builder-worker"]["image"] == services["builder"]["image"]
    assert services["builder-sweeper"]["image"] == services["builder"]["image"]
    assert services["builder-worker"]["command"] == ["python", "manage.py", "generation_worker"]


def test_the_auth_worker_sends_mail_from_the_auth_image_with_the_settings_of_auth(compose):
    services = compose["services"]
    worker, web = services["auth-worker"], services["auth"]
    assert worker["image"] == web["image"]
    assert worker["environment"] == web["environment"]
    assert worker["command"] == ["python", "manage.py", "db_worker", "--queue-name", "emails"]
    assert worker["healthcheck"]["test"] == ["CMD", "python", "manage.py", "email_queue_status"]
    assert set(worker["networks"]) == {"auth-data", "egress"}
    assert "egress" not in web["networks"]
    assert "volumes" not in worker, "the worker signs nothing: no JWT keys"


def test_builder_reaches_the_demo_model_without_an_openai_key(compose):
    env = compose["services"]["builder"]["environment"]
    assert env["OASIS_DEMO_MODEL_URL"] == "http://demo-model:8090/v1"
    assert env["OPENAI_API_KEY_FILE"] == "/run/secrets/builder-openai-api-key"
    assert "OPENAI_API_KEY" not in env


def test_the_gateway_is_published_on_this_host_only_unless_env_says_otherwise(compose):
    gateway = compose["services"][rules.PUBLISHER]
    assert compose["services"]["gateway"]["network_mode"] == f"service:{rules.PUBLISHER}"
    assert rules.published_addresses(gateway, {}) == [("127.0.0.1", "127.0.0.1:8080:8080")]
    example = rules.env_example_values(ENV_EXAMPLE.read_text())
    assert rules.published_addresses(gateway, example) == [("127.0.0.1", "127.0.0.1:8080:8080")]
    [(address, _)] = rules.published_addresses(gateway, {"OASIS_GATEWAY_PUBLISH": "0.0.0.0:8080"})
    assert rules.is_every_interface(address)


def test_each_gateway_checks_its_own_health_on_the_socket_its_config_listens_on(compose):
    # Two gateways share gateway-port's 8080 during a start-first replacement; the socket is in
    # the gateway's own runtime directory (the image's), where render.py puts `health.sock`.
    runtime = dockerfile_rules.final_env(GATEWAY_DOCKERFILE)["OASIS_GATEWAY_RUNTIME_DIR"]
    gateway = compose["services"]["gateway"]
    assert gateway["environment"]["OASIS_GATEWAY_REUSEPORT"] == "1"
    assert f"'{runtime}/health.sock'" in " ".join(gateway["healthcheck"]["test"])


def test_the_worker_is_healthy_while_its_claiming_loop_beats(compose):
    worker = compose["services"]["builder-worker"]
    assert worker["healthcheck"]["test"] == ["CMD", "python", "manage.py", "worker_alive"]


def test_auth_and_each_peer_read_the_client_secrets_from_their_own_files(compose):
    services = compose["services"]
    assert (
        services["auth"]["environment"]["OASIS_SERVICE_CLIENTS_FILE"] == "/run/secrets/auth-service-clients"
    )
    for peer in ("projects", "payments", "builder", "sites"):
        name = f"{peer}-service-client-secret"
        assert services[peer]["environment"]["OASIS_SERVICE_CLIENT_SECRET_FILE"] == f"/run/secrets/{name}"
        assert name in services[peer]["secrets"]


def test_the_gateway_serves_the_store_sites_writes_under_the_same_domain(compose):
    services = compose["services"]
    gateway, sites = services["gateway"]["environment"], services["sites"]["environment"]
    assert gateway["OASIS_SITES_UPSTREAM"] == "sites:8000"
    assert gateway["OASIS_SITES_STORE"] == sites["OASIS_SITES_STORE"]
    assert gateway["OASIS_SITES_DOMAIN"] == sites["OASIS_SITES_DOMAIN"]
    assert ("sites-store", gateway["OASIS_SITES_STORE"], True) in rules.volume_mounts(services["gateway"])
    for writer in ("sites", "sites-sweeper", "sites-pruner"):
        assert ("sites-store", sites["OASIS_SITES_STORE"], False) in rules.volume_mounts(services[writer])


def test_volume_mounts_read_both_syntaxes():
    service = {
        "volumes": [
            "data:/srv/data",
            "logs:/var/log:ro",
            {"type": "volume", "source": "store", "target": "/srv/sites", "read_only": True},
        ]
    }

    assert rules.volume_mounts(service) == [
        ("data", "/srv/data", False),
        ("logs", "/var/log", True),
        ("store", "/srv/sites", True),
    ]


# ---- each rule fails on a planted mistake ----


def _set(path: str, value):
    def plant(doc):
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node[last] = value

    return plant


def _delete(path: str):
    def plant(doc):
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        del node[last]

    return plant


PLANTED = {
    "a published database port": (_set("services.auth-db.ports", ["5432:5432"]), "auth-db publishes a port"),
    "a secret written into the file": (
        _set("services.auth.environment.DJANGO_SECRET_KEY", "c2VjcmV0LWtleS1mb3ItYXV0aC1vbmx5"),
        "DJANGO_SECRET_KEY is written into the compose file",
    ),
    "a default secret": (
        _set("services.auth-db.environment.POSTGRES_PASSWORD", "${AUTH_DB_PASSWORD:-changeme}"),
        "falls back to a default secret",
    ),
    "a password inside a URL": (
        _set(
            "services.projects.environment.DATABASE_URL",
            "postgres://projects:hunter2@projects-db:5432/projects",
        ),
        "password written into its URL",
    ),
    "a Stripe key anywhere": (
        _set(
            "services.payments-sweeper.command",
            ["python", "manage.py", "x", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
        ),
        "a secret is written into the compose file",
    ),
    "a private key inline": (
        _set("services.auth.environment.OASIS_JWT_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\nMIIEvQ"),
        "OASIS_JWT_SIGNING_KEY is written into the compose file",
    ),
    "a service without a health check": (
        _delete("services.projects.healthcheck"),
        "projects has no health check",
    ),
    "a disabled health check": (
        _set("services.builder-worker.healthcheck", {"disable": True}),
        "builder-worker has no health check",
    ),
    "depends_on as a plain list": (_set("services.gateway.depends_on", ["auth"]), "not a plain list"),
    "depends_on without waiting for health": (
        _set("services.gateway.depends_on.auth", {"condition": "service_started"}),
        "service_started, not service_healthy",
    ),
    "no hold sweeper": (_delete("services.payments-sweeper"), "the hold sweeper"),
    "no stale-run sweeper": (_delete("services.builder-sweeper"), "the stale-run sweeper"),
    "no token blacklist flushing": (
        _set("services.auth-maintenance.command", ["sh", "-c", "while :; do sleep 60; done"]),
        "token blacklist flushing",
    ),
    "no idempotency purging for payments": (_delete("services.payments-maintenance"), "purging for payments"),
    "a missing service": (_delete("services.demo-model"), "service demo-model is missing"),
    "two databases on one volume": (
        _set("services.projects-db.volumes", ["auth-db:/var/lib/postgresql/data"]),
        "shares the volume auth-db",
    ),
    "two databases with one password": (
        lambda doc: [
            _set("services.projects-db.environment.POSTGRES_PASSWORD_FILE", "/run/secrets/auth-db-password")(
                doc
            ),
            _set("services.projects-db.secrets", ["auth-db-password"])(doc),
        ],
        "projects-db shares its password with auth-db",
    ),
    # ---- secrets are compose secrets, read through NAME_FILE, never plain environment ----
    "a secret passed as plain environment": (
        lambda doc: [
            _delete("services.auth.environment.DJANGO_SECRET_KEY_FILE")(doc),
            _set("services.auth.environment.DJANGO_SECRET_KEY", "${AUTH_DJANGO_SECRET_KEY:?set it in .env}")(
                doc
            ),
        ],
        "auth: DJANGO_SECRET_KEY is passed as plain environment, which `docker inspect` shows",
    ),
    "a database password passed as plain environment": (
        lambda doc: [
            _delete("services.payments-db.environment.POSTGRES_PASSWORD_FILE")(doc),
            _set("services.payments-db.environment.POSTGRES_PASSWORD", "${PAYMENTS_DB_PASSWORD:?set it}")(
                doc
            ),
        ],
        "payments-db: POSTGRES_PASSWORD is passed as plain environment",
    ),
    "a database URL with its password in the environment": (
        _set(
            "services.sites-maintenance.environment",
            {"DATABASE_URL": "postgres://sites:${SITES_DB_PASSWORD:?set it}@sites-db:5432/sites"},
        ),
        "sites-maintenance: DATABASE_URL is passed as plain environment",
    ),
    "a Stripe key passed as plain environment": (
        _set("services.payments.environment.STRIPE_SECRET_KEY", "${STRIPE_SECRET_KEY:-}"),
        "payments: STRIPE_SECRET_KEY is passed as plain environment",
    ),
    "a secret file the service does not mount": (
        _delete("services.projects.secrets"),
        "projects: DATABASE_URL_FILE names /run/secrets/projects-database-url, but projects mounts no secret",
    ),
    "a secret copied in from the environment": (
        _set("secrets.builder-openai-api-key", {"environment": "OPENAI_API_KEY"}),
        "secret builder-openai-api-key comes from environment, not a file",
    ),
    "a secret file that could be committed": (
        _set("secrets.sites-db-password", {"file": "./secrets/sites-db-password"}),
        "secret sites-db-password is read from ./secrets/sites-db-password, outside git-ignored var/",
    ),
    "another service's secret mounted": (
        _set(
            "services.projects.secrets",
            ["projects-django-secret-key", "projects-database-url", "auth-database-url"],
        ),
        "projects mounts the secret auth-database-url; only auth's containers may",
    ),
    "an undefined secret mounted": (
        _set("services.sites.secrets", ["sites-django-secret-key", "sites-database-url", "sites-tls-key"]),
        "sites: mounts the secret sites-tls-key, which is not defined",
    ),
    "a Django service without its secret key": (
        _set(
            "services.builder-sweeper.environment", {"DATABASE_URL_FILE": "/run/secrets/builder-database-url"}
        ),
        "builder-sweeper: no DJANGO_SECRET_KEY_FILE",
    ),
    # ---- releases (issue 19): compose never builds, so no old tag gets today's code ----
    "a build in docker-compose.yml": (
        _set(
            "services.projects-migrate.build", {"context": ".", "dockerfile": "services/projects/Dockerfile"}
        ),
        "projects-migrate: build: in docker-compose.yml lets `up` build this checkout under any tag",
    ),
    "an image of ours pulled from a registry": (
        _delete("services.gateway.pull_policy"),
        "gateway: pull_policy is not never",
    ),
    "a service on another's database network": (
        _set("services.projects.networks", ["services", "projects-data", "cache", "auth-data"]),
        "projects can reach auth-db",
    ),
    "the JWT keys mounted into another service": (
        _set("services.projects.volumes", ["${OASIS_JWT_KEYS_DIR:?set it}:/run/secrets/oasis-jwt:ro"]),
        "projects mounts the JWT keys",
    ),
    "migrations in the web container": (
        _set("services.auth.command", ["sh", "-c", "python manage.py migrate && exec gunicorn config.wsgi"]),
        "auth runs migrations itself",
    ),
    "not waiting for migrations": (
        _delete("services.auth.depends_on.auth-migrate"),
        "does not wait for auth-migrate",
    ),
    "an undocumented variable": (
        _set("services.gateway.environment.OASIS_GATEWAY_AUTH_RATE", "${OASIS_AUTH_RATE:-10r/s}"),
        "OASIS_AUTH_RATE is used by docker-compose.yml but not documented",
    ),
    "a writable root filesystem": (
        _delete("services.auth.read_only"),
        "auth: the root filesystem is not read-only",
    ),
    "capabilities kept": (_delete("services.gateway.cap_drop"), "gateway: capabilities are not dropped"),
    "an unpinned third-party image": (
        _set("services.redis.image", "redis:latest"),
        "redis:latest is not pinned",
    ),
    "the gateway on every interface by default": (
        _set("services.gateway.ports", ["${OASIS_GATEWAY_PUBLISH:-8080}:8080"]),
        "gateway publishes 8080:8080 on every interface by default",
    ),
    "a port published without an address": (
        _set("services.gateway.ports", ["8080:8080"]),
        "gateway publishes 8080:8080 on every interface by default",
    ),
    "a long-form port without host_ip": (
        _set("services.gateway.ports", [{"target": 8080, "published": "8080"}]),
        "gateway publishes 8080:8080 on every interface by default",
    ),
    "the gateway on 0.0.0.0 by default": (
        _set("services.gateway.ports", ["${OASIS_GATEWAY_PUBLISH:-0.0.0.0:8080}:8080"]),
        "gateway publishes 0.0.0.0:8080:8080 on every interface by default",
    ),
    "the gateway able to write the site store": (
        _set("services.gateway.volumes", ["sites-store:/srv/sites"]),
        "gateway mounts the site store writable; only sites' containers write it",
    ),
    "the gateway without the site store": (
        _delete("services.gateway.volumes"),
        "gateway does not mount the site store",
    ),
    "sites writing its store into the container": (
        _delete("services.sites.volumes"),
        "sites does not mount the site store",
    ),
    "the store mounted where sites does not look": (
        _set("services.sites-sweeper.volumes", ["sites-store:/var/sites"]),
        "sites-sweeper mounts the site store at /var/sites, but OASIS_SITES_STORE says /srv/sites",
    ),
    "the store mounted read-only where it is written": (
        _set("services.sites-pruner.volumes", ["sites-store:/srv/sites:ro"]),
        "sites-pruner mounts the site store read-only, but writes it",
    ),
    "the store mounted into another service": (
        _set("services.projects.volumes", ["sites-store:/srv/sites:ro"]),
        "projects mounts the site store; only sites' containers and the gateway may",
    ),
    "the store in an anonymous volume": (
        _delete("volumes.sites-store"),
        "the site store is not the named volume sites-store",
    ),
    "no site store sweeper": (_delete("services.sites-sweeper"), "the site store sweeper"),
    "no blob pruning": (_delete("services.sites-pruner"), "blob pruning"),
    "no migrations for sites": (
        _delete("services.sites-migrate"),
        "sites: needs exactly one one-shot migration",
    ),
    "no database of its own for sites": (_delete("services.sites-db"), "service sites-db is missing"),
    "no auth worker": (_delete("services.auth-worker"), "nothing runs the auth worker"),
    "the auth worker checked like a sweeper": (
        _set("services.auth-worker.healthcheck.test", ["CMD", "python", "manage.py", "check"]),
        "auth-worker runs the auth worker, but its health check is not email_queue_status",
    ),
    "the auth worker cut off from the mail server": (
        _set("services.auth-worker.networks", ["auth-data"]),
        "auth-worker sends the password reset emails, but cannot reach the mail server",
    ),
    "the auth web container given a way out": (
        _set("services.auth.networks", ["services", "auth-data", "cache", "egress"]),
        "auth can reach the outside world; of auth, only the worker that sends mail may",
    ),
    "no pruning of the email queue": (
        _set(
            "services.auth-maintenance.command",
            ["sh", "-c", "while :; do python manage.py flushexpiredtokens; sleep 60; done"],
        ),
        "pruning of sent emails' queue rows",
    ),
    # ---- release day (issue 19): upgrades, restarts and scaling cost no other service anything ----
    "the gateway restarted whenever a service is recreated": (
        _set("services.gateway.depends_on.projects", {"condition": "service_healthy", "restart": True}),
        "gateway: depends_on projects with restart: true stops gateway whenever projects is recreated",
    ),
    "an image pulled at every up": (
        _set("services.auth.pull_policy", "always"),
        "auth: pull_policy always recreates it at every up",
    ),
    "the gateway resolving its upstreams once": (
        _delete("services.gateway.environment.OASIS_GATEWAY_RESOLVER"),
        "gateway: OASIS_GATEWAY_RESOLVER is not Docker's DNS (127.0.0.11)",
    ),
    "nginx stopped fast, dropping connections": (
        _delete("services.gateway.stop_signal"),
        "gateway: stop_signal is not SIGQUIT",
    ),
    "gunicorn killed before its graceful timeout": (
        _set("services.projects.stop_grace_period", "10s"),
        "projects: stop_grace_period 10s does not cover gunicorn's graceful_timeout (20s)",
    ),
    "a web container stopped without SIGTERM": (
        _set("services.sites.stop_signal", "SIGKILL"),
        "sites: gunicorn shuts down gracefully on SIGTERM, not SIGKILL",
    ),
    "a scale-out forgotten by the next up": (
        _delete("services.builder-worker.deploy.replicas"),
        "builder-worker: deploy.replicas does not come from OASIS_BUILDER_WORKERS",
    ),
    "a maintenance check every five minutes": (
        _set("services.auth-maintenance.healthcheck.interval", "300s"),
        "auth-maintenance: its health check runs every 300s; at most 30s",
    ),
    "a health check without a start period": (
        _delete("services.redis.healthcheck.start_period"),
        "redis: its health check has no start_period",
    ),
    "a chain of waits longer than a minute": (
        _set("services.projects.healthcheck.interval", "30s"),
        "gateway: first reported healthy",
    ),
    "a container without a memory limit": (
        _delete("services.redis.deploy"),
        "redis: no memory limit",
    ),
    "a container without a cpu limit": (
        _delete("services.gateway.deploy.resources.limits.cpus"),
        "gateway: no cpus limit",
    ),
    "the gateway in a network namespace of its own": (
        _delete("services.gateway.network_mode"),
        "the gateway does not run in gateway-port's network namespace (network_mode)",
    ),
    "the gateway's port holder publishing nothing": (
        _delete("services.gateway-port.ports"),
        "gateway-port publishes no port",
    ),
    "Prometheus publishing a port outside its profile": (
        _delete("services.prometheus.profiles"),
        "prometheus publishes a port; only gateway-port (the gateway's) may",
    ),
    "Prometheus on every interface by default": (
        _set("services.prometheus.ports", ["9090:9090"]),
        "prometheus publishes 9090:9090 on every interface by default",
    ),
    "the worker checked like a sweeper": (
        _set("services.builder-worker.healthcheck.test", ["CMD", "python", "manage.py", "check"]),
        "builder-worker runs the generation worker, but its health check is not worker_alive",
    ),
}


@pytest.mark.parametrize("mistake", sorted(PLANTED))
def test_our_rules_report_a_planted_mistake(mistake, compose, tmp_path):
    plant, expected = PLANTED[mistake]
    doc = copy.deepcopy(compose)
    plant(doc)
    found = check(doc, tmp_path)
    assert any(expected in problem for problem in found), found


def test_our_rules_report_a_secret_given_a_value_in_env_example(compose, tmp_path):
    env_example = ENV_EXAMPLE.read_text().replace(
        "\nAUTH_DB_PASSWORD=\n", "\nAUTH_DB_PASSWORD=hunter2hunter2\n"
    )
    assert env_example != ENV_EXAMPLE.read_text()
    found = check(copy.deepcopy(compose), tmp_path, env_example=env_example)
    assert ".env.example gives AUTH_DB_PASSWORD a value; secrets are left empty there" in found


def test_our_rules_report_an_env_example_that_opens_the_gateway_to_every_network(compose, tmp_path):
    env_example = ENV_EXAMPLE.read_text().replace(
        "\nOASIS_GATEWAY_PUBLISH=127.0.0.1:8080\n", "\nOASIS_GATEWAY_PUBLISH=0.0.0.0:8080\n"
    )
    assert env_example != ENV_EXAMPLE.read_text()
    found = check(copy.deepcopy(compose), tmp_path, env_example=env_example)
    assert any("gateway-port publishes 0.0.0.0:8080:8080 on every interface by default" in p for p in found)


def test_our_rules_report_a_variable_env_example_documents_but_compose_never_reads(compose, tmp_path):
    env_example = ENV_EXAMPLE.read_text() + "OASIS_NOT_USED=1\n"
    found = check(copy.deepcopy(compose), tmp_path, env_example=env_example)
    assert (
        "OASIS_NOT_USED is in .env.example but neither docker-compose.yml nor scripts/release.py reads it"
        in found
    )


@pytest.mark.parametrize(
    "plant",
    [
        _set("services.gateway.restart_policy", "always"),
        _set("services.gateway.ports", "8080:8080"),
        _set("services.auth.depends_on.auth-migrate.condition", "service_finished"),
    ],
    ids=["unknown key", "ports as a string", "unknown condition"],
)
def test_the_compose_schema_reports_a_planted_mistake(plant, compose, tmp_path):
    doc = copy.deepcopy(compose)
    plant(doc)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = compose_schema(path)
    assert not result.ok, result.output


def fake_compose(tmp_path, name: str, version: str):
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\necho '{version}'\n")
    script.chmod(0o755)
    return str(script)


def test_compose_v1_is_never_taken_for_compose_v2(tmp_path, monkeypatch):
    v1 = fake_compose(tmp_path, "docker-compose", "1.29.2")
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    monkeypatch.setattr(tools, "find", lambda name: v1)

    command, why_not = tools.compose_command()

    assert command is None
    assert "v2.24 or newer" in why_not
    assert "1.29" in why_not


def test_a_standalone_compose_v2_is_taken(tmp_path, monkeypatch):
    v2 = fake_compose(tmp_path, "docker-compose", "2.40.3")
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    monkeypatch.setattr(tools, "find", lambda name: v2)

    assert tools.compose_command() == ([v2], "")


# ---- previews on their own origin (the studio) ----


def test_projects_and_the_gateway_agree_on_the_previews_own_origin(compose):
    services = compose["services"]
    projects = services["projects"]["environment"]["OASIS_PREVIEW_ORIGIN"]
    assert services["gateway"]["environment"]["OASIS_PREVIEW_ORIGIN"] == projects
    assert rules.interpolate(projects, {}) == "http://preview.localhost:8080"
    example = rules.env_example_values(ENV_EXAMPLE.read_text())
    assert rules.interpolate(projects, example) == "http://preview.localhost:8080"
    assert rules.preview_origin_problems(compose, example) == []


def _env(service: str, value: str):
    return _set(f"services.{service}.environment.OASIS_PREVIEW_ORIGIN", value)


PREVIEW_PLANTED = {
    "the gateway not told": (
        _delete("services.gateway.environment.OASIS_PREVIEW_ORIGIN"),
        "gateway is not given OASIS_PREVIEW_ORIGIN",
    ),
    "projects not told": (_env("projects", "${OASIS_PREVIEW_ORIGIN:-}"), "differs"),
    "another default in the gateway": (
        _env("gateway", "${OASIS_PREVIEW_ORIGIN:-http://previews.localhost:8080}"),
        "with no .env, OASIS_PREVIEW_ORIGIN differs",
    ),
    "the gateway ignores .env": (
        _env("gateway", "http://preview.localhost:8080"),
        "with .env with OASIS_PREVIEW_ORIGIN=https://preview.example.test, OASIS_PREVIEW_ORIGIN differs",
    ),
    "both ignore .env": (
        lambda doc: [_env(s, "http://preview.localhost:8080")(doc) for s in ("projects", "gateway")],
        "in .env is not followed",
    ),
    "the studio's own origin": (
        lambda doc: [
            _env(s, "${OASIS_PREVIEW_ORIGIN:-http://localhost:8080}")(doc) for s in ("projects", "gateway")
        ],
        "on the gateway's own host",
    ),
    "a port the gateway does not publish": (
        lambda doc: [
            _env(s, "${OASIS_PREVIEW_ORIGIN:-http://preview.localhost:8081}")(doc)
            for s in ("projects", "gateway")
        ],
        "not on the port the gateway publishes (8080)",
    ),
    "a path, not an origin": (
        lambda doc: [
            _env(s, "${OASIS_PREVIEW_ORIGIN:-http://preview.localhost:8080/preview}")(doc)
            for s in ("projects", "gateway")
        ],
        "is not an origin",
    ),
}


@pytest.mark.parametrize("mistake", sorted(PREVIEW_PLANTED))
def test_preview_origin_rules_report_a_planted_mistake(mistake, compose, tmp_path):
    plant, expected = PREVIEW_PLANTED[mistake]
    doc = copy.deepcopy(compose)
    plant(doc)
    found = check(doc, tmp_path)
    assert any(expected in problem for problem in found), found
