"""Our rules for docker-compose.yml, on top of the Compose specification's schema."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import yaml

from .tools import CONTAINER_TMP, REPO


def _load_release_script():
    """scripts/release.py, which writes the secret files and runs releases (stdlib only)."""
    name = "oasis_release_script"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "release.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


RELEASE = _load_release_script()

DJANGO_SERVICES = ("auth", "projects", "payments", "builder", "sites")
# Holds the gateway's published port and networks; the gateway's containers join its network
# namespace, so a new one can start beside the old one (start-first) on the same port.
PUBLISHER = "gateway-port"
REQUIRED = (
    PUBLISHER,
    "gateway",
    *DJANGO_SERVICES,
    "auth-worker",
    "builder-worker",
    "demo-model",
    "redis",
    *(f"{service}-db" for service in DJANGO_SERVICES),
)
# The site store: sites' containers write it, the gateway serves it and may only read it.
SITE_STORE_VOLUME = "sites-store"
SITE_STORE_WRITERS = "sites"
# Auth's processes that send mail (its queue worker), the only ones of auth with a way out.
AUTH_MAIL_SENDER = re.compile(r"\bdb_worker\b.*--queue-name[= ]emails\b")
EGRESS_NETWORK = "egress"
HEALTHY_CONDITIONS = {"service_healthy", "service_completed_successfully"}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])([^}]*))?\}")
# Names whose values are secrets: they may only come from .env, never be written here.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|API_KEY|SIGNING_KEY|_TOKEN|SERVICE_CLIENTS)(_|$)")
NOT_A_SECRET = re.compile(r"_(FILE|FILES|NAME|DIR|LIFETIME|TIMEOUT|URL)$")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(\$\{[^}]*\}|[^@\s]+)@")
# Secrets whose names say nothing of it: they hold passwords (the databases', the peers' secrets).
SECRET_VARIABLES = {"DATABASE_URL", "POSTGRES_PASSWORD", "OASIS_SERVICE_CLIENTS", "DJANGO_SECRET_KEY"}
# Compose mounts a service's secrets here; the services read them through NAME_FILE.
SECRETS_MOUNT = "/run/secrets/"
# Paths a service opens only when it needs them: the JWT signing key, which only the auth web
# container (the one that signs) mounts, while every auth process shares its settings.
OPENED_WHEN_NEEDED = {"OASIS_JWT_SIGNING_KEY"}
# Secret files live under var/, which .gitignore keeps out of the repository.
SECRET_FILES_UNDER = "./var/"
# Processes that may publish a port besides the gateway: tools in an optional profile (Prometheus).
OPTIONAL_PROFILES = {"metrics"}
# Services meant to scale, and the .env variable their replicas come from (a --scale is forgotten
# by the next plain `up`; deploy.replicas from .env is not).
SCALED = {"builder-worker": "OASIS_BUILDER_WORKERS"}
# `docker compose up --wait` must report every container healthy within this of `up`, migrations aside.
HEALTHY_WITHIN_SECONDS = 60
MAX_CHECK_INTERVAL_SECONDS = 30
# gunicorn's graceful_timeout (oasis_common.gunicorn_conf): a web container's SIGTERM grace must cover it.
GUNICORN_GRACEFUL_SECONDS = 20
# Docker's embedded DNS, which nginx asks again for a recreated service's new address.
DOCKER_DNS = "127.0.0.11"
# Previews' own origin: projects builds links on it, the gateway lets the studio frame it.
PREVIEW_ORIGIN = "OASIS_PREVIEW_ORIGIN"
PREVIEW_READERS = ("projects", "gateway")
ORIGIN = re.compile(r"^(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::(\d+))?$")
# The hosts the gateway's own origin (the API's and the studio's) answers on in compose.
GATEWAY_HOSTS = {"localhost", "127.0.0.1", "[::1]"}
# Any value an operator may put in .env: every reader must follow it.
OPERATOR_PREVIEW_ORIGIN = "https://preview.example.test"
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)")
SECRET_LOOKING = re.compile(
    r"(sk_(live|test)_[0-9A-Za-z]{8,}|rk_(live|test)_[0-9A-Za-z]{8,}|whsec_[0-9A-Za-z]{8,}"
    r"|\bsk-[0-9A-Za-z_-]{16,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|\boak_[0-9A-Za-z]{16,})"
)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def variables(text: str) -> set[str]:
    return {match.group(1) for match in VARIABLE.finditer(text)}


def env_example_values(text: str) -> dict[str, str]:
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}, with `dotenv` as the .env."""

    def substitute(match: re.Match) -> str:
        name, operator, default = match.group(1), match.group(2) or "", match.group(3) or ""
        value = dotenv.get(name, "")
        if value:
            return value
        return default if operator.lstrip(":").startswith("-") else ""

    return VARIABLE.sub(substitute, value).replace("$$", "$")


