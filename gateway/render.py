"""Render the gateway's nginx config (and its static site) from the environment.

Used by `make dev`, the end-to-end tests, the gateway image and Kubernetes alike:

    python gateway/render.py --config var/gateway/nginx.conf --site var/gateway/site

Variables (all optional): OASIS_GATEWAY_LISTEN (8080), OASIS_<SERVICE>_UPSTREAM
(host:port of auth, projects, payments, builder; a service without one is not
routed; auth defaults to 127.0.0.1:8001), OASIS_CORS_ORIGINS (comma-separated),
OASIS_GATEWAY_AUTH_CACHE_SECONDS (3, at most 5), OASIS_GATEWAY_AUTH_RATE (10r/s),
OASIS_GATEWAY_AUTH_BURST (20), OASIS_GATEWAY_API_RATE (50r/s), OASIS_GATEWAY_API_BURST
(100), OASIS_GATEWAY_BODY_LIMIT (1m), OASIS_GATEWAY_RUNTIME_DIR, OASIS_GATEWAY_SITE_ROOT,
OASIS_GATEWAY_STUDIO_DIST (web/dist: the studio copied to /studio/), OASIS_PREVIEW_ORIGIN (the
previews' own origin, which the studio may frame),
OASIS_GATEWAY_MIME_TYPES, OASIS_GATEWAY_USER, OASIS_GATEWAY_FORWARDED_PROTO ($scheme),
OASIS_GATEWAY_WORKERS (auto), OASIS_GATEWAY_ACCESS_LOG (/dev/stdout oasis_json),
OASIS_GATEWAY_REAL_IP_FROM (comma-separated addresses or networks of trusted proxies in front
of the gateway; their X-Forwarded-For then names the client), OASIS_SITES_STORE (the site
store nginx serves published sites from; unset: no sites are served), OASIS_SITES_DOMAIN
(sites answer at <slug>.<domain>; unset: only at /s/<slug>/ and verified custom domains),
OASIS_GATEWAY_RESOLVER (the DNS servers nginx asks, again every 5 s, for upstreams named by host:
addresses such as 127.0.0.11, Docker's; `system`: the nameservers of /etc/resolv.conf, with a
bare name completed by its first search domain, as in a Kubernetes pod; `off`: names are resolved
once, at start; unset: `system` when an upstream is a host name other than localhost),
OASIS_GATEWAY_RESOLV_CONF (/etc/resolv.conf: where `system` finds them).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

GATEWAY_DIR = Path(__file__).resolve().parent
REPO_ROOT = GATEWAY_DIR.parent
sys.path.insert(0, str(GATEWAY_DIR))

from routes import ROUTES, Route  # noqa: E402

MAX_AUTH_CACHE_SECONDS = 5
# A publish, rollback or takedown reaches visitors of a bucket store within this long at most.
MAX_SITES_CACHE_SECONDS = 60
RATE = re.compile(r"^\d+r/[sm]$")
SIZE = re.compile(r"^\d+[kKmMgG]?$")
LISTEN = re.compile(r"^([0-9.]+:)?\d{1,5}$")
UPSTREAM = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d+$")
NETWORK = re.compile(r"^[0-9A-Fa-f.:]+(/\d{1,3})?$")
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
# The store is written into nginx directives and regular expressions: a plain absolute path.
STORE_PATH = re.compile(r"^/[A-Za-z0-9._/\-]*$")
# An upstream nginx resolves once, at start, without a resolver: an address, or this machine.
STATIC_HOST = re.compile(r"^(localhost|[0-9.]+|\[[0-9A-Fa-f:.]+\])$")
RESOLVER_ADDRESS = re.compile(r"^([0-9.]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)(:\d+)?$")
RESOLV_CONF = Path("/etc/resolv.conf")
DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
# The studio (web/), built by npm; the gateway serves it at /studio/.
STUDIO_DIST = Path(os.environ.get("OASIS_GATEWAY_STUDIO_DIST") or REPO_ROOT / "web" / "dist")
DOCUMENTED_PATH = re.compile(r"^  '?(/[^\s':]*)'?:\s*$", re.MULTILINE)


class ConfigError(ValueError):
    pass


@dataclass
class GatewayConfig:
    runtime_dir: Path
    site_root: Path
    upstreams: dict[str, str] = field(default_factory=lambda: {"auth": "127.0.0.1:8001"})
    listen: str = "8080"
    # Several gateways share one network namespace and its published port (compose's start-first
    # replacement): each listens with SO_REUSEPORT, and answers its own health check on a Unix
    # socket in its runtime directory, which no other gateway can answer for it.
    reuseport: bool = False
    cors_origins: list[str] = field(default_factory=list)
    auth_cache_seconds: int = 3
    auth_rate: str = "10r/s"
    auth_burst: int = 20
    api_rate: str = "50r/s"
    api_burst: int = 100
    body_limit: str = "1m"
    read_timeout: str = "60s"
    stream_timeout: str = "3600s"
    mime_types: str = "/etc/nginx/mime.types"
    access_log: str = "/dev/stdout oasis_json"
    error_log_level: str = "warn"
    worker_processes: str = "auto"
    forwarded_proto: str = "$scheme"
    user: str = ""
    real_ip_from: list[str] = field(default_factory=list)
    # Where previews are served when not on this origin: the studio frames them.
    preview_origin: str = ""
    sites_store: str = ""
    sites_domain: str = ""
    # Sites from a bucket (OASIS_SITES_BUCKET set): the sites service answers for each file, kept
    # this many seconds in a cache of at most this size; custom domains on their own port.
    sites_bucket: bool = False
    sites_cache_seconds: int = 2
    sites_cache_size: str = "1g"
    sites_listen: str = ""
    # DNS servers nginx asks again (every second) for upstreams named by host; empty: resolved at start.
    resolver: list[str] = field(default_factory=list)
    # Appended to a bare upstream name (Kubernetes: <namespace>.svc.cluster.local); empty: none.
    search_domain: str = ""

    def validate(self) -> None:
        if "auth" not in self.upstreams:
            raise ConfigError("The gateway needs the auth upstream to check tokens")
        if not 0 <= self.auth_cache_seconds <= MAX_AUTH_CACHE_SECONDS:
            raise ConfigError(f"The token check may be cached at most {MAX_AUTH_CACHE_SECONDS}s")
        for name, address in self.upstreams.items():
            if not UPSTREAM.match(address):
                raise ConfigError(f"Upstream for {name} must be host:port, not {address!r}")
        for rate in (self.auth_rate, self.api_rate):
            if not RATE.match(rate):
                raise ConfigError(f"Rates look like 10r/s, not {rate!r}")
        if not SIZE.match(self.body_limit):
            raise ConfigError(f"Body limits look like 1m, not {self.body_limit!r}")
        for network in self.real_ip_from:
            if not NETWORK.match(network):
                raise ConfigError(f"Trusted proxies look like 10.0.0.0/8 or 192.168.1.5, not {network!r}")
        if self.preview_origin and not ORIGIN.match(self.preview_origin):
            raise ConfigError(f"Preview origins look like https://p.example.com, not {self.preview_origin!r}")
        for origin in self.cors_origins:
            if not ORIGIN.match(origin):
                raise ConfigError(f"CORS origins look like https://app.example.com, not {origin!r}")
        if self.sites_store and not STORE_PATH.match(self.sites_store):
            raise ConfigError(f"The site store is an absolute path like /srv/sites, not {self.sites_store!r}")
        if self.sites_domain and not DOMAIN.match(self.sites_domain):
            raise ConfigError(f"The sites domain looks like sites.example.com, not {self.sites_domain!r}")
        for address in self.resolver:
            if not RESOLVER_ADDRESS.match(address):
                raise ConfigError(f"Resolvers are addresses such as 127.0.0.11, not {address!r}")
        if self.search_domain and not DOMAIN.match(self.search_domain):
            raise ConfigError(
                f"The search domain looks like oasis.svc.cluster.local, not {self.search_domain!r}"
            )
        if self.sites_domain and not (self.sites_store or self.sites_bucket):
            raise ConfigError(
                "OASIS_SITES_DOMAIN needs OASIS_SITES_STORE or OASIS_SITES_BUCKET, where its sites are"
            )
        self._validate_bucket()

    def _validate_bucket(self) -> None:
        if not self.sites_bucket:
            if self.sites_listen:
                raise ConfigError("OASIS_GATEWAY_SITES_LISTEN is for sites in a bucket (OASIS_SITES_BUCKET)")
            return
        if self.sites_store:
            raise ConfigError("Set OASIS_SITES_STORE or OASIS_SITES_BUCKET, not both")
        if "sites" not in self.upstreams:
            raise ConfigError("Sites in a bucket are served by the sites service: set OASIS_SITES_UPSTREAM")
        if not 1 <= self.sites_cache_seconds <= MAX_SITES_CACHE_SECONDS:
            raise ConfigError(f"Site answers may be kept 1 to {MAX_SITES_CACHE_SECONDS} s")
        if not SIZE.match(self.sites_cache_size):
            raise ConfigError(f"The site cache size looks like 1g, not {self.sites_cache_size!r}")
        if self.sites_listen and (self.sites_listen == self.listen or not LISTEN.match(self.sites_listen)):
            raise ConfigError(f"Custom domains need a port of their own, not {self.sites_listen!r}")

    @classmethod
    def from_env(cls, environ=os.environ, **overrides) -> GatewayConfig:
        def get(name: str, default: str = "") -> str:
            return environ.get(f"OASIS_GATEWAY_{name}", default).strip()

        upstreams = {}
        for route in ROUTES:
            default = "127.0.0.1:8001" if route.service == "auth" else ""
            address = environ.get(f"OASIS_{route.service.upper()}_UPSTREAM", default).strip()
            if address:
                upstreams[route.service] = address
        runtime = Path(get("RUNTIME_DIR") or REPO_ROOT / "var" / "gateway")
        values = {
            "runtime_dir": runtime,
            "site_root": Path(get("SITE_ROOT") or runtime / "site"),
            "upstreams": upstreams,
            "listen": get("LISTEN", "8080"),
            "reuseport": get("REUSEPORT").lower() in ("1", "true", "yes"),
            "cors_origins": [
                o.strip() for o in environ.get("OASIS_CORS_ORIGINS", "").split(",") if o.strip()
            ],
            "auth_cache_seconds": int(get("AUTH_CACHE_SECONDS", "3")),
            "auth_rate": get("AUTH_RATE", "10r/s"),
            "auth_burst": int(get("AUTH_BURST", "20")),
            "api_rate": get("API_RATE", "50r/s"),
            "api_burst": int(get("API_BURST", "100")),
            "body_limit": get("BODY_LIMIT", "1m"),
            "mime_types": get("MIME_TYPES", "/etc/nginx/mime.types"),
            "access_log": get("ACCESS_LOG", "/dev/stdout oasis_json"),
            "worker_processes": get("WORKERS", "auto"),
            "forwarded_proto": get("FORWARDED_PROTO", "$scheme"),
            "user": get("USER"),
            "real_ip_from": [n.strip() for n in get("REAL_IP_FROM").split(",") if n.strip()],
            "preview_origin": environ.get("OASIS_PREVIEW_ORIGIN", "").strip().rstrip("/"),
            "sites_store": environ.get("OASIS_SITES_STORE", "").strip().rstrip("/"),
            "sites_domain": environ.get("OASIS_SITES_DOMAIN", "").strip().strip(".").lower(),
            "sites_bucket": bool(environ.get("OASIS_SITES_BUCKET", "").strip()),
            "sites_cache_seconds": int(get("SITES_CACHE_SECONDS", "2")),
            "sites_cache_size": get("SITES_CACHE_SIZE", "1g"),
        }
        values["sites_listen"] = get("SITES_LISTEN", "8081" if values["sites_bucket"] else "")
        values["resolver"], values["search_domain"] = resolver_settings(
            environ.get("OASIS_GATEWAY_RESOLVER", "").strip(),
            upstreams,
            Path(environ.get("OASIS_GATEWAY_RESOLV_CONF") or RESOLV_CONF),
        )
        values.update(overrides)
        return cls(**values)

    def proxy_targets(self) -> dict[str, str]:
        """What each service's proxy_pass names: its upstream block, or a variable looked up again.

        nginx resolves an upstream block's names once, at start, so a recreated container's new
        address would never be seen; a variable's name is resolved per request (cached 1 s).
        """
        return {
            service: f"$oasis_upstream_{service}" if self.resolves(address) else service
            for service, address in self.upstreams.items()
        }

    def resolves(self, address: str) -> bool:
        return bool(self.resolver) and not STATIC_HOST.match(address.rpartition(":")[0])

    def upstream_address(self, address: str) -> str:
        host, _, port = address.rpartition(":")
        if self.search_domain and self.resolves(address) and "." not in host:
            return f"{host}.{self.search_domain}:{port}"
        return address


def resolver_settings(setting: str, upstreams: dict[str, str], resolv_conf: Path = RESOLV_CONF):
    """The resolver addresses and search domain OASIS_GATEWAY_RESOLVER asks for."""
    if not setting:
        named = any(not STATIC_HOST.match(a.rpartition(":")[0]) for a in upstreams.values())
        setting = "system" if named else "off"
    if setting == "off":
        return [], ""
    if setting != "system":
        return [a for a in re.split(r"[\s,]+", setting) if a], ""
    nameservers, search = [], ""
    text = resolv_conf.read_text() if resolv_conf.exists() else ""
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            nameservers.append(f"[{words[1]}]" if ":" in words[1] else words[1])
        elif len(words) >= 2 and words[0] in ("search", "domain") and not search:
            search = words[1].strip(".").lower()
    if not nameservers:
        raise ConfigError(f"OASIS_GATEWAY_RESOLVER=system, but {resolv_conf} names no nameserver")
    return nameservers, search


def verify_windows(seconds: int) -> list[tuple[str, str]]:
    """The token check's cache windows: (class of a time's last second digit, the window's name).

    Every window of at most `seconds` (the answer's lifetime) is a new cache element of each
    credential, so concurrent checks of one wait for one answer from auth (proxy_cache_lock),
    which an expired element would not make them do; and no answer is used past its window.
    """
    size = max(seconds, 1)
    return [(f"[{low}-{min(low + size, 10) - 1}]", str(low)) for low in range(0, 10, size)]


def render(config: GatewayConfig) -> str:
    config.validate()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(GATEWAY_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - this renders nginx config, not HTML
    )
    routes = [route for route in ROUTES if route.service in config.upstreams]
    # The studio frames previews: on this origin, or on their own.
    frames = " ".join(["'self'", *([config.preview_origin] if config.preview_origin else [])])
    return env.get_template("nginx.conf.j2").render(
        routes=routes,
        studio_frames=frames,
        # Previews on an origin of their own answer only at its host name, and never at the API's.
        preview_host=urlsplit(config.preview_origin).hostname if config.preview_origin else "",
        targets=config.proxy_targets(),
        addresses={s: config.upstream_address(a) for s, a in config.upstreams.items()},
        # Docker's and most clusters' DNS answer IPv4; ask for IPv6 only of an IPv6 resolver.
        resolver_ipv6=any(a.startswith("[") or a.count(":") > 1 for a in config.resolver),
        verify_windows=verify_windows(config.auth_cache_seconds),
        **vars(config),
    )


def documented_paths(spec: str) -> list[str]:
    """The paths an OpenAPI document in drf-spectacular's YAML describes (the gateway has no YAML parser)."""
    return DOCUMENTED_PATH.findall(spec)


def unrouted_paths(route: Route, spec: str) -> list[str]:
    """Paths a service documents that the gateway does not route to it: internal or someone else's."""
    routed = (*route.prefixes, *route.public_prefixes)
    return [path for path in documented_paths(spec) if not path.startswith(routed)]


def build_site(out: Path) -> None:
    """The home page, /docs/ (every service's public OpenAPI document, never the internal one), /studio/."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(GATEWAY_DIR / "site", out)
    docs = out / "docs"
    specs = []
    for route in ROUTES:
        spec = REPO_ROOT / "services" / route.service / "openapi.yaml"
        if spec.exists():
            unrouted = unrouted_paths(route, spec.read_text())
            if unrouted:
                raise ConfigError(f"{spec} documents paths the gateway does not route: {', '.join(unrouted)}")
            shutil.copy(spec, docs / f"{route.service}.yaml")
            specs.append(route.service)
    (docs / "services.json").write_text("[" + ",".join(f'"{s}"' for s in specs) + "]\n")
    redoc = _redoc_bundle()
    if redoc is not None:
        shutil.copy(redoc, docs / "redoc.standalone.js")
    copy_studio(out)


def copy_studio(out: Path, dist: Path = STUDIO_DIST) -> bool:
    """The studio's build (web/dist, made by `npm run build`) at /studio/, when there is one."""
    if not (dist / "index.html").exists():
        print(
            f"gateway: no studio build in {dist}; /studio/ will answer 404 "
            "(build it with: cd web && npm ci && npm run build)",
            file=sys.stderr,
        )
        return False
    shutil.copytree(dist, out / "studio")
    return True


def _redoc_bundle() -> Path | None:
    try:
        import drf_spectacular_sidecar
    except ImportError:
        return None
    root = Path(drf_spectacular_sidecar.__file__).parent
    bundle = root / "static" / "drf_spectacular_sidecar" / "redoc" / "bundles" / "redoc.standalone.js"
    return bundle if bundle.exists() else None


def prepare_runtime(config: GatewayConfig) -> None:
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "verify_cache"):
        (config.runtime_dir / sub).mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="where to write nginx.conf")
    parser.add_argument("--site", type=Path, help="build the static site here (default: the site root)")
    parser.add_argument("--no-site", action="store_true", help="do not build the static site")
    args = parser.parse_args(argv)
    config = GatewayConfig.from_env()
    if args.site:
        config.site_root = args.site.resolve()
    try:
        text = render(config)
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    prepare_runtime(config)
    if not args.no_site:
        try:
            build_site(config.site_root)
        except ConfigError as exc:
            print(f"gateway: {exc}", file=sys.stderr)
            return 2
    args.config.parent.mkdir(parents=True, exist_ok=True)
    args.config.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
