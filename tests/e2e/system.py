"""The whole system on free ports: gunicorn services, their workers, migrations, nginx from the real template.

Services run in production mode with throwaway secrets and databases: temporary SQLite
files, or fresh PostgreSQL databases when OASIS_TEST_DATABASE_URL is set (and Redis
when OASIS_TEST_REDIS_URL is set).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "gateway"))
sys.path.insert(0, str(REPO / "services" / "common"))

from render import GatewayConfig, build_site, prepare_runtime, render  # noqa: E402

from oasis_common.keys import generate_private_pem  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))

from platform_tools import AFTER_MIGRATE, SERVICE_NAMES, WEB_APPLICATION, django_services  # noqa: E402
from ports import answers_as  # noqa: E402

# Every Django service present in this checkout, in dependency order; OASIS_E2E_SERVICES
# (comma-separated) narrows it, e.g. to work on one service without starting the others.
SERVICES = tuple(
    name
    for name in django_services()
    if name in (os.environ.get("OASIS_E2E_SERVICES") or ",".join(django_services())).split(",")
)
SERVICES_ALL = SERVICE_NAMES

# The statuses a generation ends in (the builder's terminal statuses), for the harness's clients.
TERMINAL_STATUSES = frozenset(
    {
        "done",
        "no_changes",
        "needs_input",
        "proposed",
        "failed",
        "cancelled",
        "conflict",
        "budget_exhausted",
        "incomplete",
    }
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(path)), None
    )


class _Postgres:
    """Creates and drops one database per service on the server in OASIS_TEST_DATABASE_URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def create(self, name: str) -> str:
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        self.created.append(name)
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def terminate(self, name: str) -> int:
        """End every other session on database `name`; how many were ended."""
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    [name],
                )
                return cursor.fetchone()[0]
        finally:
            connection.close()

    def drop_all(self) -> None:
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                for name in self.created:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            connection.close()