def published_addresses(service: dict, dotenv: dict[str, str]) -> list[tuple[str, str]]:
    """Each published port as (host address, the port mapping); an empty address means every interface."""
    found = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            address = interpolate(str(entry.get("host_ip", "")), dotenv)
            mapping = f"{interpolate(str(entry.get('published', '')), dotenv)}:{entry.get('target')}"
        else:
            mapping = interpolate(str(entry), dotenv).split("/")[0]
            parts = mapping.rsplit(":", 2)
            address = parts[0] if len(parts) == 3 else ""
        found.append((address.strip("[]"), mapping))
    return found


def is_every_interface(address: str) -> bool:
    return address in ("", "0.0.0.0", "::")  # noqa: S104 - the addresses this rule refuses


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    return []


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def volume_mounts(service: dict) -> list[tuple[str, str, bool]]:
    """Each volume of a service as (source, target, read-only), short or long syntax alike."""
    found = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            found.append(
                (str(entry.get("source", "")), str(entry.get("target", "")), bool(entry.get("read_only")))
            )
            continue
        source, _, rest = str(entry).partition(":")
        target, _, mode = rest.partition(":")
        found.append((source, target, "ro" in mode.split(",")))
    return found


def _image_service(service: dict) -> str:
    """Which of our images a service runs (auth, builder, ...), or '' for a third-party image."""
    match = re.match(r"^imagi-oasis/([a-z-]+):", service.get("image", ""))
    return match.group(1) if match else ""


def seconds(duration) -> float | None:
    """A compose duration (`1m30s`, `300s`, `500ms`) in seconds; None when unset or unreadable."""
    if duration is None:
        return None
    text = str(duration).strip()
    parts = DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    return sum(float(number) * scale[unit] for number, unit in parts)


def is_web(service: dict) -> bool:
    """A Django web container: one of our service images running its CMD (gunicorn)."""
    return _image_service(service) in DJANGO_SERVICES and "command" not in service


def is_one_shot(service: dict) -> bool:
    return str(service.get("restart", "no")) == "no"


def secret_problems(name: str, env: dict[str, str]) -> list[str]:
    found = []
    for key, value in env.items():
        for password in URL_PASSWORD.findall(value):
            if not VARIABLE.fullmatch(password):
                found.append(f"{name}: {key} has a password written into its URL")
        if not SECRET_NAME.search(key) or NOT_A_SECRET.search(key):
            continue
        for match in VARIABLE.finditer(value):
            operator, default = match.group(2) or "", match.group(3) or ""
            if operator.lstrip(":").startswith("-") and default:
                found.append(f"{name}: {key} falls back to a default secret; secrets come from .env only")
        literal = VARIABLE.sub("", value)
        if not re.fullmatch(r"(?:[a-z0-9_-]+=,?)*", literal):
            found.append(f"{name}: {key} is written into the compose file; take it from .env")
    return found


def is_secret_variable(name: str) -> bool:
    return name in SECRET_VARIABLES or bool(SECRET_NAME.search(name) and not NOT_A_SECRET.search(name))


