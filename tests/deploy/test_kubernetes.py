"""Overlays render and pass `kubernetes-validate --strict` and our rules; each check fails on a mistake."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from . import kubernetes_rules as rules
from .conftest import DJANGO_SERVICES, K8S, OVERLAYS, replace_once
from .tools import CONTAINER_TMP, RenderError, kubernetes_validate, kustomize

# The oldest Kubernetes the manifests promise to work on (docs/operations.md), and the newest schemas bundled.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {overlay: rules.load_all(kustomize(K8S / "overlays" / overlay)) for overlay in OVERLAYS}


def named(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def containers(doc: dict) -> list[dict]:
    pod = rules.pod_template(doc)
    return pod["spec"].get("initContainers", []) + pod["spec"]["containers"]


def config_map(docs: list[dict], prefix: str) -> dict:
    return next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(prefix + "-")
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_overlay_passes_kubernetes_validate_strict(overlay, version, rendered, tmp_path):
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(yaml.safe_dump_all(rendered[overlay], sort_keys=False))
    result = kubernetes_validate(path, version=version)
    assert result.ok, result.output


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_follows_our_rules(overlay, rendered):
    assert rules.problems(rendered[overlay]) == []


def test_dev_runs_its_datastores_in_the_cluster_with_one_replica_each(rendered):
    docs = rendered["dev"]
    for service in DJANGO_SERVICES:
        database = named(docs, "StatefulSet", f"{service}-db")
        assert database["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [
            {"secretRef": {"name": f"oasis-{service}-db"}}
        ]
    assert named(docs, "Deployment", "redis")
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            assert doc["spec"].get("replicas", 1) == 1, rules.ident(doc)
        if doc["kind"] == "HorizontalPodAutoscaler":
            assert (doc["spec"]["minReplicas"], doc["spec"]["maxReplicas"]) == (1, 1)
    images = {c["image"] for d in docs if rules.pod_template(d) for c in containers(d)}
    ours = {image for image in images if image.startswith("imagi-oasis/")}
    assert ours
    assert all(image.endswith(":dev") for image in ours), ours


def test_prod_uses_external_datastores_and_more_replicas(rendered):
    docs = rendered["prod"]
    assert not [d for d in docs if d["kind"] == "StatefulSet"]
    assert not [d for d in docs if d["metadata"]["name"] == "redis"]
    for name in ("auth", "projects", "payments"):
        assert named(docs, "Deployment", name)["spec"]["replicas"] >= 2
    for hpa in (d for d in docs if d["kind"] == "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] >= 2
    policy = named(docs, "NetworkPolicy", "services-to-external-datastores")
    assert {p["port"] for p in policy["spec"]["egress"][0]["ports"]} >= {5432, 6379}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_peer_urls_and_gateway_upstreams_name_services_that_exist(overlay, rendered):
    docs = rendered[overlay]
    ports = {
        (s["metadata"]["name"], p["port"]) for s in docs if s["kind"] == "Service" for p in s["spec"]["ports"]
    }
    shared = config_map(docs, "oasis-shared")["data"]
    builder = config_map(docs, "oasis-builder")["data"]
    urls = [v for k, v in shared.items() if k.endswith("_URL")] + [builder["OASIS_DEMO_MODEL_URL"]]
    for url in urls:
        host, port = re.match(r"^http://([\w-]+):(\d+)", url).groups()
        assert (host, int(port)) in ports, url
    gateway = config_map(docs, "oasis-gateway")["data"]
    upstreams = {k: v for k, v in gateway.items() if k.endswith("_UPSTREAM")}
    assert set(upstreams) == {f"OASIS_{s.upper()}_UPSTREAM" for s in DJANGO_SERVICES}
    for address in upstreams.values():
        host, port = address.split(":")
        assert (host, int(port)) in ports, address


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_worker_is_restarted_when_its_claiming_loop_stops_beating(overlay, rendered):
    worker = named(rendered[overlay], "Deployment", "builder-worker")["spec"]["template"]["spec"]
    [container] = worker["containers"]
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == ["python", "manage.py", "worker_alive"]
    # Its heartbeat file lives under /tmp: the pod's own emptyDir, shared with the probe's exec.
    assert {"name": "tmp", "mountPath": CONTAINER_TMP} in container["volumeMounts"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_auth_worker_sends_the_queued_emails_with_the_settings_of_auth(overlay, rendered):
    docs = rendered[overlay]
    worker = named(docs, "Deployment", "auth-worker")["spec"]["template"]
    web = named(docs, "Deployment", "auth")["spec"]["template"]
    [container] = worker["spec"]["containers"]
    assert container["command"] == ["python", "manage.py", "db_worker", "--queue-name", "emails"]
    assert container["livenessProbe"]["exec"]["command"] == ["python", "manage.py", "email_queue_status"]
    assert container["image"] == web["spec"]["containers"][0]["image"]
    assert container["envFrom"] == web["spec"]["containers"][0]["envFrom"]
    assert worker["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    # It signs nothing: no JWT key.
    assert [v["name"] for v in worker["spec"]["volumes"]] == ["tmp"]
    replicas = named(docs, "Deployment", "auth-worker")["spec"]["replicas"]
    assert replicas == (1 if overlay == "dev" else 2)


@pytest.mark.parametrize("service", DJANGO_SERVICES)
def test_allowed_hosts_names_the_service_and_the_pod_address_for_metrics(service, rendered):
    deployment = named(rendered["prod"], "Deployment", service)
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    names = [e["name"] for e in env]
    assert names.index("POD_IP") < names.index("ALLOWED_HOSTS"), "$(POD_IP) expands only if defined before"
    hosts = next(e["value"] for e in env if e["name"] == "ALLOWED_HOSTS").split(",")
    assert service in hosts
    assert "$(POD_IP)" in hosts


def test_only_auth_is_given_the_jwt_signing_key_path_it_can_open(rendered):
    docs = rendered["prod"]
    assert config_map(docs, "oasis-auth")["data"]["OASIS_JWT_SIGNING_KEY_FILE"].startswith(
        "/var/run/secrets/oasis/jwt/"
    )
    mounts = named(docs, "Deployment", "auth")["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "jwt-keys", "mountPath": "/var/run/secrets/oasis/jwt", "readOnly": True} in mounts


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_serves_read_only_the_store_sites_writes(overlay, rendered):
    docs = rendered[overlay]
    agreed = config_map(docs, "oasis-site-store")["data"]
    for name, read_only in (("gateway", True), ("sites", False)):
        pod = named(docs, "Deployment", name)["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert {"configMapRef": {"name": agreed_name(docs)}} in container["envFrom"]
        [mount] = [m for m in container["volumeMounts"] if m["name"] == "site-store"]
        assert mount["mountPath"] == agreed["OASIS_SITES_STORE"]
        assert mount.get("readOnly", False) is read_only
    for cronjob in ("sites-reconcile-site-store", "sites-prune-site-blobs"):
        [container] = rules.pod_template(named(docs, "CronJob", cronjob))["spec"]["containers"]
        assert {"name": "site-store", "mountPath": agreed["OASIS_SITES_STORE"]} in container["volumeMounts"]


def agreed_name(docs: list[dict]) -> str:
    return config_map(docs, "oasis-site-store")["metadata"]["name"]


def test_the_store_is_shared_across_nodes_in_prod_and_on_one_node_in_dev(rendered):
    access = {
        overlay: named(rendered[overlay], "PersistentVolumeClaim", "sites-store")["spec"]["accessModes"]
        for overlay in OVERLAYS
    }
    assert access == {"prod": ["ReadWriteMany"], "dev": ["ReadWriteOnce"]}


def test_prod_gives_out_https_addresses_on_its_own_domain(rendered):
    docs = rendered["prod"]
    assert config_map(docs, "oasis-sites")["data"]["OASIS_SITES_SCHEME"] == "https"
    assert config_map(docs, "oasis-site-store")["data"]["OASIS_SITES_DOMAIN"] != "sites.localhost"


# ---- each check fails on a planted mistake ----


def _container(doc_name: str, kind: str = "Deployment", index: int = 0):
    def get(docs):
        return named(docs, kind, doc_name)["spec"]["template"]["spec"]["containers"][index]

    return get


def _without(keys: tuple[str, ...], getter):
    def plant(docs):
        target = getter(docs)
        for key in keys:
            target.pop(key, None)

    return plant


def _pod_spec(name: str, kind: str = "Deployment"):
    return lambda docs: rules.pod_template(named(docs, kind, name))["spec"]


def _remove(kind: str, name: str):
    def plant(docs):
        docs.remove(named(docs, kind, name))

    return plant


def _set_probe_path(docs):
    _container("auth")(docs)["readinessProbe"]["httpGet"]["path"] = "/api/v1/auth/me/"


def _literal_database_url(docs):
    _container("projects")(docs)["env"].append(
        {"name": "DATABASE_URL", "value": "postgres://projects:hunter2@db.internal:5432/projects"}
    )


def _jwt_into_projects(docs):
    spec = _pod_spec("projects")(docs)
    spec["volumes"].append({"name": "jwt", "secret": {"secretName": "oasis-jwt-keys"}})


def _jwt_env_into_worker(docs):
    _container("builder-worker")(docs)["envFrom"].append({"secretRef": {"name": "oasis-jwt-keys"}})


def _other_secret(docs):
    _container("projects")(docs)["envFrom"].append({"secretRef": {"name": "oasis-payments-secrets"}})


def _secret_in_config_map(docs):
    config_map(docs, "oasis-auth")["data"]["DJANGO_SECRET_KEY"] = "c2VjcmV0LWtleS1mb3ItYXV0aC1vbmx5"


def _migrate_in_web(docs):
    container = _container("payments")(docs)
    container["command"] = ["sh", "-c", "python manage.py migrate && exec gunicorn config.wsgi"]


def _no_migration_wait(docs):
    _pod_spec("payments")(docs).pop("initContainers")


def _sweeper_with_every(docs):
    cronjob = named(docs, "CronJob", "payments-release-expired-holds")
    rules.pod_template(cronjob)["spec"]["containers"][0]["command"] += ["--every", "30"]


def _overlapping_cron(docs):
    named(docs, "CronJob", "builder-sweep-generations")["spec"]["concurrencyPolicy"] = "Allow"


def _replicas_under_hpa(docs):
    named(docs, "Deployment", "gateway")["spec"]["replicas"] = 3


def _service_selecting_nothing(docs):
    named(docs, "Service", "payments")["spec"]["selector"]["app.kubernetes.io/name"] = "payment"


def _writable_root(docs):
    _container("auth")(docs)["securityContext"]["readOnlyRootFilesystem"] = False


def _root_user(docs):
    _pod_spec("gateway")(docs)["securityContext"]["runAsUser"] = 0


def _no_non_root(docs):
    _pod_spec("builder")(docs)["securityContext"].pop("runAsNonRoot")
    for container in containers(named(docs, "Deployment", "builder")):
        container["securityContext"].pop("runAsNonRoot")


def _no_tmp(docs):
    container = _container("projects")(docs)
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["mountPath"] != CONTAINER_TMP]


def _token_mounted(docs):
    _pod_spec("auth")(docs)["automountServiceAccountToken"] = True


def _latest(docs):
    _container("demo-model")(docs)["image"] = "imagi-oasis/demo-model:latest"


def _worker_probed_by_check(docs):
    probe = _container("builder-worker")(docs)["livenessProbe"]
    probe["exec"]["command"] = ["python", "manage.py", "check", "--database", "default"]


def _auth_worker_probed_by_check(docs):
    probe = _container("auth-worker")(docs)["livenessProbe"]
    probe["exec"]["command"] = ["python", "manage.py", "check", "--database", "default"]


def _writable_store_in_gateway(docs):
    mounts = _container("gateway")(docs)["volumeMounts"]
    next(m for m in mounts if m["name"] == "site-store").pop("readOnly")


def _store_in_projects(docs):
    _pod_spec("projects")(docs)["volumes"].append(
        {"name": "site-store", "persistentVolumeClaim": {"claimName": "sites-store", "readOnly": True}}
    )


def _gateway_without_store(docs):
    spec = _pod_spec("gateway")(docs)
    spec["volumes"] = [v for v in spec["volumes"] if v["name"] != "site-store"]


def _privileged_escalation(docs):
    _container("gateway")(docs)["securityContext"]["allowPrivilegeEscalation"] = True


def _rollout_dropping_a_replica(docs):
    named(docs, "Deployment", "auth")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 1


def _short_grace(docs):
    rules.pod_template(named(docs, "Deployment", "payments"))["spec"]["terminationGracePeriodSeconds"] = 10


def _gateway_resolving_once(docs):
    config_map(docs, "oasis-gateway")["data"].pop("OASIS_GATEWAY_RESOLVER")


PLANTED = {
    # ---- release day (issue 19): rollouts and restarts that drop no request ----
    "a rollout that drops below the wanted replicas": (
        _rollout_dropping_a_replica,
        "Deployment/auth: a rollout may drop below the wanted replicas (maxUnavailable is not 0)",
    ),
    "no preStop delay for endpoint removal": (
        _without(("lifecycle",), _container("projects")),
        "Deployment/projects projects: no preStop delay of 5s or more",
    ),
    "a grace period gunicorn cannot finish in": (
        _short_grace,
        "Deployment/payments: terminationGracePeriodSeconds 10 does not cover the preStop (5s) "
        "and a graceful shutdown (20s)",
    ),
    "a gateway that resolves its upstreams once": (
        _gateway_resolving_once,
        "Deployment/gateway: OASIS_GATEWAY_RESOLVER is not set",
    ),
    "a Deployment without probes": (
        _without(("startupProbe", "livenessProbe", "readinessProbe"), _container("auth")),
        "Deployment/auth auth: no liveness probe",
    ),
    "a worker without a liveness probe": (
        _without(("livenessProbe",), _container("builder-worker")),
        "without ports still needs a liveness probe",
    ),
    "a worker probe blind to a stuck loop": (
        _worker_probed_by_check,
        "Deployment/builder-worker worker: the worker's liveness probe does not ask manage.py worker_alive",
    ),
    "an auth worker without a liveness probe": (
        _without(("livenessProbe",), _container("auth-worker")),
        "Deployment/auth-worker worker: a process without ports still needs a liveness probe",
    ),
    "an auth worker probe that never reaches the database": (
        _auth_worker_probed_by_check,
        "Deployment/auth-worker worker: the auth worker's liveness probe does not ask "
        "manage.py email_queue_status",
    ),
    "no disruption budget for the auth worker": (
        _remove("PodDisruptionBudget", "auth-worker"),
        "Deployment/auth-worker: no PodDisruptionBudget",
    ),
    "no pruning of the email queue": (
        _remove("CronJob", "auth-prune-email-tasks"),
        "pruning of sent emails' queue rows",
    ),
    "a probe on a path ALLOWED_HOSTS guards": (_set_probe_path, "not /readyz"),
    "no resource limits": (_without(("resources",), _container("payments")), "no limits memory"),
    "a writable root filesystem": (_writable_root, "root filesystem is not read-only"),
    "runs as root": (_root_user, "runs as uid 0"),
    "runAsNonRoot missing": (_no_non_root, "runAsNonRoot is not set"),
    "privilege escalation": (_privileged_escalation, "privilege escalation is allowed"),
    "no writable /tmp": (_no_tmp, f"{CONTAINER_TMP} is not an emptyDir"),
    "a mounted service account token": (_token_mounted, "mounts a service account token"),
    "an image tagged latest": (_latest, "uses :latest"),
    "a database URL written in": (_literal_database_url, "DATABASE_URL is written into the manifest"),
    "a secret in a ConfigMap": (_secret_in_config_map, "DJANGO_SECRET_KEY is a secret in a ConfigMap"),
    "the JWT key mounted into projects": (
        _jwt_into_projects,
        "Deployment/projects: mounts the JWT private key",
    ),
    "the JWT key in the worker's environment": (_jwt_env_into_worker, "reads the JWT private key"),
    "another service's Secret": (_other_secret, "reads the Secret oasis-payments-secrets"),
    "no autoscaler for the worker": (
        _remove("HorizontalPodAutoscaler", "builder-worker"),
        "builder-worker: no Horiz",
    ),
    "replicas under an autoscaler": (_replicas_under_hpa, "sets replicas although an autoscaler owns them"),
    "no disruption budget": (
        _remove("PodDisruptionBudget", "payments"),
        "Deployment/payments: no PodDisruptionBudget",
    ),
    "a Service selecting nothing": (_service_selecting_nothing, "Service/payments: selects no pods"),
    "no migration Job": (_remove("Job", "payments-migrate"), "payments: needs exactly one migration Job"),
    "migrations in the web container": (_migrate_in_web, "Deployment/payments: runs migrations itself"),
    "not waiting for migrations": (
        _no_migration_wait,
        "Deployment/payments: does not wait for its migrations",
    ),
    "no token blacklist flushing": (
        _remove("CronJob", "auth-flush-expired-tokens"),
        "token blacklist flushing",
    ),
    "no stale-run sweeper": (_remove("CronJob", "builder-sweep-generations"), "the stale-run sweeper"),
    "no idempotency purging": (
        _remove("CronJob", "projects-purge-idempotency-records"),
        "purging for projects",
    ),
    "a sweeper CronJob that loops": (_sweeper_with_every, "loops with --every"),
    "overlapping CronJob runs": (_overlapping_cron, "concurrencyPolicy is not Forbid"),
    "the gateway able to write the site store": (
        _writable_store_in_gateway,
        "Deployment/gateway gateway: may write the site store; mount it read-only",
    ),
    "the site store in another service": (
        _store_in_projects,
        "Deployment/projects: mounts the site store; only sites and the gateway may",
    ),
    "the gateway without the site store": (_gateway_without_store, "gateway: does not mount the site store"),
    "no claim for the site store": (
        _remove("PersistentVolumeClaim", "sites-store"),
        "PersistentVolumeClaim/sites-store: mounted but not defined",
    ),
    "no site store sweeper": (_remove("CronJob", "sites-reconcile-site-store"), "the site store sweeper"),
    "no blob pruning": (_remove("CronJob", "sites-prune-site-blobs"), "blob pruning"),
    "no migration Job for sites": (_remove("Job", "sites-migrate"), "sites: needs exactly one migration Job"),
    "no default deny": (_remove("NetworkPolicy", "default-deny"), "no default-deny NetworkPolicy"),
}


@pytest.mark.parametrize("mistake", sorted(PLANTED))
def test_our_rules_report_a_planted_mistake(mistake, rendered):
    plant, expected = PLANTED[mistake]
    docs = copy.deepcopy(rendered["dev"])
    plant(docs)
    found = rules.problems(docs)
    assert any(expected in problem for problem in found), found


def test_a_deployment_without_probes_in_the_sources_is_reported(k8s_copy):
    manifest = k8s_copy / "base" / "demo-model.yaml"
    text = manifest.read_text()
    planted = re.sub(
        r"          (startupProbe|livenessProbe|readinessProbe):\n(            .*\n|              .*\n)+",
        "",
        text,
    )
    assert planted != text
    manifest.write_text(planted)
    found = rules.problems(rules.load_all(kustomize(k8s_copy / "overlays" / "prod")))
    assert "Deployment/demo-model demo-model: no liveness probe" in found


def test_a_secret_added_to_the_sources_is_reported(k8s_copy):
    (k8s_copy / "base" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: oasis-auth-secrets\n"
        "stringData:\n  DJANGO_SECRET_KEY: c2VjcmV0LWtleS1mb3ItYXV0aC1vbmx5\n"
    )
    replace_once(
        k8s_copy / "base" / "kustomization.yaml",
        "  - cronjobs.yaml\n",
        "  - cronjobs.yaml\n  - secret.yaml\n",
    )
    found = rules.problems(rules.load_all(kustomize(k8s_copy / "overlays" / "dev")))
    assert any("Secret/oasis-auth-secrets: a Secret is written into the manifests" in p for p in found), found


def test_an_overlay_that_pulls_latest_is_reported(k8s_copy):
    replace_once(
        k8s_copy / "overlays" / "prod" / "kustomization.yaml",
        "resources:\n",
        "images:\n  - name: imagi-oasis/auth\n    newTag: latest\nresources:\n",
    )
    found = rules.problems(rules.load_all(kustomize(k8s_copy / "overlays" / "prod")))
    assert any("imagi-oasis/auth:latest uses :latest" in p for p in found), found


def test_kubernetes_validate_reports_a_misspelled_field(k8s_copy, tmp_path):
    replace_once(k8s_copy / "base" / "gateway.yaml", "periodSeconds: 2", "periodSecond: 2")
    path = tmp_path / "dev.yaml"
    path.write_text(kustomize(k8s_copy / "overlays" / "dev"))
    result = kubernetes_validate(path, version=KUBERNETES_VERSIONS[0])
    assert not result.ok
    assert "periodSecond" in result.output


def test_kubernetes_validate_reports_a_wrong_type(k8s_copy, tmp_path):
    replace_once(k8s_copy / "base" / "demo-model.yaml", "failureThreshold: 30", "failureThreshold: thirty")
    path = tmp_path / "prod.yaml"
    path.write_text(kustomize(k8s_copy / "overlays" / "prod"))
    assert not kubernetes_validate(path, version=KUBERNETES_VERSIONS[0]).ok


def test_rendering_reports_a_missing_resource(k8s_copy):
    replace_once(k8s_copy / "base" / "kustomization.yaml", "  - cronjobs.yaml\n", "  - cronjob.yaml\n")
    with pytest.raises(RenderError, match=r"cronjob\.yaml"):
        kustomize(k8s_copy / "overlays" / "dev")


def test_every_manifest_in_the_tree_is_used_by_a_kustomization():
    listed = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        spec = yaml.safe_load(kustomization.read_text())
        for entry in spec.get("resources", []):
            listed.add((kustomization.parent / entry).resolve())
    manifests = {p.resolve() for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
    unused = sorted(str(Path(p).relative_to(K8S)) for p in manifests - listed)
    assert unused == []


# ---- previews on their own origin (the studio) ----


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_projects_and_the_gateway_agree_on_the_previews_own_origin(overlay, rendered):
    docs = rendered[overlay]
    values = {
        name: rules.container_env(docs, containers(named(docs, "Deployment", name))[-1])[
            "OASIS_PREVIEW_ORIGIN"
        ]
        for name in ("projects", "gateway")
    }
    assert values["projects"] == values["gateway"]
    assert rules.preview_origin_problems(docs) == []


def _preview_origin(prefix: str, value: str | None):
    def plant(docs):
        data = config_map(docs, prefix)["data"]
        if value is None:
            data.pop("OASIS_PREVIEW_ORIGIN")
        else:
            data["OASIS_PREVIEW_ORIGIN"] = value

    return plant


def _preview_origin_in_env(docs):
    _container("gateway")(docs).setdefault("env", []).append(
        {"name": "OASIS_PREVIEW_ORIGIN", "value": "https://preview.example.com"}
    )


PREVIEW_PLANTED = {
    "the gateway not told": (
        _preview_origin("oasis-gateway", None),
        "Deployment/gateway gateway: is not given OASIS_PREVIEW_ORIGIN",
    ),
    "projects not told": (
        _preview_origin("oasis-projects", None),
        "Deployment/projects projects: is not given OASIS_PREVIEW_ORIGIN",
    ),
    "another origin in projects": (
        _preview_origin("oasis-projects", "https://preview.example.com"),
        "differs between projects and the gateway",
    ),
    "the gateway's env overriding its ConfigMap": (_preview_origin_in_env, "differs between projects"),
    "a path, not an origin": (
        lambda docs: [
            _preview_origin(p, "http://preview.localhost:8080/preview/")(docs)
            for p in ("oasis-projects", "oasis-gateway")
        ],
        "is not an origin",
    ),
}


@pytest.mark.parametrize("mistake", sorted(PREVIEW_PLANTED))
def test_preview_origin_rules_report_a_planted_mistake(mistake, rendered):
    plant, expected = PREVIEW_PLANTED[mistake]
    docs = copy.deepcopy(rendered["dev"])
    plant(docs)
    found = rules.problems(docs)
    assert any(expected in problem for problem in found), found


def test_a_preview_origin_changed_for_the_gateway_alone_in_an_overlay_is_reported(k8s_copy):
    """prod merges its own gateway.env: a preview origin set there alone leaves projects behind."""
    gateway_env = k8s_copy / "overlays" / "prod" / "config" / "gateway.env"
    gateway_env.write_text(
        gateway_env.read_text().replace("https://preview.example.com", "https://previews.example.net")
    )
    found = rules.problems(rules.load_all(kustomize(k8s_copy / "overlays" / "prod")))
    assert any("OASIS_PREVIEW_ORIGIN differs between projects and the gateway" in p for p in found), found


def test_production_serves_previews_on_an_https_origin_of_their_own():
    """Not the development default: a public deployment's previews need their own TLS name."""
    for document in rules.load_all(kustomize(K8S / "overlays" / "prod")):
        if document.get("kind") == "ConfigMap" and "OASIS_PREVIEW_ORIGIN" in document.get("data", {}):
            origin = document["data"]["OASIS_PREVIEW_ORIGIN"]
            assert origin.startswith("https://"), (document["metadata"]["name"], origin)
            assert ".localhost" not in origin, (document["metadata"]["name"], origin)
