"""The gateway config, rendered as compose and Kubernetes would render it, passes `nginx -t` and our rules."""

from __future__ import annotations

import copy
import re

import pytest

from . import compose_rules
from . import gateway_config as gateway
from .conftest import COMPOSE_FILE, ENV_EXAMPLE, K8S, OVERLAYS
from .kubernetes_rules import load_all
from .tools import kustomize


@pytest.fixture(scope="module")
def nginx() -> str:
    found = gateway.find_nginx()
    if found is None:
        pytest.fail("nginx is not installed; `make test` installs Debian's nginx (apt-get install nginx)")
    return found


@pytest.fixture(scope="module")
def compose() -> dict:
    return compose_rules.load(COMPOSE_FILE)


def compose_services(compose: dict) -> dict[str, set[int]]:
    """Compose service names, and the port each listens on inside the network."""
    ports = {"gateway": 8080, "demo-model": 8090, "redis": 6379}
    return {
        name: {
            8000 if name in ("auth", "projects", "payments", "builder", "sites") else ports.get(name, 5432)
        }
        for name in compose["services"]
    }


def kubernetes_services(docs: list[dict]) -> dict[str, set[int]]:
    services = {}
    for doc in docs:
        if doc["kind"] == "Service":
            name, namespace = doc["metadata"]["name"], doc["metadata"].get("namespace", "oasis")
            ports = {p["port"] for p in doc["spec"]["ports"]}
            for host in (
                name,
                f"{name}.{namespace}",
                f"{name}.{namespace}.svc",
                f"{name}.{namespace}.svc.cluster.local",
            ):
                services[host] = ports
    return services


# What a pod's /etc/resolv.conf says (the cluster DNS, and the namespace's search domain first).
POD_RESOLV_CONF = (
    "search oasis.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
)


def as_in_a_pod(env: dict, tmp_path) -> dict:
    resolv_conf = tmp_path / "resolv.conf"
    resolv_conf.write_text(POD_RESOLV_CONF)
    return {**env, "OASIS_GATEWAY_RESOLV_CONF": str(resolv_conf)}


def check(env: dict, services: dict[str, set[int]], tmp_path, nginx: str) -> tuple[list[str], str]:
    rendered, config = gateway.render(env, tmp_path / "gateway")
    assert rendered.ok, rendered.output
    text = config.read_text()
    found = gateway.problems(
        text,
        services=services,
        container_port=int(env["OASIS_GATEWAY_LISTEN"]),
        custom_domains_port=8081 if env.get("OASIS_SITES_BUCKET") else 0,
    )
    result = gateway.nginx_test(nginx, config, set(services))
    if not result.ok:
        found.append(f"nginx -t failed:\n{result.output}")
    return found, text


def test_config_rendered_as_compose_renders_it_passes_nginx_t(compose, tmp_path, nginx):
    env = gateway.compose_env(compose, ENV_EXAMPLE.read_text())
    found, text = check(env, compose_services(compose), tmp_path, nginx)
    assert found == []
    assert sorted(gateway.upstreams(text)) == [
        ("auth", 8000),
        ("builder", 8000),
        ("payments", 8000),
        ("projects", 8000),
        ("sites", 8000),
    ]
    # Docker's DNS, asked again every second: a recreated service's new address is followed, and a
    # start-first replacement (scripts/release.py) keeps both until the gateway knows the new one.
    assert "resolver 127.0.0.11 valid=1s ipv6=off;" in text
    # Gateways replaced start-first share gateway-port's port; each checks its own health.
    assert "listen 8080 default_server reuseport;" in text
    assert re.search(r"^\s*listen unix:\S+/health\.sock;$", text, re.M)
    assert int(gateway.RESOLVER.search(text).group(2)) < compose_rules.RELEASE.DEFAULT_OVERLAP_SECONDS
    assert "proxy_pass http://$oasis_upstream_projects;" in text
    assert "proxy_pass http://$oasis_upstream_auth/internal/v1/verify;" in text
    assert "worker_shutdown_timeout 20s;" in text


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_rendered_as_kubernetes_renders_it_passes_nginx_t(overlay, tmp_path, nginx):
    docs = load_all(kustomize(K8S / "overlays" / overlay))
    env = as_in_a_pod(gateway.kubernetes_env(docs), tmp_path)
    found, text = check(env, kubernetes_services(docs), tmp_path, nginx)
    assert found == []
    # The cluster DNS from the pod's resolv.conf; a bare name completed with the namespace's domain.
    assert "resolver 10.96.0.10 valid=1s ipv6=off;" in text
    assert sorted(gateway.upstreams(text)) == [
        (f"{service}.oasis.svc.cluster.local", 8000)
        for service in ("auth", "builder", "payments", "projects", "sites")
    ]