def compose_secret_problems(doc: dict) -> list[str]:
    """Secrets reach the containers as compose `secrets:` files, read through NAME_FILE.

    Never as plain environment (`docker inspect` shows it to anyone with the Docker socket), never
    from `environment:` or `content:` (compose copies those into the container, which a read-only
    root filesystem refuses), each file under git-ignored var/, each mounted only into the
    containers of the service it belongs to.
    """
    services: dict = doc.get("services") or {}
    defined: dict = doc.get("secrets") or {}
    found: list[str] = []
    for name, definition in defined.items():
        definition = definition or {}
        source = str(definition.get("file", ""))
        if not source:
            how = next(
                (key for key in ("environment", "content", "external") if key in definition), "nothing"
            )
            found.append(
                f"secret {name} comes from {how}, not a file: compose gives read-only containers "
                "`file` secrets only"
            )
        elif not source.startswith(SECRET_FILES_UNDER):
            found.append(
                f"secret {name} is read from {source}, outside git-ignored var/: it could be committed"
            )
    for name, service in services.items():
        env = _environment(service)
        mounted = {
            s if isinstance(s, str) else str(s.get("source", "")) for s in service.get("secrets") or []
        }
        targets = {target for _, target, _ in volume_mounts(service)}
        for secret in sorted(mounted):
            if secret not in defined:
                found.append(f"{name}: mounts the secret {secret}, which is not defined")
            owner = next((s for s in DJANGO_SERVICES if secret.startswith(f"{s}-")), None)
            if owner and _image_service(service) != owner and name != f"{owner}-db":
                found.append(f"{name} mounts the secret {secret}; only {owner}'s containers may")
        for key, value in env.items():
            if is_secret_variable(key) and value.strip():
                found.append(
                    f"{name}: {key} is passed as plain environment, which `docker inspect` shows; "
                    f"mount it as a compose secret and set {key}_FILE"
                )
            base = key.removesuffix("_FILE")
            if key == base or not is_secret_variable(base):
                continue
            if env.get(base, "").strip():
                found.append(f"{name}: sets both {base} and {key}; the services refuse that")
            if not value.startswith(SECRETS_MOUNT):
                found.append(f"{name}: {key} names {value}, not a file under {SECRETS_MOUNT}")
                continue
            first = value[len(SECRETS_MOUNT) :].split("/")[0]
            if base in OPENED_WHEN_NEEDED:
                continue
            if first not in mounted and f"{SECRETS_MOUNT}{first}" not in targets:
                found.append(f"{name}: {key} names {value}, but {name} mounts no secret {first}")
        if _image_service(service) in DJANGO_SERVICES:
            for required in ("DJANGO_SECRET_KEY", "DATABASE_URL"):
                if f"{required}_FILE" not in env:
                    found.append(f"{name}: no {required}_FILE; in production it refuses to start without it")
    return found


def image_build_problems(doc: dict) -> list[str]:
    """docker-compose.yml runs images and never builds them (docker-compose.build.yml does).

    With `build:` here, `OASIS_VERSION=<old release> docker compose up` builds today's code under
    the old tag whenever that image is missing, and `up --build` always does; with a pull policy
    other than never, a missing image is looked for in a registry under our name.
    """
    found = []
    for name, service in (doc.get("services") or {}).items():
        if not _image_service(service):
            continue
        if "build" in service:
            found.append(
                f"{name}: build: in docker-compose.yml lets `up` build this checkout under any tag, an "
                "old release's too; builds belong in docker-compose.build.yml"
            )
        if str(service.get("pull_policy", "")) != "never":
            found.append(
                f"{name}: pull_policy is not never: a missing image would be pulled from a registry "
                "under our name (or built)"
            )
    return found


