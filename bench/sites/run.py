"""Visitors of a published site through the gateway beside a plain nginx on the same files; publish time.

Starts auth, projects and sites with the gateway as the end-to-end tests do
(tests/e2e/system.py), publishes a 20-file site through the API, then loads, one after the
other and for --duration seconds each at --connections: the gateway at `<slug>.<domain>`,
the gateway at `/s/<slug>/`, and a plain nginx (a minimal config rendered here: the
deployment's folder as its root, the same worker count) serving the same files from disk.
Every request names one of the 20 files in turn. Prints requests per second, p50 and p99
latency and the ratio to plain nginx; then times publishing a --publish-files project
through the API (the project is imported from a zip first). Loopback only. See README.md:

    apt-get install -y wrk          # else a bounded Python load generator is used
    .venv/bin/python bench/sites/run.py
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e.buckets import S3, bucket_system, s3_server  # noqa: E402
from tests.e2e.system import System, free_port, nginx_binary  # noqa: E402

PASSWORD = "a perfectly long passphrase"
WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def site_files() -> dict[str, str]:
    """Twenty files of the sizes a small generated site has: pages, styles, scripts, data, an icon."""
    style = "".join(
        f".block-{n} {{ padding: {n % 13}px; color: #{n * 2654435761 % 0xFFFFFF:06x}; }}\n"
        for n in range(300)
    )
    script = "".join(f"function step{n}(x) {{ return x * {n} + {n % 7}; }}\n" for n in range(200))
    files = {
        "index.html": "<!doctype html><title>Crumb</title><link rel=stylesheet href=/style.css>"
        + "<p>Bread</p>" * 200,
        "style.css": style,
        "app.js": script,
        "data/menu.json": "[" + ",".join(f'{{"item": "Loaf {n}", "price": {n}}}' for n in range(150)) + "]",
        "favicon.svg": "<svg xmlns='http://www.w3.org/2000/svg'><circle cx='8' cy='8' r='7'/></svg>",
        "robots.txt": "User-agent: *\nAllow: /\n",
    }
    for n in range(14):
        files[f"pages/page-{n}/index.html"] = (
            f"<!doctype html><title>Page {n}</title>" + f"<p>Section {n}</p>" * 60
        )
    assert len(files) == 20
    return files


def plain_files(root: Path, files: dict[str, str]) -> Path:
    """The site's files in a folder of their own, for the plain nginx (the same bytes as published)."""
    folder = root / "plain-files"
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def url_paths(files: dict[str, str]) -> list[str]:
    return ["/" + path.removesuffix("index.html") for path in files]


# ---- the system, the site, and a plain nginx ----