def test_compose_and_kubernetes_route_the_same_services_on_the_same_port(compose, tmp_path):
    compose_env = gateway.compose_env(compose, ENV_EXAMPLE.read_text())
    kubernetes_env = gateway.kubernetes_env(load_all(kustomize(K8S / "overlays" / "prod")))
    routed = {k: v for k, v in compose_env.items() if k.endswith("_UPSTREAM")}
    assert routed == {k: v for k, v in kubernetes_env.items() if k.endswith("_UPSTREAM")}
    assert compose_env["OASIS_GATEWAY_LISTEN"] == kubernetes_env["OASIS_GATEWAY_LISTEN"] == "8080"


# ---- each check fails on a planted mistake ----


def test_nginx_t_reports_an_unknown_variable(compose, tmp_path, nginx):
    env = {
        **gateway.compose_env(compose, ENV_EXAMPLE.read_text()),
        "OASIS_GATEWAY_FORWARDED_PROTO": "$no_such_variable",
    }
    found, _ = check(env, compose_services(compose), tmp_path, nginx)
    assert any("nginx -t failed" in p and "no_such_variable" in p for p in found), found


def test_an_upstream_naming_no_service_is_reported_by_our_rules_and_by_nginx(compose, tmp_path, nginx):
    doc = copy.deepcopy(compose)
    doc["services"]["gateway"]["environment"]["OASIS_BUILDER_UPSTREAM"] = "bulider:8000"
    env = gateway.compose_env(doc, ENV_EXAMPLE.read_text())
    found, _ = check(env, compose_services(compose), tmp_path / "looked-up", nginx)
    assert "upstream bulider:8000 is not a service of this deployment" in found
    # Resolved at start (no resolver), nginx itself refuses the unknown name too.
    found, _ = check({**env, "OASIS_GATEWAY_RESOLVER": "off"}, compose_services(compose), tmp_path, nginx)
    assert any("nginx -t failed" in p and "bulider" in p for p in found), found


def test_a_service_name_resolved_only_at_start_is_reported(compose, tmp_path, nginx):
    env = {**gateway.compose_env(compose, ENV_EXAMPLE.read_text()), "OASIS_GATEWAY_RESOLVER": "off"}
    found, text = check(env, compose_services(compose), tmp_path, nginx)
    assert "resolver " not in text
    assert (
        "upstream projects:8000 is resolved once, at start; "
        "set OASIS_GATEWAY_RESOLVER so nginx follows a recreated service"
    ) in found


def test_names_looked_up_without_a_resolver_are_reported(compose, tmp_path):
    rendered, config = gateway.render(gateway.compose_env(compose, ENV_EXAMPLE.read_text()), tmp_path / "gw")
    assert rendered.ok, rendered.output
    text = config.read_text().replace("resolver 127.0.0.11 valid=1s ipv6=off;", "")
    found = gateway.problems(text, services=compose_services(compose), container_port=8080)
    assert "upstreams are looked up while nginx runs, but no resolver (valid at most 10 s) is set" in found


def test_an_upstream_on_the_wrong_port_is_reported(tmp_path, nginx):
    docs = load_all(kustomize(K8S / "overlays" / "dev"))
    env = {**gateway.kubernetes_env(docs), "OASIS_AUTH_UPSTREAM": "auth:8001"}
    found, _ = check(env, kubernetes_services(docs), tmp_path, nginx)
    assert "upstream auth:8001: auth listens on [8000]" in found


def test_a_privileged_port_is_reported(compose, tmp_path, nginx):
    env = {**gateway.compose_env(compose, ENV_EXAMPLE.read_text()), "OASIS_GATEWAY_LISTEN": "80"}
    found, _ = check(env, compose_services(compose), tmp_path, nginx)
    assert "nginx listens below 1024, which a non-root process cannot" in found


def test_nginx_t_reports_a_broken_config(compose, tmp_path, nginx):
    rendered, config = gateway.render(
        gateway.compose_env(compose, ENV_EXAMPLE.read_text()), tmp_path / "gateway"
    )
    assert rendered.ok
    config.write_text(config.read_text().replace("proxy_connect_timeout 5s;", "proxy_connect_typo 5s;", 1))
    result = gateway.nginx_test(nginx, config, set(compose_services(compose)))
    assert not result.ok
    assert "proxy_connect_typo" in result.output


def test_where_no_private_hosts_file_is_allowed_the_rewritten_config_is_checked(
    compose, tmp_path, nginx, monkeypatch
):
    monkeypatch.setattr(gateway, "private_hosts_file_works", lambda: False)
    # Names resolved at start are the ones nginx -t must resolve.
    env = {**gateway.compose_env(compose, ENV_EXAMPLE.read_text()), "OASIS_GATEWAY_RESOLVER": "off"}
    found, _ = check(env, compose_services(compose), tmp_path, nginx)
    assert [p for p in found if "is resolved once, at start" not in p] == []
    assert "server 127.0.0.1:8000" in (tmp_path / "gateway" / "nginx-resolved.conf").read_text()


# ---- published sites ----

SITES_ENV = {"OASIS_SITES_STORE": "/srv/oasis/sites", "OASIS_SITES_DOMAIN": "sites.example.com"}