def build_file_problems(build_doc: dict, compose_doc: dict) -> list[str]:
    """docker-compose.build.yml builds each of our images once, from its own Dockerfile, and no more."""
    found = []
    services = compose_doc.get("services") or {}
    built: dict[str, str] = {}
    for name, service in (build_doc.get("services") or {}).items():
        extra = sorted(set(service or {}) - {"build"})
        if extra:
            found.append(f"{name}: docker-compose.build.yml may only add build:, not {', '.join(extra)}")
        build = (service or {}).get("build")
        if not isinstance(build, dict):
            found.append(f"{name}: docker-compose.build.yml gives it no build context and Dockerfile")
            continue
        image = _image_service(services.get(name) or {})
        if not image:
            found.append(
                f"{name}: docker-compose.build.yml builds it, but docker-compose.yml runs no image of ours"
            )
            continue
        if image in built:
            found.append(f"the image {image} is built twice ({built[image]} and {name})")
        built[image] = name
        dockerfile = Path(build.get("context", ".")) / str(build.get("dockerfile", "Dockerfile"))
        if not (REPO / dockerfile).is_file():
            found.append(f"{name}: builds from {dockerfile}, which does not exist")
        elif image.replace("-", "_") not in dockerfile.as_posix():
            found.append(f"{name}: the image {image} is built from {dockerfile}")
    for image in RELEASE.IMAGES:
        if image not in built:
            found.append(f"the image {image} is never built by docker-compose.build.yml")
    return found


