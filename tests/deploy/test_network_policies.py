"""The NetworkPolicies allow exactly the paths the system uses, and the check fails when they drift."""

from __future__ import annotations

import re

import pytest

from . import network_policies as net
from .conftest import DJANGO_SERVICES, K8S, replace_once
from .kubernetes_rules import load_all
from .tools import kustomize

INTERNET = "203.0.113.10"
DNS = net.Endpoint(
    name="kube-dns", labels={"k8s-app": "kube-dns"}, address="10.96.0.10", namespace="kube-system"
)

# (from, to, port): workloads by name, "outside" for an address beyond the cluster.
ALLOWED = [
    ("outside", "gateway", 8080),
    *(("gateway", service, 8000) for service in DJANGO_SERVICES),
    *(
        (sender, peer, 8000)
        for sender in ("builder", "builder-worker")
        for peer in ("projects", "payments", "auth")
    ),
    ("builder-sweep-generations", "payments", 8000),
    ("builder", "demo-model", 8090),
    ("builder-worker", "demo-model", 8090),
    ("projects", "auth", 8000),
    ("payments", "auth", 8000),
    # Sites publishes revisions it reads from projects; its CronJobs are sites too.
    ("sites", "projects", 8000),
    ("sites", "auth", 8000),
    ("sites-reconcile-site-store", "projects", 8000),
    ("builder", "outside", 443),
    ("builder-worker", "outside", 443),
    ("payments", "outside", 443),
    # The auth worker sends the password reset emails (submission, or SMTPS).
    ("auth-worker", "outside", 587),
    ("auth-worker", "outside", 465),
]
DENIED = [
    ("outside", "auth", 8000),
    ("outside", "builder", 8000),
    ("gateway", "demo-model", 8090),
    ("gateway", "auth", 8001),
    ("gateway", "outside", 443),
    ("projects", "payments", 8000),
    ("projects", "builder", 8000),
    ("payments", "projects", 8000),
    ("payments", "builder", 8000),
    ("auth", "projects", 8000),
    ("sites", "payments", 8000),
    ("sites", "builder", 8000),
    ("sites", "outside", 443),
    ("projects", "sites", 8000),
    ("builder", "sites", 8000),
    ("outside", "sites", 8000),
    ("demo-model", "auth", 8000),
    ("demo-model", "outside", 443),
    ("projects", "outside", 443),
    ("auth", "outside", 443),
    # The web pods hold the JWT key and send no mail: they never leave the cluster.
    ("auth", "outside", 587),
    ("auth-flush-expired-tokens", "outside", 587),
    ("auth-worker", "outside", 443),
    ("auth-worker", "auth", 8000),
    ("auth-worker", "projects", 8000),
]
# In development the datastores are pods: each service reaches its own database and Redis only.
DEV_ALLOWED = [
    *((service, f"{service}-db", 5432) for service in DJANGO_SERVICES),
    ("builder-worker", "builder-db", 5432),
    ("auth-worker", "auth-db", 5432),
    ("auth-migrate", "auth-db", 5432),
    ("auth-prune-email-tasks", "auth-db", 5432),
    ("auth-flush-expired-tokens", "auth-db", 5432),
    ("payments-release-expired-holds", "payments-db", 5432),
    ("builder-sweep-generations", "builder-db", 5432),
    ("sites-migrate", "sites-db", 5432),
    ("sites-reconcile-site-store", "sites-db", 5432),
    ("sites-prune-site-blobs", "sites-db", 5432),
    *((service, "redis", 6379) for service in DJANGO_SERVICES),
]
DEV_DENIED = [
    ("projects", "auth-db", 5432),
    ("builder", "payments-db", 5432),
    ("auth", "builder-db", 5432),
    ("payments-migrate", "projects-db", 5432),
    ("sites", "projects-db", 5432),
    ("projects", "sites-db", 5432),
    ("gateway", "auth-db", 5432),
    ("gateway", "redis", 6379),
    ("demo-model", "redis", 6379),
    ("outside", "auth-db", 5432),
]
# In production they are outside the cluster.
PROD_ALLOWED = [
    *((service, "outside", port) for service in DJANGO_SERVICES for port in (5432, 6379)),
    ("auth-worker", "outside", 5432),
]
PROD_DENIED = [("gateway", "outside", 5432), ("demo-model", "outside", 5432)]


# The receiving side alone (defence in depth: each side must hold even if the other drifts).
# Receiver and port -> the workloads its ingress admits, by their name label; "*" is anyone.
ADMITS = {
    ("gateway", 8080): {"*"},
    ("auth", 8000): {"gateway", "projects", "payments", "builder", "sites"},
    ("projects", 8000): {"gateway", "builder", "sites"},
    ("payments", 8000): {"gateway", "builder"},
    ("builder", 8000): {"gateway"},
    ("sites", 8000): {"gateway"},
    ("demo-model", 8090): {"builder"},
    ("builder-worker", 8000): set(),
    ("auth-worker", 8000): set(),
    ("auth-migrate", 8000): set(),
    ("payments-release-expired-holds", 8000): set(),
}
DEV_ADMITS = {
    **{(f"{service}-db", 5432): {service} for service in DJANGO_SERVICES},
    ("redis", 6379): set(DJANGO_SERVICES),
}


def admission_problems(docs: list[dict], expected: dict) -> list[str]:
    workloads = net.pods(docs)
    senders = [*workloads.values(), net.outside(INTERNET)]
    found = []
    for (receiver, port), admitted in expected.items():
        for sender in senders:
            want = "*" in admitted or sender.labels.get("app.kubernetes.io/name") in admitted
            if net.admits(docs, sender, workloads[receiver], port) != want:
                found.append(f"{receiver}:{port} {'admits' if not want else 'refuses'} {sender.name}")
    return found