def compose_env_without_sites(compose: dict) -> dict[str, str]:
    env = gateway.compose_env(compose, ENV_EXAMPLE.read_text())
    return {name: value for name, value in env.items() if name not in {*SITES_ENV, "OASIS_SITES_BUCKET"}}


def test_with_a_site_store_the_config_serves_sites_and_passes_nginx_t(compose, tmp_path, nginx):
    env = {**compose_env_without_sites(compose), **SITES_ENV}
    found, text = check(env, compose_services(compose), tmp_path, nginx)
    assert found == []
    assert r'server_name "~^(?<oasis_site>[a-z0-9-]{3,63})\.sites\.example\.com$";' in text
    assert "location ^~ /s/ {" in text
    assert "root /srv/oasis/sites/$oasis_site_dir;" in text
    assert "gzip_static on;" in text


def test_a_site_store_without_a_domain_serves_paths_and_custom_domains_only(compose, tmp_path, nginx):
    env = {**compose_env_without_sites(compose), "OASIS_SITES_STORE": "/srv/oasis/sites"}
    found, text = check(env, compose_services(compose), tmp_path, nginx)
    assert found == []
    assert "location ^~ /s/ {" in text
    assert "oasis_site>" not in text.split("location ^~ /s/ {")[0]


def test_without_a_site_store_no_site_is_served(compose, tmp_path):
    rendered, config = gateway.render(compose_env_without_sites(compose), tmp_path / "gw")
    assert rendered.ok, rendered.output
    assert "/s/" not in config.read_text()
    assert "oasis_site" not in config.read_text()


BUCKET_ENV = {"OASIS_SITES_BUCKET": "oasis-sites", "OASIS_SITES_DOMAIN": "sites.example.com"}


def test_with_a_bucket_sites_are_asked_of_the_sites_service_behind_a_cache_and_pass_nginx_t(
    compose, tmp_path, nginx
):
    env = {**compose_env_without_sites(compose), **BUCKET_ENV}
    found, text = check(env, compose_services(compose), tmp_path, nginx)
    assert found == []
    assert "location ^~ /s/ {" in text
    assert r'server_name "~^(?<oasis_site>[a-z0-9-]{3,63})\.sites\.example\.com$";' in text
    assert "set $oasis_site_serve_base /serve/site/$oasis_site;" in text
    assert "set $oasis_site_serve_base /serve/host/$oasis_custom_host;" in text
    assert "listen 8081 default_server reuseport;" in text
    assert "proxy_cache_valid 200 404 451 2s;" in text
    # Nothing is read from a store on disk, and custom domains never reach the API's server.
    assert "root /srv" not in text
    assert "-f " not in text
    assert "_oasis_site_host" not in text


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({**BUCKET_ENV, "OASIS_SITES_STORE": "/srv/sites"}, "not both"),
        ({**BUCKET_ENV, "OASIS_GATEWAY_SITES_CACHE_SECONDS": "0"}, "may be kept 1 to 60 s"),
        ({**BUCKET_ENV, "OASIS_GATEWAY_SITES_CACHE_SECONDS": "600"}, "may be kept 1 to 60 s"),
        ({**BUCKET_ENV, "OASIS_GATEWAY_SITES_CACHE_SIZE": "1g; include x"}, "cache size looks like"),
        ({**BUCKET_ENV, "OASIS_GATEWAY_SITES_LISTEN": "8080"}, "a port of their own"),
        ({**BUCKET_ENV, "OASIS_GATEWAY_SITES_LISTEN": "8081; include x"}, "a port of their own"),
        ({**SITES_ENV, "OASIS_GATEWAY_SITES_LISTEN": "8081"}, "is for sites in a bucket"),
        ({"OASIS_SITES_STORE": "relative/sites"}, "The site store is an absolute path"),
        ({"OASIS_SITES_STORE": "/srv/sites; include /etc/passwd"}, "The site store is an absolute path"),
        ({**SITES_ENV, "OASIS_SITES_DOMAIN": "sites_example.com"}, "The sites domain looks like"),
        ({**SITES_ENV, "OASIS_SITES_DOMAIN": "localhost"}, "The sites domain looks like"),
        ({**SITES_ENV, "OASIS_SITES_DOMAIN": "sites.example.com$"}, "The sites domain looks like"),
        ({"OASIS_SITES_DOMAIN": "sites.example.com"}, "OASIS_SITES_DOMAIN needs OASIS_SITES_STORE"),
        ({"OASIS_SITES_BUCKET": "oasis-sites", "OASIS_SITES_UPSTREAM": ""}, "set OASIS_SITES_UPSTREAM"),
    ],
)
def test_a_bad_site_setting_is_refused_before_nginx_sees_it(compose, tmp_path, variables, message):
    env = {**compose_env_without_sites(compose), **variables}
    rendered, _ = gateway.render(env, tmp_path / "gw")
    assert not rendered.ok
    assert message in rendered.output