def problems(doc: dict, *, env_example: str, compose_text: str) -> list[str]:
    """Everything wrong with the compose file, as sentences; empty when it follows our rules."""
    services: dict = doc.get("services") or {}
    found: list[str] = []

    for name in REQUIRED:
        if name not in services:
            found.append(f"service {name} is missing")

    # Only the gateway's port holder publishes a port, by default (no .env, or .env.example's) on
    # this host only, and the gateway runs in its network namespace.
    for name, service in services.items():
        optional = set(service.get("profiles") or []) <= OPTIONAL_PROFILES and service.get("profiles")
        if service.get("ports") and name != PUBLISHER and not optional:
            found.append(f"{name} publishes a port; only {PUBLISHER} (the gateway's) may")
    if not services.get(PUBLISHER, {}).get("ports"):
        found.append(f"{PUBLISHER} publishes no port")
    if services.get("gateway", {}).get("network_mode") != f"service:{PUBLISHER}":
        found.append(f"the gateway does not run in {PUBLISHER}'s network namespace (network_mode)")
    for dotenv in ({}, env_example_values(env_example)):
        for name, service in services.items():
            for address, mapping in published_addresses(service, dotenv):
                problem = (
                    f"{name} publishes {mapping} on every interface by default; "
                    "default to an address such as 127.0.0.1 (operators may open it in .env)"
                )
                if is_every_interface(address) and problem not in found:
                    found.append(problem)

    # Health checks, and depends_on that waits for them.
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if not is_one_shot(service) and (check.get("disable") or not check.get("test")):
            found.append(f"{name} has no health check")
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            found.append(f"{name}: depends_on must wait with a condition, not a plain list")
            continue
        for target, spec in depends.items():
            condition = (spec or {}).get("condition", "service_started")
            if condition not in HEALTHY_CONDITIONS:
                found.append(f"{name}: depends_on {target} with {condition}, not service_healthy")
            elif target in services:
                one_shot = is_one_shot(services[target])
                if condition == "service_completed_successfully" and not one_shot:
                    found.append(f"{name}: waits for {target} to complete, but {target} keeps running")
                if condition == "service_healthy" and one_shot:
                    found.append(
                        f"{name}: waits for one-shot {target} to be healthy; wait for it to complete"
                    )
            else:
                found.append(f"{name}: depends on {target}, which does not exist")

    # The worker has no HTTP: its health is its claiming loop's heartbeat.
    for name, service in services.items():
        test = (service.get("healthcheck") or {}).get("test") or ""
        test = test if isinstance(test, str) else " ".join(map(str, test))
        if "generation_worker" in _command(service) and "worker_alive" not in test:
            found.append(f"{name} runs the generation worker, but its health check is not worker_alive")

    # The auth worker has no HTTP either: healthy while the database of its queue answers.
    for name, service in services.items():
        test = (service.get("healthcheck") or {}).get("test") or ""
        test = test if isinstance(test, str) else " ".join(map(str, test))
        if AUTH_MAIL_SENDER.search(_command(service)) and "email_queue_status" not in test:
            found.append(f"{name} runs the auth worker, but its health check is not email_queue_status")

    # Mail leaves from the auth worker only: the auth web container (which holds the JWT key)
    # and auth's other processes have no way out.
    for name, service in services.items():
        if _image_service(service) != "auth" or is_one_shot(service):
            continue
        sends_mail = bool(AUTH_MAIL_SENDER.search(_command(service)))
        on_egress = EGRESS_NETWORK in (service.get("networks") or [])
        if sends_mail and not on_egress:
            found.append(f"{name} sends the password reset emails, but cannot reach the mail server")
        if on_egress and not sends_mail:
            found.append(f"{name} can reach the outside world; of auth, only the worker that sends mail may")

    # Migrations: one one-shot per service, which everything of that service waits for.
    for service_name in DJANGO_SERVICES:
        migrators = [
            n
            for n, s in services.items()
            if _image_service(s) == service_name and "manage.py migrate" in _command(s) and is_one_shot(s)
        ]
        if len(migrators) != 1:
            found.append(f"{service_name}: needs exactly one one-shot migration service, has {migrators}")
            continue
        for name, service in services.items():
            if _image_service(service) != service_name or name == migrators[0]:
                continue
            condition = ((service.get("depends_on") or {}).get(migrators[0]) or {}).get("condition")
            if isinstance(service.get("depends_on"), dict) and condition != "service_completed_successfully":
                found.append(f"{name} does not wait for {migrators[0]} to complete")
            if "migrate" in _command(service).replace("migrate --check", ""):
                found.append(f"{name} runs migrations itself; several replicas would race")

    # Scheduled work: the sweepers, token blacklist flushing, idempotency purging.
    commands = {name: _command(service) for name, service in services.items()}
    scheduled = {
        "the hold sweeper (release_expired_holds --every)": ("payments", r"release_expired_holds .*--every"),
        "the stale-run sweeper (sweep_generations --every)": ("builder", r"sweep_generations .*--every"),
        "token blacklist flushing (flushexpiredtokens)": ("auth", r"while .*flushexpiredtokens"),
        "the auth worker (db_worker --queue-name emails)": ("auth", AUTH_MAIL_SENDER.pattern),
        "pruning of sent emails' queue rows (prune_db_task_results)": (
            "auth",
            r"while .*prune_db_task_results .*--queue-name emails",
        ),
        "the builder worker (generation_worker)": ("builder", r"generation_worker"),
        "the site store sweeper (reconcile_site_store --every)": ("sites", r"reconcile_site_store .*--every"),
        "blob pruning (prune_site_blobs --every)": ("sites", r"prune_site_blobs .*--every"),
        **{
            f"idempotency purging for {s}": (s, r"while .*purge_idempotency_records") for s in DJANGO_SERVICES
        },
    }
    for what, (image, pattern) in scheduled.items():
        if not any(
            re.search(pattern, commands[n]) and _image_service(s) == image and not is_one_shot(s)
            for n, s in services.items()
        ):
            found.append(f"nothing runs {what}")

    found += site_store_problems(doc)
    found += compose_secret_problems(doc)
    found += image_build_problems(doc)
    found += preview_origin_problems(doc, env_example_values(env_example))
    found += release_day_problems(doc)

    # One PostgreSQL per service: its own volume, its own credentials, reachable by that service only.
    volumes_seen: dict[str, str] = {}
    credentials_seen: dict[str, str] = {}
    for service_name in DJANGO_SERVICES:
        name = f"{service_name}-db"
        db = services.get(name)
        if db is None:
            continue
        if not str(db.get("image", "")).startswith("postgres:"):
            found.append(f"{name} is not PostgreSQL")
        mounts = [str(v).split(":")[0] for v in db.get("volumes") or [] if isinstance(v, str)]
        if not any(m in (doc.get("volumes") or {}) for m in mounts):
            found.append(f"{name} keeps its data in no named volume")
        for mount in mounts:
            if mount in volumes_seen:
                found.append(f"{name} shares the volume {mount} with {volumes_seen[mount]}")
            volumes_seen[mount] = name
        db_env = _environment(db)
        raw_password = db_env.get("POSTGRES_PASSWORD_FILE") or db_env.get("POSTGRES_PASSWORD", "")
        password = ",".join(sorted(variables(raw_password))) or raw_password
        if not password:
            found.append(f"{name} is given no password (POSTGRES_PASSWORD_FILE)")
        if password in credentials_seen:
            found.append(f"{name} shares its password with {credentials_seen[password]}")
        credentials_seen[password] = name
        db_networks = set(db.get("networks") or [])
        for other_name, other in services.items():
            if other_name == name or not db_networks & set(other.get("networks") or []):
                continue
            if _image_service(other) != service_name:
                found.append(f"{other_name} can reach {name}, which only {service_name} may")

    # Secrets: only from .env, and the JWT signing key only in the auth web container.
    for name, service in services.items():
        found += secret_problems(name, _environment(service))
    for text in _strings(doc):
        if SECRET_LOOKING.search(text):
            found.append(
                f"a secret is written into the compose file: {SECRET_LOOKING.search(text).group(0)[:12]}…"
            )
    for name, service in services.items():
        mounts = [s if isinstance(s, str) else s.get("source", "") for s in service.get("secrets") or []]
        mounts += [
            str(v) if isinstance(v, str) else str(v.get("source", "")) for v in service.get("volumes") or []
        ]
        if any("jwt" in mount for mount in mounts) and name != "auth":
            found.append(f"{name} mounts the JWT keys; only the auth web container may")

    # Hardening of every container built from this repository.
    for name, service in services.items():
        if not _image_service(service):
            continue
        if service.get("read_only") is not True:
            found.append(f"{name}: the root filesystem is not read-only")
        if CONTAINER_TMP not in [str(t).split(":")[0] for t in service.get("tmpfs") or []]:
            found.append(f"{name}: no tmpfs for {CONTAINER_TMP}")
        if "ALL" not in (service.get("cap_drop") or []):
            found.append(f"{name}: capabilities are not dropped")
        if "no-new-privileges:true" not in (service.get("security_opt") or []):
            found.append(f"{name}: privilege escalation is not prevented")

    # Third-party images are pinned to a release.
    for name, service in services.items():
        image = str(service.get("image", ""))
        if _image_service(service) or not image:
            continue
        tag = image.rpartition(":")[2] if ":" in image else ""
        if not re.match(r"^v?\d+\.\d+", tag):
            found.append(f"{name}: image {image} is not pinned to a release")

    # Every variable the compose file reads is documented in .env.example, and nothing else is
    # (the secrets are read by scripts/release.py, which writes them into their files).
    documented = env_example_values(env_example)
    used = variables(compose_text)
    for variable in sorted(used - set(documented)):
        found.append(f"{variable} is used by docker-compose.yml but not documented in .env.example")
    for variable in sorted(set(documented) - used - RELEASE.ENV_VARIABLES):
        found.append(
            f"{variable} is in .env.example but neither docker-compose.yml nor scripts/release.py reads it"
        )
    for variable, value in documented.items():
        if SECRET_NAME.search(variable) and not NOT_A_SECRET.search(variable) and value:
            found.append(f".env.example gives {variable} a value; secrets are left empty there")
    return found


