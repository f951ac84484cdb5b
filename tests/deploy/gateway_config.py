"""Render the gateway's nginx config as its image does at start, then have nginx check it.

The environment is the one the container gets: the image's ENV, then what compose or the
Kubernetes manifests set. nginx resolves upstream host names while it checks the config;
those names exist only inside compose's network or the cluster, so the check maps them to
127.0.0.1 in a private mount namespace (or, where that is not permitted, rewrites them).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from . import dockerfile_rules
from .compose_rules import env_example_values, interpolate
from .tools import REPO, Result, run

sys.path.insert(0, str(REPO / "gateway"))

import render as renderer
from render import GatewayConfig

RENDERER = REPO / "gateway" / "render.py"
UPSTREAM_SERVER = re.compile(r"^(\s*server\s+)([A-Za-z0-9.-]+):(\d+)(.*)$", re.M)
# An upstream passed through a variable, which nginx resolves again while it runs.
UPSTREAM_VARIABLE = re.compile(
    r'^\s*map "" \$oasis_upstream_\w+ \{\s*default "([A-Za-z0-9.-]+):(\d+)";', re.M
)
RESOLVER = re.compile(r"^\s*resolver\s+([^;]*?)\s+valid=(\d+)s\b[^;]*;", re.M)
STATIC_HOST = re.compile(r"^(localhost|[0-9.]+)$")
IMAGE_ONLY = ("PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")


def image_env() -> dict[str, str]:
    env = dockerfile_rules.final_env(REPO / "gateway" / "Dockerfile")
    return {k: v for k, v in env.items() if k not in IMAGE_ONLY}


def compose_env(compose: dict, env_example: str) -> dict[str, str]:
    dotenv = env_example_values(env_example)
    environment = compose["services"]["gateway"].get("environment") or {}
    return {**image_env(), **{k: interpolate(str(v), dotenv) for k, v in environment.items()}}


def kubernetes_env(docs: list[dict]) -> dict[str, str]:
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "gateway")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    config_maps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
    env = image_env()
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def render(env: dict[str, str], runtime: Path) -> tuple[Result, Path]:
    """What the image's CMD runs first, in a scratch runtime directory."""
    config = runtime / "nginx.conf"
    run_env = {
        **env,
        "OASIS_GATEWAY_RUNTIME_DIR": str(runtime),
        "OASIS_GATEWAY_SITE_ROOT": str(runtime / "site"),
        "PATH": os.environ.get("PATH", ""),
    }
    result = run([sys.executable, str(RENDERER), "--config", str(config), "--no-site"], env=run_env)
    return result, config


def upstreams(config_text: str) -> list[tuple[str, int]]:
    """Every service address the config proxies to: in upstream blocks, or looked up again."""
    fixed = [(m.group(2), int(m.group(3))) for m in UPSTREAM_SERVER.finditer(config_text)]
    return fixed + [(m.group(1), int(m.group(2))) for m in UPSTREAM_VARIABLE.finditer(config_text)]


def resolved_again(config_text: str) -> bool:
    """Whether nginx looks upstream names up again while it runs (every 10 s at most)."""
    found = RESOLVER.search(config_text)
    return bool(found) and int(found.group(2)) <= 10


def problems(
    config_text: str, *, services: dict[str, set[int]], container_port: int, custom_domains_port: int = 0
) -> list[str]:
    """Our rules for a rendered config: upstreams that exist, a port a non-root nginx can open.

    `custom_domains_port`: the second port a gateway publishes for custom domains (sites in a bucket).
    """
    found = []
    for host, port in upstreams(config_text):
        if host not in services:
            found.append(f"upstream {host}:{port} is not a service of this deployment")
        elif port not in services[host]:
            found.append(f"upstream {host}:{port}: {host} listens on {sorted(services[host])}")
    # A recreated container or Service has a new address: a name resolved once, at start, would
    # be kept until a restart of the gateway.
    for m in UPSTREAM_SERVER.finditer(config_text):
        if not STATIC_HOST.match(m.group(2)):
            found.append(
                f"upstream {m.group(2)}:{m.group(3)} is resolved once, at start; "
                "set OASIS_GATEWAY_RESOLVER so nginx follows a recreated service"
            )
    if UPSTREAM_VARIABLE.search(config_text) and not resolved_again(config_text):
        found.append("upstreams are looked up while nginx runs, but no resolver (valid at most 10 s) is set")
    listens = [int(p) for p in re.findall(r"^\s*listen\s+(\d+)", config_text, re.M)]
    # Several servers (the API's, published sites') may share the one port.
    published = {container_port, custom_domains_port} - {0}
    if set(listens) != published:
        found.append(f"nginx listens on {listens}, the container publishes {sorted(published)}")
    if any(port < 1024 for port in listens):
        found.append("nginx listens below 1024, which a non-root process cannot")
    if re.search(r"^\s*user\s", config_text, re.M):
        found.append("the config sets `user`: the master runs as the image's non-root user instead")
    return found


