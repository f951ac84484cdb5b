"""Our rules for the rendered Kubernetes manifests, on top of the API schemas."""

from __future__ import annotations

import re

import yaml

from .tools import CONTAINER_TMP

DJANGO_SERVICES = ("auth", "projects", "payments", "builder", "sites")
OUR_IMAGE = re.compile(r"^(?:[\w.-]+(?::\d+)?/)*imagi-oasis/[\w-]+(?::[\w.-]+)?$")
# Paths that answer before Django checks the Host header (probes come by pod IP).
PROBE_PATHS = {"liveness": "/healthz", "startup": "/healthz", "readiness": "/readyz"}
SECRET_NAME = re.compile(
    r"^(DJANGO_SECRET_KEY|DATABASE_URL|REDIS_URL|OASIS_SERVICE_CLIENTS|OASIS_JWT_SIGNING_KEY)$"
    r"|(SECRET|PASSWORD|API_KEY)(_|$)"
)
AUTOSCALED = ("gateway", "builder", "builder-worker")
SCHEDULED = {
    "the hold sweeper": ("payments", "release_expired_holds"),
    "the stale-run sweeper": ("builder", "sweep_generations"),
    "token blacklist flushing": ("auth", "flushexpiredtokens"),
    "pruning of sent emails' queue rows": ("auth", "prune_db_task_results"),
    "the site store sweeper": ("sites", "reconcile_site_store"),
    "blob pruning": ("sites", "prune_site_blobs"),
    **{f"idempotency purging for {s}": (s, "purge_idempotency_records") for s in DJANGO_SERVICES},
}
JWT_SECRET = "oasis-jwt-keys"
# How long each serving process takes to stop after SIGTERM (gunicorn's graceful_timeout) or
# SIGQUIT (the gateway's worker_shutdown_timeout); the pod's grace period covers it and the preStop.
SHUTDOWN_SECONDS = 20
# Endpoints are removed from Services and ingresses asynchronously: a pod keeps serving this long.
MIN_PRESTOP_SECONDS = 5
# The claim sites writes published sites into; the gateway serves them from it, read-only.
SITE_STORE_CLAIM = "sites-store"
SITE_STORE_WRITER = "sites"
# Previews' own origin: projects builds links on it, the gateway lets the studio frame it.
PREVIEW_ORIGIN = "OASIS_PREVIEW_ORIGIN"
PREVIEW_READERS = ("projects", "gateway")
ORIGIN = re.compile(r"^https?://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:\d+)?$")


