"""The real gateway (nginx, rendered from gateway/nginx.conf.j2) in front of a stand-in auth and service.

For the gateway → auth contract, nginx is the consumer: its `auth_request` asks auth's
`/internal/v1/verify`, then passes `X-User-Id` and the JWT from `X-Oasis-Token` upstream.
Here auth is Pact's mock server and the upstream service is `Echo`, which answers with the
headers nginx sent it.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

# The e2e harness loads the gateway's renderer (gateway/render.py); the same one renders nginx here.
from tests.e2e.system import GatewayConfig, free_port, nginx_binary, prepare_runtime, render


class _EchoHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def echo_service():
    """host:port of a service that answers every GET with the request headers it received."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def gateway(root: Path, *, auth: str, projects: str):
    """The gateway's base URL, with auth and projects at these host:port addresses."""
    nginx = nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx is not installed: apt-get install -y nginx")
    port = free_port()
    config = GatewayConfig(
        runtime_dir=root,
        site_root=root / "site",
        upstreams={"auth": auth, "projects": projects},
        listen=f"127.0.0.1:{port}",
        access_log="off",
        worker_processes="1",
        user="root" if os.geteuid() == 0 else "",
    )
    prepare_runtime(config)
    config.site_root.mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(render(config))
    log = (root / "nginx.log").open("ab")
    process = subprocess.Popen(
        [nginx, "-p", str(root), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{url}/healthz", process, root / "nginx.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(url: str, process: subprocess.Popen, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited early:\n{log.read_text()}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not start:\n{log.read_text()}")