class Bench:
    def __init__(self, root: Path, s3: S3 | None = None) -> None:
        bucket = bucket_system(s3, cache_seconds=2, custom_domains_port=free_port()) if s3 else {}
        in_bucket = bucket.get("env_overrides", {}).get("sites", {})
        self.system = System(
            root=root / "system",
            services=("auth", "projects", "sites"),
            gateway_overrides={"access_log": "off", **bucket.get("gateway_overrides", {})},
            env_overrides={
                "sites": {"OASIS_MAX_FILES_PER_DEPLOYMENT": "5000", **in_bucket},
                "projects": {"OASIS_MAX_FILES_PER_PROJECT": "5000"},
            },
        )
        self.root = root
        self.auth: dict = {}

    def start(self) -> None:
        self.system.start()
        gateway = self.system.url
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        requests.post(
            f"{gateway}/api/v1/auth/register/", json={"email": email, "password": PASSWORD}, timeout=60
        ).raise_for_status()
        token = requests.post(
            f"{gateway}/api/v1/auth/token/", json={"email": email, "password": PASSWORD}, timeout=60
        )
        token.raise_for_status()
        self.auth = {"Authorization": f"Bearer {token.json()['access']}"}

    def api(self, method: str, path: str, **kwargs) -> dict:
        response = requests.request(
            method, f"{self.system.url}{path}", headers=self.auth, timeout=300, **kwargs
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def imported_project(self, files: dict[str, str], name: str) -> dict:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path, text in files.items():
                zipped.writestr(path, text)
        return self.api(
            "POST",
            "/api/v1/projects/import/",
            files={"file": (f"{name}.zip", archive.getvalue(), "application/zip")},
            data={"name": name},
        )

    def published_site(self, files: dict[str, str], name: str) -> tuple[dict, dict, float]:
        """A site of a new project holding `files`, published; and how long the publish took."""
        project = self.imported_project(files, name)
        site = self.api(
            "POST",
            "/api/v1/sites/",
            json={"project_id": project["id"], "slug": f"{name}-{uuid.uuid4().hex[:6]}"},
        )
        started = time.perf_counter()
        deployment = self.api("POST", f"/api/v1/sites/{site['id']}/deployments/", json={})
        return site, deployment, time.perf_counter() - started

    def plain_nginx(self, root: Path) -> tuple[subprocess.Popen, str]:
        """nginx as anyone would configure it for a folder of static files: sendfile, ETags, index.html."""
        runtime = self.root / "plain-nginx"
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (runtime / sub).mkdir(parents=True, exist_ok=True)
        port = free_port()
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = runtime / "nginx.conf"
        config.write_text(
            f"""{user}worker_processes 2;
pid {runtime}/nginx.pid;
error_log stderr warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    access_log off;
    client_body_temp_path {runtime}/client_body;
    proxy_temp_path {runtime}/proxy;
    fastcgi_temp_path {runtime}/fastcgi;
    uwsgi_temp_path {runtime}/uwsgi;
    scgi_temp_path {runtime}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ try_files $uri $uri/index.html =404; }}
    }}
}}
"""
        )
        log = (runtime / "nginx.log").open("ab")
        process = subprocess.Popen(
            [nginx_binary(), "-p", str(runtime), "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/robots.txt", timeout=1)
                return process, url
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the plain nginx did not start")


# ---- load ----


def load_wrk(url: str, paths: list[str], host: str | None, args) -> dict:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    quoted = ", ".join(f'"{path}"' for path in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n"
    )
    command = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{args.duration}s",
        "--latency",
        "-s",
        str(script),
    ]
    if host:
        command += ["-H", f"Host: {host}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=args.duration + 30, check=True
    ).stdout
    script.unlink()
    latency = {int(pct): float(value) * UNITS[unit] for pct, value, unit in WRK_LATENCY.findall(output)}
    errors = sum(int(a or 0) + (1 if b else 0) for a, b in WRK_ERRORS.findall(output))
    return {
        "rps": float(WRK_RATE.search(output).group(1)),
        "p50": latency[50],
        "p99": latency[99],
        "errors": errors,
    }


def load_python(url: str, paths: list[str], host: str | None, args) -> dict:
    """Keep-alive connections from threads, each bounded by time and by count; far slower than wrk."""
    address = url.removeprefix("http://")
    deadline = time.monotonic() + args.duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection(address, timeout=10)
        mine = []
        for n in range(args.max_requests // args.connections):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            connection.request(
                "GET", paths[(offset + n) % len(paths)], headers={"Host": host} if host else {}
            )
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "errors": errors[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target (10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (1: the machine's other core serves)"
    )
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap for the Python load generator")
    parser.add_argument(
        "--publish-files", type=int, default=2000, help="files of the project whose publish is timed"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and store (the path is printed)")
    parser.add_argument(
        "--store",
        choices=("files", "bucket"),
        default="files",
        help="files: the gateway serves the store's tree; bucket: an S3 server, the gateway asking sites",
    )
    args = parser.parse_args()
    if shutil.which("wrk"):
        load, generator = load_wrk, "wrk"
    else:
        print("wrk is not installed (apt-get install -y wrk); using the slower Python load generator")
        load, generator = load_python, "python"

    with contextlib.ExitStack() as stack:
        s3 = stack.enter_context(s3_server("oasis-bench-sites")) if args.store == "bucket" else None
        return run(args, load, generator, s3)


def run(args, load, generator: str, s3: S3 | None) -> int:
    root = Path(tempfile.mkdtemp(prefix="oasis-bench-sites-"))
    bench = Bench(root, s3)
    plain = None
    try:
        bench.start()
        files = site_files()
        site, _, _ = bench.published_site(files, "bench")
        paths = url_paths(files)
        plain, plain_url = bench.plain_nginx(plain_files(root, files))
        host = f"{site['slug']}.{bench.system.sites_domain}"
        for path in paths:
            response = requests.get(f"{bench.system.url}{path}", headers={"Host": host}, timeout=10)
            assert response.status_code == 200, (path, response.status_code)

        targets = [
            ("plain nginx, same files", plain_url, paths, None),
            (f"gateway, {host}", bench.system.url, paths, host),
            (
                f"gateway, /s/{site['slug']}/",
                bench.system.url,
                [f"/s/{site['slug']}{path}" for path in paths],
                None,
            ),
        ]
        # A short warm-up each, then the targets in turn and again in reverse order, so a neighbour's
        # burst of load on a shared machine does not fall on one target only.
        for _, url, target_paths, target_host in targets:
            load(url, target_paths, target_host, argparse.Namespace(**{**vars(args), "duration": 2}))
        rounds = {name: [] for name, *_ in targets}
        for order in (targets, targets[::-1]):
            for name, url, target_paths, target_host in order:
                rounds[name].append(load(url, target_paths, target_host, args))
        baseline = sum(r["rps"] for r in rounds[targets[0][0]]) / 2
        print(f"\n{generator}, {args.connections} connections, {args.duration}s a target a round")
        print(f"store: {args.store}\n")
        print("| target | requests/s (mean of 2 rounds) | ratio | p50 ms | p99 ms (worse round) | errors |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, results in rounds.items():
            rps = sum(r["rps"] for r in results) / 2
            print(
                f"| {name} | {rps:,.0f} | {rps / baseline:.2f} | {max(r['p50'] for r in results):.2f} | "
                f"{max(r['p99'] for r in results):.2f} | {sum(r['errors'] for r in results)} |"
            )

        many = {
            f"pages/p{n // 100}/file-{n}.html": f"<p>File {n} of the big site</p>" * 20
            for n in range(args.publish_files - 1)
        }
        many["index.html"] = "<h1>Big</h1>"
        big_site, big, seconds = bench.published_site(many, "big")
        print(f"\npublish of a {big['file_count']}-file project through the API: {seconds:.2f} s")
        bench.api(
            "POST",
            f"/api/v1/projects/{big_site['project_id']}/changes/",
            json={"writes": [{"path": "index.html", "text": "<h1>Bigger</h1>"}]},
        )
        started = time.perf_counter()
        bench.api("POST", f"/api/v1/sites/{big_site['id']}/deployments/", json={})
        print(f"publish again after a one-file edit: {time.perf_counter() - started:.2f} s")
        return 0
    finally:
        if plain is not None:
            plain.terminate()
            plain.wait(timeout=10)
        bench.system.stop()
        if args.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