def load_all(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def ident(doc: dict) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def pod_template(doc: dict) -> dict | None:
    kind = doc.get("kind")
    if kind in ("Deployment", "StatefulSet", "Job", "DaemonSet", "ReplicaSet"):
        return doc["spec"]["template"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return None


def _containers(pod: dict) -> list[tuple[str, dict]]:
    spec = pod["spec"]
    return [("init", c) for c in spec.get("initContainers", [])] + [
        ("main", c) for c in spec.get("containers", [])
    ]


def _command(container: dict) -> str:
    return " ".join(container.get("command", []) + container.get("args", []))


def _selects(selector: dict | None, labels: dict) -> bool:
    """A label selector (matchLabels, matchExpressions); an empty selector selects everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _security_problems(where: str, pod: dict, container: dict) -> list[str]:
    found = []
    pod_security = pod["spec"].get("securityContext") or {}
    security = container.get("securityContext") or {}
    if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
        found.append(f"{where}: runAsNonRoot is not set")
    if security.get("runAsUser", pod_security.get("runAsUser")) == 0:
        found.append(f"{where}: runs as uid 0")
    if security.get("readOnlyRootFilesystem") is not True:
        found.append(f"{where}: the root filesystem is not read-only")
    if security.get("allowPrivilegeEscalation") is not False:
        found.append(f"{where}: privilege escalation is allowed")
    if "ALL" not in (security.get("capabilities") or {}).get("drop", []):
        found.append(f"{where}: capabilities are not dropped")
    seccomp = (security.get("seccompProfile") or pod_security.get("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        found.append(f"{where}: no seccomp profile")
    return found


def _resource_problems(where: str, container: dict) -> list[str]:
    resources = container.get("resources") or {}
    return [
        f"{where}: no {kind} {resource}"
        for kind in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in (resources.get(kind) or {})
    ]


def _probe_problems(where: str, container: dict, *, ours: bool) -> list[str]:
    found = []
    if not container.get("ports"):
        if "livenessProbe" not in container:
            found.append(f"{where}: a process without ports still needs a liveness probe")
        elif "generation_worker" in _command(container):
            # Only the claiming loop's heartbeat shows a wedged worker; `manage.py check` passes anyway.
            probe = " ".join((container["livenessProbe"].get("exec") or {}).get("command", []))
            if "worker_alive" not in probe:
                found.append(f"{where}: the worker's liveness probe does not ask manage.py worker_alive")
        elif "db_worker" in _command(container):
            # The auth worker exits when it loses its database; the probe asks that database too.
            probe = " ".join((container["livenessProbe"].get("exec") or {}).get("command", []))
            if "email_queue_status" not in probe:
                found.append(
                    f"{where}: the auth worker's liveness probe does not ask manage.py email_queue_status"
                )
        return found
    for kind in PROBE_PATHS:
        probe = container.get(f"{kind}Probe")
        if probe is None:
            found.append(f"{where}: no {kind} probe")
            continue
        if not ours:
            continue
        http = probe.get("httpGet")
        if http is None:
            found.append(f"{where}: the {kind} probe is not an HTTP probe")
        elif http.get("path") != PROBE_PATHS[kind]:
            found.append(
                f"{where}: the {kind} probe asks {http.get('path')}, not {PROBE_PATHS[kind]} "
                "(only /healthz and /readyz answer before ALLOWED_HOSTS is checked)"
            )
    return found


def _tmp_problems(where: str, pod: dict, container: dict) -> list[str]:
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    volume = volumes.get(mounts.get(CONTAINER_TMP, ""))
    if volume is None or "emptyDir" not in volume:
        return [f"{where}: {CONTAINER_TMP} is not an emptyDir (the only writable path of a read-only root)"]
    return []


def _image_problems(where: str, image: str) -> list[str]:
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    if not tag or "@" in name:
        return [f"{where}: image {image} has no tag"]
    if tag == "latest":
        return [f"{where}: image {image} uses :latest"]
    return []


def _env_secret_problems(where: str, container: dict) -> list[str]:
    found = []
    for entry in container.get("env", []):
        if SECRET_NAME.search(entry["name"]) and "value" in entry:
            found.append(f"{where}: {entry['name']} is written into the manifest; reference a Secret")
    return found


def problems(docs: list[dict]) -> list[str]:
    """Everything wrong with one rendered overlay, as sentences; empty when it follows our rules."""
    found: list[str] = []
    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}

    # Every pod: hardened, bounded, probed, with a writable /tmp, its images tagged.
    for doc in docs:
        pod = pod_template(doc)
        if pod is None:
            continue
        if pod["spec"].get("automountServiceAccountToken") is not False:
            found.append(f"{ident(doc)}: mounts a service account token it does not use")
        for role, container in _containers(pod):
            where = f"{ident(doc)} {container['name']}"
            ours = bool(OUR_IMAGE.match(container.get("image", "")))
            found += _security_problems(where, pod, container)
            found += _resource_problems(where, container)
            found += _image_problems(where, container.get("image", ""))
            found += _env_secret_problems(where, container)
            if ours:
                found += _tmp_problems(where, pod, container)
            if role == "main" and doc["kind"] in ("Deployment", "StatefulSet"):
                found += _probe_problems(where, container, ours=ours)

    # Secrets are referenced, never defined in the manifests, and ConfigMaps hold none.
    for doc in by_kind.get("Secret", []):
        found.append(f"{ident(doc)}: a Secret is written into the manifests; create it with kubectl instead")
    for doc in by_kind.get("ConfigMap", []):
        for key in doc.get("data") or {}:
            if SECRET_NAME.search(key):
                found.append(f"{ident(doc)}: {key} is a secret in a ConfigMap")

    # The JWT private key is mounted into the auth web pods only.
    for doc in docs:
        pod = pod_template(doc)
        if pod is None:
            continue
        uses_key = any(
            (volume.get("secret") or {}).get("secretName") == JWT_SECRET
            or any(
                (source.get("secret") or {}).get("name") == JWT_SECRET
                for source in (volume.get("projected") or {}).get("sources", [])
            )
            for volume in pod["spec"].get("volumes", [])
        )
        labels = pod["metadata"].get("labels", {})
        is_auth_web = (
            labels.get("app.kubernetes.io/name") == "auth"
            and labels.get("app.kubernetes.io/component") == "web"
        )
        if uses_key and not is_auth_web:
            found.append(f"{ident(doc)}: mounts the JWT private key; only the auth web pods may")
        for _, container in _containers(pod):
            for source in container.get("envFrom", []):
                if (source.get("secretRef") or {}).get("name") == JWT_SECRET:
                    found.append(f"{ident(doc)}: reads the JWT private key into its environment")
    # Each service reads its own Secret (and Redis's), never another service's.
    for doc in docs:
        pod = pod_template(doc)
        service_name = (pod or {}).get("metadata", {}).get("labels", {}).get("app.kubernetes.io/name")
        if service_name not in DJANGO_SERVICES:
            continue
        own = {f"oasis-{service_name}-secrets", "oasis-redis"}
        for _, container in _containers(pod):
            names = [(s.get("secretRef") or {}).get("name") for s in container.get("envFrom", [])]
            names += [
                ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
                for e in container.get("env", [])
            ]
            for name in filter(None, names):
                if name not in own:
                    found.append(f"{ident(doc)}: reads the Secret {name}, which belongs to another service")
            if f"oasis-{service_name}-secrets" not in names:
                found.append(
                    f"{ident(doc)} {container['name']}: does not read its Secret oasis-{service_name}-secrets"
                )
    if "auth" in deployments and not any(
        (v.get("secret") or {}).get("secretName") == JWT_SECRET
        for v in deployments["auth"]["spec"]["template"]["spec"].get("volumes", [])
    ):
        found.append("Deployment/auth: the JWT private key is not mounted")

    # Each service: a Service in front of its web pods, a PDB, and (for some) an autoscaler.
    services = by_kind.get("Service", [])
    pdbs = by_kind.get("PodDisruptionBudget", [])
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind.get("HorizontalPodAutoscaler", [])}
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        has_ports = any(c.get("ports") for c in deployment["spec"]["template"]["spec"]["containers"])
        if has_ports and not any(
            _selects({"matchLabels": s["spec"].get("selector", {})}, labels) for s in services
        ):
            found.append(f"Deployment/{name}: no Service selects its pods")
        if not OUR_IMAGE.match(deployment["spec"]["template"]["spec"]["containers"][0].get("image", "")):
            continue
        if not any(_selects(p["spec"].get("selector"), labels) for p in pdbs):
            found.append(f"Deployment/{name}: no PodDisruptionBudget")
        if name in hpas and "replicas" in deployment["spec"]:
            found.append(f"Deployment/{name}: sets replicas although an autoscaler owns them")
    for name in AUTOSCALED:
        if name not in hpas:
            found.append(f"{name}: no HorizontalPodAutoscaler")
        elif name not in deployments:
            found.append(f"HorizontalPodAutoscaler/{name}: scales a Deployment that does not exist")
    for service in services:
        selector = service["spec"].get("selector") or {}
        pods = [pod_template(d) for d in docs if pod_template(d) is not None]
        if not any(_selects({"matchLabels": selector}, p["metadata"].get("labels", {})) for p in pods):
            found.append(f"{ident(service)}: selects no pods")

    # Migrations: one Job per service; its pods wait for it and never migrate themselves.
    jobs = by_kind.get("Job", [])
    for service_name in DJANGO_SERVICES:
        migrators = [
            j
            for j in jobs
            if j["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name") == service_name
            and any("manage.py migrate" in _command(c) for _, c in _containers(j["spec"]["template"]))
        ]
        if len(migrators) != 1:
            found.append(f"{service_name}: needs exactly one migration Job, has {len(migrators)}")
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        if pod["metadata"]["labels"].get("app.kubernetes.io/name") not in DJANGO_SERVICES:
            continue
        commands = [(role, _command(c)) for role, c in _containers(pod)]
        if not any(role == "init" and "migrate --check" in command for role, command in commands):
            found.append(
                f"Deployment/{name}: does not wait for its migrations "
                "(an init container running migrate --check)"
            )
        for _, command in commands:
            if "migrate" in command.replace("migrate --check", ""):
                found.append(f"Deployment/{name}: runs migrations itself; replicas would race")

    # Scheduled work: CronJobs that run each command once, never two at a time.
    cronjobs = by_kind.get("CronJob", [])
    for what, (service_name, command) in SCHEDULED.items():
        matching = [
            c
            for c in cronjobs
            if pod_template(c)["metadata"]["labels"].get("app.kubernetes.io/name") == service_name
            and any(command in _command(container) for _, container in _containers(pod_template(c)))
        ]
        if not matching:
            found.append(f"no CronJob runs {what} ({command})")
        for cronjob in matching:
            if any("--every" in _command(container) for _, container in _containers(pod_template(cronjob))):
                found.append(f"{ident(cronjob)}: loops with --every; a CronJob runs the command once")
            if cronjob["spec"].get("concurrencyPolicy") != "Forbid":
                found.append(f"{ident(cronjob)}: runs may overlap (concurrencyPolicy is not Forbid)")

    found += site_store_problems(docs)
    found += rollout_problems(docs)
    found += preview_origin_problems(docs)

    # Network policies start from denying everything.
    if not any(
        p["spec"].get("podSelector") == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in by_kind.get("NetworkPolicy", [])
    ):
        found.append("no default-deny NetworkPolicy")
    return found


def site_store_problems(docs: list[dict]) -> list[str]:
    """Only sites' pods write the site store; the gateway's read it; the claim exists."""
    found = []
    claims = {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    mounted_by = set()
    for doc in docs:
        pod = pod_template(doc)
        if pod is None:
            continue
        volumes = {
            v["name"]: v["persistentVolumeClaim"]
            for v in pod["spec"].get("volumes", [])
            if (v.get("persistentVolumeClaim") or {}).get("claimName") == SITE_STORE_CLAIM
        }
        if not volumes:
            continue
        name = pod["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        mounted_by.add(name)
        if name not in (SITE_STORE_WRITER, "gateway"):
            found.append(f"{ident(doc)}: mounts the site store; only sites and the gateway may")
        for _, container in _containers(pod):
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes or name == SITE_STORE_WRITER:
                    continue
                if not (mount.get("readOnly") and volumes[mount["name"]].get("readOnly")):
                    found.append(
                        f"{ident(doc)} {container['name']}: may write the site store; mount it read-only"
                    )
    if mounted_by and SITE_STORE_CLAIM not in claims:
        found.append(f"PersistentVolumeClaim/{SITE_STORE_CLAIM}: mounted but not defined")
    if any(ident(d) == "Deployment/sites" for d in docs):
        for name in (SITE_STORE_WRITER, "gateway"):
            if name not in mounted_by:
                found.append(f"{name}: does not mount the site store")
    return found


def container_env(docs: list[dict], container: dict) -> dict[str, str]:
    """A container's environment as it starts: its ConfigMaps' data, then its own `env` values."""
    maps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps.get(source["configMapRef"]["name"], {}))
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
    return env


def preview_origin_problems(docs: list[dict]) -> list[str]:
    """Every projects and gateway container is given the same previews' origin, an origin of its own.

    Projects builds preview links on it; the gateway lets the studio frame only it (besides its
    own origin): were they to differ, the studio could not show a preview.
    """
    found = []
    seen: dict[str, str] = {}
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        pod = pod_template(doc)
        name = pod["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        if name not in PREVIEW_READERS:
            continue
        for kind, container in _containers(pod):
            if kind != "main":
                continue
            value = container_env(docs, container).get(PREVIEW_ORIGIN, "")
            where = f"{ident(doc)} {container['name']}"
            if not value:
                found.append(
                    f"{where}: is not given {PREVIEW_ORIGIN}; previews would share the studio's origin"
                )
                continue
            if not ORIGIN.match(value):
                found.append(
                    f"{where}: {PREVIEW_ORIGIN}={value!r} is not an origin like https://preview.example.com"
                )
            seen[where] = value
    if len(set(seen.values())) > 1:
        found.append(
            f"{PREVIEW_ORIGIN} differs between projects and the gateway: "
            + ", ".join(f"{where} {value!r}" for where, value in sorted(seen.items()))
        )
    return found


def _prestop_seconds(container: dict) -> int:
    """The seconds a `sleep N` preStop hook waits; 0 without one."""
    command = (((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get(
        "command"
    ) or []
    words = " ".join(command).split()
    if "sleep" in words and words.index("sleep") + 1 < len(words):
        try:
            return int(float(words[words.index("sleep") + 1]))
        except ValueError:
            return 0
    return 0


def rollout_problems(docs: list[dict]) -> list[str]:
    """Rolling updates and restarts that never drop a request (issue 19), by configuration."""
    found = []
    for doc in docs:
        if doc.get("kind") != "Deployment":
            continue
        pod = doc["spec"]["template"]
        serving = [c for c in pod["spec"].get("containers", []) if c.get("ports")]
        if not serving or not OUR_IMAGE.match(serving[0].get("image", "")):
            continue
        strategy = doc["spec"].get("strategy") or {}
        rolling = strategy.get("rollingUpdate") or {}
        if (
            strategy.get("type", "RollingUpdate") != "RollingUpdate"
            or str(rolling.get("maxUnavailable")) != "0"
        ):
            found.append(
                f"{ident(doc)}: a rollout may drop below the wanted replicas (maxUnavailable is not 0)"
            )
        grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        for container in serving:
            if "readinessProbe" not in container:
                found.append(
                    f"{ident(doc)} {container['name']}: no readiness probe: traffic before it is ready"
                )
            prestop = _prestop_seconds(container)
            if prestop < MIN_PRESTOP_SECONDS:
                found.append(
                    f"{ident(doc)} {container['name']}: no preStop delay of {MIN_PRESTOP_SECONDS}s or more; "
                    "requests still routed to it during endpoint removal would fail"
                )
            if grace < prestop + SHUTDOWN_SECONDS:
                found.append(
                    f"{ident(doc)}: terminationGracePeriodSeconds {grace} does not cover the preStop "
                    f"({prestop}s) and a graceful shutdown ({SHUTDOWN_SECONDS}s)"
                )
    gateway = next((d for d in docs if ident(d) == "Deployment/gateway"), None)
    config_maps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d.get("kind") == "ConfigMap"}
    if gateway is not None:
        env: dict = {}
        for container in gateway["spec"]["template"]["spec"]["containers"][:1]:
            for source in container.get("envFrom", []):
                env.update(config_maps.get((source.get("configMapRef") or {}).get("name"), {}))
            env.update({e["name"]: e.get("value", "") for e in container.get("env", [])})
        if env.get("OASIS_GATEWAY_RESOLVER", "").strip() in ("", "off"):
            found.append(
                "Deployment/gateway: OASIS_GATEWAY_RESOLVER is not set, so nginx would keep a recreated "
                "Service's old address"
            )
    return found