def site_store_problems(doc: dict) -> list[str]:
    """The store sites writes and the gateway serves: one named volume, at the path each is told."""
    services: dict = doc.get("services") or {}
    if "sites" not in services:
        return []
    found = []
    if SITE_STORE_VOLUME not in (doc.get("volumes") or {}):
        found.append(f"the site store is not the named volume {SITE_STORE_VOLUME}")
    for name, service in services.items():
        mounts = [
            (target, ro) for source, target, ro in volume_mounts(service) if source == SITE_STORE_VOLUME
        ]
        store = _environment(service).get("OASIS_SITES_STORE")
        writer = _image_service(service) == SITE_STORE_WRITERS
        if name in ("sites", "gateway") and not mounts:
            found.append(f"{name} does not mount the site store")
        for target, read_only in mounts:
            if not writer and not read_only:
                found.append(f"{name} mounts the site store writable; only sites' containers write it")
            if writer and read_only:
                found.append(f"{name} mounts the site store read-only, but writes it")
            if store != target:
                found.append(f"{name} mounts the site store at {target}, but OASIS_SITES_STORE says {store}")
        if mounts and name != "gateway" and not writer:
            found.append(f"{name} mounts the site store; only sites' containers and the gateway may")
    return found


def preview_origin_problems(doc: dict, dotenv: dict[str, str]) -> list[str]:
    """Projects and the gateway agree on the previews' own origin, and it works on this host.

    Projects builds preview links on OASIS_PREVIEW_ORIGIN and the gateway lets the studio frame
    only that origin (besides its own): were they to differ, the studio could not show a preview.
    Checked with no .env, with .env.example's values and with an operator's value.
    """
    services: dict = doc.get("services") or {}
    if not all(name in services for name in PREVIEW_READERS):
        return []
    found = []
    readers = {
        name: _environment(service)[PREVIEW_ORIGIN]
        for name, service in services.items()
        if PREVIEW_ORIGIN in _environment(service)
    }
    for name in PREVIEW_READERS:
        if not readers.get(name, "").strip():
            found.append(f"{name} is not given {PREVIEW_ORIGIN}: previews would share the studio's origin")
    if found:
        return found
    for label, env in (
        ("no .env", {}),
        (".env.example", dotenv),
        (
            f".env with {PREVIEW_ORIGIN}={OPERATOR_PREVIEW_ORIGIN}",
            {**dotenv, PREVIEW_ORIGIN: OPERATOR_PREVIEW_ORIGIN},
        ),
    ):
        values = {name: interpolate(value, env) for name, value in readers.items()}
        if len(set(values.values())) > 1:
            found.append(
                f"with {label}, {PREVIEW_ORIGIN} differs: "
                + ", ".join(f"{name} {value!r}" for name, value in sorted(values.items()))
            )
            continue
        [origin] = set(values.values())
        match = ORIGIN.match(origin)
        if not match:
            found.append(
                f"with {label}, {PREVIEW_ORIGIN}={origin!r} is not an origin like https://preview.example.com"
            )
            continue
        if label.startswith(".env with") and origin != OPERATOR_PREVIEW_ORIGIN:
            found.append(f"{PREVIEW_ORIGIN} in .env is not followed: the services are given {origin!r}")
        scheme, host, port = match.groups()
        if host.lower() in GATEWAY_HOSTS:
            found.append(
                f"with {label}, {PREVIEW_ORIGIN}={origin} is on the gateway's own host: "
                "previews would run beside the studio's session"
            )
        elif host.lower().endswith(".localhost"):
            # Browsers send *.localhost to this machine: it must be the port the gateway publishes.
            published = [m.split(":")[-2] for _, m in published_addresses(services[PUBLISHER], env)]
            if (port or ("443" if scheme == "https" else "80")) not in published:
                found.append(
                    f"with {label}, {PREVIEW_ORIGIN}={origin} is on this host but not on the port the "
                    f"gateway publishes ({', '.join(published) or 'none'})"
                )
    return found