class AccessLog:
    """The gateway's JSON access log: what every client was answered."""

    def __init__(self, system: System) -> None:
        self.path = system.root / "gateway" / "access.log"

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def answers_since(self, mark: int) -> list[dict]:
        with self.path.open("rb") as log:
            log.seek(mark)
            lines = log.read().decode(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def server_errors_since(self, mark: int) -> list[dict]:
        return [answer for answer in self.answers_since(mark) if answer["status"] >= 500]


# What ends each message in a file of Django's file email backend.
EMAIL_END = "\n" + "-" * 79 + "\n"


@dataclass
class System:
    root: Path
    services: tuple[str, ...] = SERVICES
    gateway_overrides: dict = field(default_factory=dict)
    env_overrides: dict = field(default_factory=dict)
    # Services that mount the provider-state hook for contract verification (tests/contract):
    # they run in the test environment, since production refuses the hook.
    provider_states: tuple[str, ...] = ()
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Every port this system gave out: a port chosen but not bound yet is free to the OS, not to us.
    given_ports: set[int] = field(default_factory=set)
    gateway_port: int = 0
    dns_port: int = 0
    # Ends the started processes if this process dies without stopping them (reaper.py).
    reaper: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.run_id = secrets.token_hex(4)
        self.key_file = self.root / "keys" / "jwt-signing.pem"
        self.mail_dir = self.root / "mail"
        # Sites writes published sites here and the gateway serves them from here.
        self.sites_store = self.root / "sites-store"
        self.sites_domain = "sites.localhost"
        self.logs = self.root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.client_secrets = {name: secrets.token_urlsafe(24) for name in SERVICES_ALL if name != "auth"}
        # One per service, shared by its processes, as in production: the auth worker signs the
        # reset links that the auth web process checks.
        self.secret_keys = {name: secrets.token_urlsafe(40) for name in SERVICES_ALL}
        database_url = os.environ.get("OASIS_TEST_DATABASE_URL", "").strip()
        self.postgres = _Postgres(database_url) if database_url else None

    # ---- configuration ----

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def service_env(self, service: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OASIS_", "DJANGO_", "DATABASE_URL", "REDIS_URL"))
        }
        env.update(
            {
                "OASIS_ENVIRONMENT": "production",
                "DJANGO_SECRET_KEY": self.secret_keys.get(service) or secrets.token_urlsafe(40),
                "ALLOWED_HOSTS": f"127.0.0.1,localhost,{service}",
                "OASIS_VAR_DIR": str(self.root / "var"),
                "OASIS_JWT_SIGNING_KEY_FILE": str(self.key_file),
                "OASIS_SERVICE_CLIENTS": ",".join(f"{k}={v}" for k, v in self.client_secrets.items()),
                "OASIS_SERVICE_CLIENT_SECRET": self.client_secrets.get(service, ""),
                "OASIS_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OASIS_EMAIL_FILE_PATH": str(self.mail_dir),
                "OASIS_THROTTLE_REGISTER": "100000/hour",
                "OASIS_THROTTLE_REGISTER_NETWORK": "100000/hour",
                "OASIS_THROTTLE_PASSWORD_RESET": "100000/hour",
                "OASIS_THROTTLE_PASSWORD_RESET_CONFIRM": "100000/hour",
                "OASIS_WEB_WORKERS": "2",
                "OASIS_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        for peer in SERVICES_ALL:
            if peer in self.ports:
                env[f"OASIS_{peer.upper()}_URL"] = self.service_url(peer)
        env["DATABASE_URL"] = self.database_urls[service]
        if service == "builder" and getattr(self, "demo_url", ""):
            env["OASIS_DEMO_MODEL_URL"] = f"{self.demo_url}/v1"
        redis_url = os.environ.get("OASIS_TEST_REDIS_URL", "").strip()
        if redis_url:
            env["REDIS_URL"] = redis_url
            env["OASIS_CACHE_KEY_PREFIX"] = f"e2e-{self.run_id}"
        if service == "sites":
            env.update(
                {
                    "OASIS_SITES_STORE": str(self.sites_store),
                    "OASIS_SITES_DOMAIN": self.sites_domain,
                    "OASIS_SITES_SCHEME": "http",  # the harness's gateway has no TLS
                    "OASIS_PUBLIC_URL": self.url,
                    # Custom domains are checked against a DNS server a test starts here, never the internet.
                    "OASIS_SITES_DNS_NAMESERVERS": f"127.0.0.1:{self.dns_port}",
                    "OASIS_SITES_DNS_TIMEOUT": "2",
                }
            )
        if service in self.provider_states:
            env.update({"OASIS_ENVIRONMENT": "test", "OASIS_PROVIDER_STATES": "1"})
        env.update(self.env_overrides.get(service, {}))
        return env

    # ---- lifecycle ----

    @contextmanager
    def running(self) -> Iterator[System]:
        """The system started, and stopped however the block ends (a start that fails half-way too)."""
        try:
            self.start()
            yield self
        finally:
            self.stop()

    def start(self) -> System:
        nginx = nginx_binary()
        if nginx is None:
            raise RuntimeError("nginx is not installed: apt-get install -y nginx")
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        self.key_file.write_bytes(generate_private_pem())
        self.ports = {service: self.free_port() for service in self.services}
        self.gateway_port = self.free_port()
        self.dns_port = free_udp_port()
        self.database_urls = {service: self._database(service) for service in self.services}
        if "builder" in self.services:
            self._start_demo_model()
        for service in self.services:
            self._manage(service, "migrate", "--no-input", "-v", "0")
            self._manage(service, "createcachetable")
            for command in AFTER_MIGRATE.get(service, ()):
                self._manage(service, *command)
        for service in self.services:
            self._spawn_web(service)
        if "auth" in self.services:
            self.start_auth_worker()
        if "builder" in self.services:
            self.start_builder_worker()
        self._start_gateway(nginx)
        self.wait_ready()
        return self

    def _spawn_web(self, service: str) -> None:
        self._spawn(
            service,
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "python:oasis_common.gunicorn_conf",
                "--chdir",
                str(REPO / "services" / service),
                "--bind",
                f"127.0.0.1:{self.ports[service]}",
                *WEB_APPLICATION.get(service, ["config.wsgi"]),
            ],
            env=self.service_env(service),
        )

    def start_service(self, service: str) -> None:
        """A service's web processes again on its own port, after stop_process; returns once it is ready."""
        self._spawn_web(service)
        self._wait_service(service)

    def free_port(self) -> int:
        """A port free now and not given to another of this system's processes."""
        while (port := free_port()) in self.given_ports:
            pass
        self.given_ports.add(port)
        return port

    def pid(self, name: str) -> int:
        """The id of a started process: the leader of the process group that stop_process signals."""
        return self.processes[name].pid

    def start_redis(self, name: str = "redis", port: int | None = None) -> str:
        """A private redis-server (no persistence) on a free port, or on `port` to bring it back; its URL.

        For tests that kill Redis: the system uses it when `env_overrides` give it as REDIS_URL.
        """
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        port = port or self.free_port()
        self._spawn(
            name,
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
            cwd=self.root,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.log(name)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return f"redis://127.0.0.1:{port}/0"
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{name} did not answer on port {port}:\n{self.log(name)}")

    def terminate_connections(self, service: str) -> int:
        """Drop every connection to `service`'s own test database (PostgreSQL only), as a failover would.

        Filtered by that database's name, so nothing else on the server is touched; returns how many.
        """
        if self.postgres is None:
            raise RuntimeError("terminate_connections needs OASIS_TEST_DATABASE_URL (PostgreSQL)")
        return self.postgres.terminate(urlsplit(self.database_urls[service]).path.lstrip("/"))

    def _start_demo_model(self) -> None:
        self.demo_url = self.start_demo_model()
        self.demo_port = urlsplit(self.demo_url).port

    def start_demo_model(self, name: str = "demo-model", env: dict | None = None) -> str:
        """A demo model on a free port (the builder's, or another with `env` settings); returns its URL."""
        port = self.free_port()
        process_env = {
            **os.environ,
            "PYTHONPATH": str(REPO / "services" / "demo_model"),
            "OASIS_DEMO_HOST": "127.0.0.1",
            "OASIS_DEMO_PORT": str(port),
            **self.env_overrides.get(name, {}),
            **(env or {}),
        }
        self._spawn(name, [sys.executable, "-m", "oasis_demo_model"], env=process_env)
        url = f"http://127.0.0.1:{port}"
        self._wait(f"{url}/healthz", name)
        return url

    def start_auth_worker(self, name: str = "auth-worker") -> subprocess.Popen:
        """The worker that sends the emails auth queues (the password reset links), as in production."""
        self._spawn(
            name,
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--queue-name",
                "emails",
                "--interval",
                "0.1",
                "--no-startup-delay",
                "--no-reload",
            ],
            env=self.service_env("auth"),
            cwd=REPO / "services" / "auth",
        )
        return self.processes[name]

    def start_builder_worker(
        self, name: str = "builder-worker", *, threads: int = 4, env: dict | None = None
    ) -> subprocess.Popen:
        self._spawn(
            name,
            [sys.executable, "manage.py", "generation_worker", "--threads", str(threads), "--grace", "5"],
            env={**self.service_env("builder"), **(env or {})},
            cwd=REPO / "services" / "builder",
        )
        return self.processes[name]

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Signal one started process (its whole group) and wait for it; SIGKILL plays a crash."""
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self._list_for_reaper()

    def emails_to(self, address: str) -> list[str]:
        """Every email the system has sent to `address`, oldest first.

        Django's file backend writes each connection's messages to one file, named after the
        second and the backend object's id, which a later connection in the same second can
        reuse: one file may hold several people's messages, each ending in a line of dashes.
        """
        files = sorted(self.mail_dir.glob("*.log"), key=lambda path: path.stat().st_mtime)
        messages = [message for path in files for message in path.read_text().split(EMAIL_END)]
        return [
            message
            for message in messages
            if any(line.startswith("To: ") and address in line for line in message.splitlines())
        ]

    def manage(self, service: str, *args: str, env: dict | None = None) -> str:
        """Run a management command of a running service, e.g. a sweeper; returns its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO / "services" / service,
            env={**self.service_env(service), **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{service} manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def _database(self, service: str) -> str:
        if self.postgres:
            return self.postgres.create(f"oasis_e2e_{service}_{self.run_id}")
        return f"sqlite:///{self.root / 'db' / f'{service}.sqlite3'}"

    def _manage(self, service: str, *args: str) -> None:
        (self.root / "db").mkdir(exist_ok=True)
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO / "services" / service,
            env=self.service_env(service),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{service} manage.py {' '.join(args)} failed:\n{result.stderr}")

    def _spawn(self, name: str, command: list[str], *, env: dict | None = None, cwd=None) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._list_for_reaper()

    def _list_for_reaper(self) -> None:
        """Tell the reaper (started with the first process) which process groups are ours now."""
        groups_file = self.root / "process-groups"
        if self.reaper is None:
            self.reaper = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("reaper.py")), str(groups_file)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        listed = groups_file.with_suffix(".new")
        listed.write_text("".join(f"{p.pid}\n" for p in self.processes.values() if p.poll() is None))
        listed.replace(groups_file)

    def gateway_config(self, **overrides) -> GatewayConfig:
        runtime = self.root / "gateway"
        values = {
            "runtime_dir": runtime,
            "site_root": runtime / "site",
            "upstreams": {service: f"127.0.0.1:{port}" for service, port in self.ports.items()},
            "listen": f"127.0.0.1:{self.gateway_port}",
            "cors_origins": ["http://app.example.test"],
            "auth_rate": "50r/s",
            "auth_burst": 100,
            "api_rate": "200r/s",
            "api_burst": 400,
            "access_log": f"{runtime}/access.log oasis_json",
            "worker_processes": "2",
            "user": "root" if os.geteuid() == 0 else "",
        }
        if "sites" in self.ports:
            values.update({"sites_store": str(self.sites_store), "sites_domain": self.sites_domain})
        values.update(self.gateway_overrides)
        values.update(overrides)
        return GatewayConfig(**values)

    def _start_gateway(self, nginx: str, name: str = "gateway", config: GatewayConfig | None = None) -> Path:
        config = config or self.gateway_config()
        prepare_runtime(config)
        build_site(config.site_root)
        conf = config.runtime_dir / "nginx.conf"
        conf.write_text(render(config))
        self._spawn(name, [nginx, "-p", str(config.runtime_dir), "-c", str(conf)])
        return conf

    def start_extra_gateway(self, name: str, **overrides) -> str:
        """Another gateway over the same services, e.g. with a dead upstream."""
        port = self.free_port()
        config = self.gateway_config(
            runtime_dir=self.root / name,
            site_root=self.root / name / "site",
            listen=f"127.0.0.1:{port}",
            access_log=f"{self.root / name}/access.log oasis_json",
            **overrides,
        )
        self._start_gateway(nginx_binary(), name, config)
        url = f"http://127.0.0.1:{port}"
        self._wait(f"{url}/healthz", name)
        return url

    def wait_ready(self, timeout: float = 60) -> None:
        for service in self.services:
            self._wait_service(service, timeout)
        self._wait(f"{self.url}/healthz", "gateway", timeout)

    def _wait_service(self, service: str, timeout: float = 60) -> None:
        """Ready, and the server on its port is that service (another there would take its requests)."""
        self._wait(f"{self.service_url(service)}/readyz", service, timeout)
        if not answers_as(service, self.ports[service]):
            raise RuntimeError(
                f"port {self.ports[service]} of {service} is answered by another server:\n{self.log(service)}"
            )

    def _wait(self, url: str, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.log(name)}")
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready at {url}:\n{self.log(name)}")

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.reaper is not None:
            self.reaper.kill()
            self.reaper.wait()
            self.reaper.stdin.close()
            self.reaper = None
        if self.postgres:
            self.postgres.drop_all()