@contextmanager
def running_nginx(prefix: Path, conf: str, url: str) -> Iterator[subprocess.Popen]:
    """A real nginx with `conf` under `prefix`, answering `url`/healthz; stopped on the way out."""
    nginx = find_nginx()
    if nginx is None:
        pytest.fail("nginx is not installed; `make test` installs Debian's nginx (apt-get install nginx)")
    (prefix / "nginx.conf").write_text(conf)
    errors = (prefix / "error.log").open("wb")
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", "nginx.conf"], stdout=errors, stderr=errors)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None, (prefix / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        errors.close()


def stand_in_config(tmp_path: Path, upstreams: dict[str, str], resolver: list[str] = ()) -> GatewayConfig:
    """The gateway's config in front of stand-in services: one worker, no access log, a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return GatewayConfig(
        runtime_dir=tmp_path,
        site_root=tmp_path / "site",
        upstreams=upstreams,
        resolver=list(resolver),
        listen=f"127.0.0.1:{port}",
        access_log="off",
        worker_processes="1",
        user="root" if os.geteuid() == 0 else "",
    )


@contextmanager
def stand_in_gateway(tmp_path: Path, config: GatewayConfig) -> Iterator[tuple[str, subprocess.Popen]]:
    """The real gateway, rendered from `config`, running: its URL and its nginx process."""
    renderer.prepare_runtime(config)
    config.site_root.mkdir(parents=True, exist_ok=True)
    url = f"http://{config.listen}"
    with running_nginx(tmp_path, renderer.render(config), url) as process:
        yield url, process


@contextmanager
def served(server: ThreadingHTTPServer) -> Iterator[None]:
    """A stand-in service answering on its own thread until the block ends."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def _unshare_prefix() -> list[str]:
    return ["unshare", "--mount", *([] if os.geteuid() == 0 else ["--map-root-user"])]


@functools.cache
def private_hosts_file_works() -> bool:
    """Whether this machine lets us bind-mount a hosts file in a private mount namespace."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        [*_unshare_prefix(), "sh", "-c", "mount --bind /etc/hosts /etc/hosts"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def nginx_test(nginx: str, config: Path, hostnames: set[str]) -> Result:
    """`nginx -t` on the config, with the deployment's service names resolving to 127.0.0.1."""
    prefix = config.parent
    if private_hosts_file_works():
        hosts = prefix / "hosts"
        hosts.write_text("127.0.0.1 localhost " + " ".join(sorted(hostnames)) + "\n")
        command = [nginx, "-t", "-e", "stderr", "-p", str(prefix), "-c", config.name]
        return run(
            [
                *_unshare_prefix(),
                "sh",
                "-c",
                'mount --bind "$0" /etc/hosts && exec "$@"',
                str(hosts),
                *command,
            ]
        )
    resolved = prefix / "nginx-resolved.conf"
    resolved.write_text(
        UPSTREAM_SERVER.sub(
            lambda m: (
                m.group(0).replace(f"{m.group(2)}:", "127.0.0.1:", 1)
                if m.group(2) in hostnames
                else m.group(0)
            ),
            config.read_text(),
        )
    )
    return run([nginx, "-t", "-e", "stderr", "-p", str(prefix), "-c", resolved.name])