def _healthcheck_first_ok(services: dict, name: str, seen: frozenset = frozenset()) -> float:
    """When `name` can first be reported healthy (or done), at worst, counted from `up`.

    Docker runs a container's first health check one interval after it starts; a container
    starts once what it depends on is healthy (or done). One-shots count as instant here: the
    migrations' own time is theirs.
    """
    if name in seen or name not in services:
        return 0.0
    service = services[name]
    depends = service.get("depends_on") or {}
    start = max((_healthcheck_first_ok(services, target, seen | {name}) for target in depends), default=0.0)
    check = service.get("healthcheck") or {}
    if is_one_shot(service) or check.get("disable"):
        return start
    return start + (seconds(check.get("interval")) or 30.0)


def release_day_problems(doc: dict) -> list[str]:
    """What an upgrade, a restart or a scale-out of one service must not cost the others (issue 19)."""
    services: dict = doc.get("services") or {}
    found: list[str] = []

    # Recreating one service never stops another: no `restart: true`, nothing forcing recreation.
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        for target, spec in depends.items() if isinstance(depends, dict) else []:
            if (spec or {}).get("restart"):
                found.append(
                    f"{name}: depends_on {target} with restart: true stops {name} whenever {target} "
                    "is recreated"
                )
        if str(service.get("pull_policy", "")) in ("always", "build"):
            found.append(
                f"{name}: pull_policy {service['pull_policy']} recreates it at every up, changed or not"
            )
        build = service.get("build")
        if isinstance(build, dict) and build.get("no_cache"):
            found.append(f"{name}: build.no_cache makes a new image, and so a new container, at every up")

    # The gateway follows a recreated service to its new address (nginx resolves again).
    gateway = services.get("gateway")
    if gateway is not None:
        env = _environment(gateway)
        named = [
            value
            for key, value in env.items()
            if key.endswith("_UPSTREAM") and not re.match(r"^(localhost|[0-9.]+):", value)
        ]
        resolver = env.get("OASIS_GATEWAY_RESOLVER", "")
        if named and DOCKER_DNS not in resolver.replace(",", " ").split():
            found.append(
                f"gateway: OASIS_GATEWAY_RESOLVER is not Docker's DNS ({DOCKER_DNS}), so nginx keeps "
                "a recreated service's old address"
            )
        if str(gateway.get("stop_signal", "")) != "SIGQUIT":
            found.append("gateway: stop_signal is not SIGQUIT, nginx's graceful shutdown")
        if (seconds(gateway.get("stop_grace_period")) or 10) < GUNICORN_GRACEFUL_SECONDS:
            found.append(f"gateway: stop_grace_period is under {GUNICORN_GRACEFUL_SECONDS}s")

    # gunicorn finishes its requests within graceful_timeout after SIGTERM: Docker must wait as long.
    for name, service in services.items():
        if not is_web(service):
            continue
        grace = seconds(service.get("stop_grace_period")) or 10
        if grace <= GUNICORN_GRACEFUL_SECONDS:
            found.append(
                f"{name}: stop_grace_period {grace:g}s does not cover gunicorn's graceful_timeout "
                f"({GUNICORN_GRACEFUL_SECONDS}s)"
            )
        if str(service.get("stop_signal", "SIGTERM")) != "SIGTERM":
            found.append(f"{name}: gunicorn shuts down gracefully on SIGTERM, not {service['stop_signal']}")

    # A scale that sticks: replicas from .env.
    for name, variable in SCALED.items():
        if name not in services:
            continue
        replicas = str(((services[name].get("deploy") or {}).get("replicas")) or "")
        if variables(replicas) != {variable}:
            found.append(
                f"{name}: deploy.replicas does not come from {variable}, so a scale-out does not stick"
            )

    # Healthy soon after `up`: short intervals, a start period, along the whole chain of waits.
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if is_one_shot(service) or check.get("disable") or not check:
            continue
        interval = seconds(check.get("interval")) or 30.0
        if interval > MAX_CHECK_INTERVAL_SECONDS:
            found.append(
                f"{name}: its health check runs every {interval:g}s; at most {MAX_CHECK_INTERVAL_SECONDS}s"
            )
        if seconds(check.get("start_period")) is None:
            found.append(f"{name}: its health check has no start_period")
        first_ok = _healthcheck_first_ok(services, name)
        if first_ok > HEALTHY_WITHIN_SECONDS:
            found.append(
                f"{name}: first reported healthy {first_ok:g}s after up at worst; "
                f"at most {HEALTHY_WITHIN_SECONDS}s"
            )

    # Every container has a ceiling.
    for name, service in services.items():
        limits = (((service.get("deploy") or {}).get("resources") or {}).get("limits")) or {}
        for resource in ("cpus", "memory"):
            if resource not in limits:
                found.append(f"{name}: no {resource} limit (deploy.resources.limits.{resource})")
    return found
