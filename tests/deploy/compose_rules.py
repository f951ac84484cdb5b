"""Our rules for docker-compose.yml, on top of the Compose specification's schema."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .tools import CONTAINER_TMP

DJANGO_SERVICES = ("auth", "projects", "payments", "builder", "sites")
REQUIRED = (
    "gateway",
    *DJANGO_SERVICES,
    "builder-worker",
    "demo-model",
    "redis",
    *(f"{service}-db" for service in DJANGO_SERVICES),
)
# The site store: sites' containers write it, the gateway serves it and may only read it.
SITE_STORE_VOLUME = "sites-store"
SITE_STORE_WRITERS = "sites"
HEALTHY_CONDITIONS = {"service_healthy", "service_completed_successfully"}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])([^}]*))?\}")
# Names whose values are secrets: they may only come from .env, never be written here.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|API_KEY|SIGNING_KEY|_TOKEN|SERVICE_CLIENTS)(_|$)")
NOT_A_SECRET = re.compile(r"_(FILE|FILES|NAME|DIR|LIFETIME|TIMEOUT|URL)$")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(\$\{[^}]*\}|[^@\s]+)@")
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


def problems(doc: dict, *, env_example: str, compose_text: str) -> list[str]:
    """Everything wrong with the compose file, as sentences; empty when it follows our rules."""
    services: dict = doc.get("services") or {}
    found: list[str] = []

    for name in REQUIRED:
        if name not in services:
            found.append(f"service {name} is missing")

    # Only the gateway publishes a port, and by default (no .env, or .env.example's) on this host only.
    for name, service in services.items():
        if service.get("ports") and name != "gateway":
            found.append(f"{name} publishes a port; only the gateway may")
    if not services.get("gateway", {}).get("ports"):
        found.append("the gateway publishes no port")
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
        raw_password = _environment(db).get("POSTGRES_PASSWORD", "")
        password = ",".join(sorted(variables(raw_password))) or raw_password
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
        if not re.match(r"^\d+\.\d+", tag):
            found.append(f"{name}: image {image} is not pinned to a release")

    # Every variable the compose file reads is documented in .env.example, and nothing else is.
    documented = env_example_values(env_example)
    used = variables(compose_text)
    for variable in sorted(used - set(documented)):
        found.append(f"{variable} is used by docker-compose.yml but not documented in .env.example")
    for variable in sorted(set(documented) - used):
        found.append(f"{variable} is in .env.example but docker-compose.yml never reads it")
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