def endpoint(workloads: dict, name: str) -> net.Endpoint:
    return net.outside(INTERNET) if name == "outside" else workloads[name]


def connectivity_problems(docs: list[dict], allowed: list, denied: list) -> list[str]:
    workloads = net.pods(docs)
    found = []
    for expected, paths in ((True, allowed), (False, denied)):
        for sender, receiver, port in paths:
            actual = net.allows(docs, endpoint(workloads, sender), endpoint(workloads, receiver), port)
            if actual != expected:
                found.append(f"{sender} → {receiver}:{port} is {'allowed' if actual else 'denied'}")
    for workload in workloads.values():
        if not net.allows(docs, workload, DNS, 53, "UDP"):
            found.append(f"{workload.name} cannot resolve names (DNS)")
    return found


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return load_all(kustomize(K8S / "overlays" / "dev"))


@pytest.fixture(scope="module")
def prod() -> list[dict]:
    return load_all(kustomize(K8S / "overlays" / "prod"))


def test_dev_allows_exactly_the_paths_the_system_uses(dev):
    assert connectivity_problems(dev, ALLOWED + DEV_ALLOWED, DENIED + DEV_DENIED) == []


def test_prod_allows_exactly_the_paths_the_system_uses(prod):
    assert connectivity_problems(prod, ALLOWED + PROD_ALLOWED, DENIED + PROD_DENIED) == []


def test_each_receiver_admits_exactly_its_callers(dev, prod):
    assert admission_problems(dev, {**ADMITS, **DEV_ADMITS}) == []
    assert admission_problems(prod, ADMITS) == []


def test_every_workload_is_under_some_policy(dev):
    policies = [d for d in dev if d["kind"] == "NetworkPolicy"]
    for workload in net.pods(dev).values():
        assert any(net._selects(p["spec"]["podSelector"], workload.labels) for p in policies), workload.name


# ---- the check fails when a policy drifts ----


def _delete_document(path, name: str) -> None:
    documents = path.read_text().split("\n---\n")
    kept = [d for d in documents if not re.search(rf"^  name: {re.escape(name)}$", d, re.M)]
    assert len(kept) == len(documents) - 1, f"{name} is not in {path}"
    path.write_text("\n---\n".join(kept))


def test_removing_default_deny_is_reported(k8s_copy):
    _delete_document(k8s_copy / "base" / "network-policies.yaml", "default-deny")
    docs = load_all(kustomize(k8s_copy / "overlays" / "dev"))
    assert "builder-worker:8000 admits outside:203.0.113.10" in admission_problems(docs, ADMITS)


def test_opening_auth_to_every_pod_is_reported(k8s_copy):
    replace_once(
        k8s_copy / "base" / "network-policies.yaml",
        "    - from:\n        - podSelector:\n            matchLabels:\n"
        "              app.kubernetes.io/name: gateway\n"
        "        - podSelector:\n            matchExpressions:",
        "    - from:\n        - podSelector: {}\n        - podSelector:\n            matchExpressions:",
    )
    docs = load_all(kustomize(k8s_copy / "overlays" / "dev"))
    assert "auth:8000 admits demo-model" in admission_problems(docs, ADMITS)


def test_losing_the_builders_path_to_payments_is_reported(k8s_copy):
    replace_once(
        k8s_copy / "base" / "network-policies.yaml", "values: [projects, payments]", "values: [projects]"
    )
    docs = load_all(kustomize(k8s_copy / "overlays" / "dev"))
    found = connectivity_problems(docs, ALLOWED, DENIED)
    assert "builder → payments:8000 is allowed" not in found
    assert "builder → payments:8000 is denied" in found


def test_losing_the_path_from_sites_to_projects_is_reported(k8s_copy):
    _delete_document(k8s_copy / "base" / "network-policies.yaml", "sites-to-projects")
    docs = load_all(kustomize(k8s_copy / "overlays" / "dev"))
    assert "sites → projects:8000 is denied" in connectivity_problems(docs, ALLOWED, DENIED)


def test_a_database_open_to_another_service_is_reported(k8s_copy):
    replace_once(
        k8s_copy / "overlays" / "dev" / "postgres.yaml",
        "            matchLabels:\n              app.kubernetes.io/name: auth\n",
        "            matchExpressions:\n              - key: app.kubernetes.io/name\n"
        "                operator: In\n                values: [auth, projects]\n",
    )
    docs = load_all(kustomize(k8s_copy / "overlays" / "dev"))
    assert "projects → auth-db:5432 is allowed" in connectivity_problems(docs, DEV_ALLOWED, DEV_DENIED)


def test_losing_dns_is_reported(k8s_copy):
    _delete_document(k8s_copy / "base" / "network-policies.yaml", "allow-dns")
    docs = load_all(kustomize(k8s_copy / "overlays" / "prod"))
    assert "auth cannot resolve names (DNS)" in connectivity_problems(docs, [], [])


def test_letting_the_auth_web_pods_send_mail_is_reported(k8s_copy):
    replace_once(
        k8s_copy / "base" / "network-policies.yaml",
        "      app.kubernetes.io/name: auth\n"
        "      app.kubernetes.io/component: worker\n"
        "  policyTypes: [Egress]",
        "      app.kubernetes.io/name: auth\n  policyTypes: [Egress]",
    )
    docs = load_all(kustomize(k8s_copy / "overlays" / "dev"))
    assert "auth → outside:587 is allowed" in connectivity_problems(docs, ALLOWED, DENIED)
