"""What the rendered NetworkPolicies allow: a small evaluator of their semantics within one namespace.

Traffic flows when the sender's egress allows it (or no policy restricts the sender's egress)
and the receiver's ingress allows it. Pods are taken from the rendered pod templates; a pod
inside the cluster has an address in POD_NETWORK, anything else is an external address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .kubernetes_rules import _selects, pod_template

POD_NETWORK_ADDRESS = "10.244.1.17"
NAMESPACE = "oasis"


@dataclass(frozen=True)
class Endpoint:
    name: str
    labels: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)  # port name -> number
    address: str = POD_NETWORK_ADDRESS
    namespace: str = NAMESPACE

    @property
    def in_cluster(self) -> bool:
        return self.namespace == NAMESPACE


def outside(address: str = "203.0.113.10") -> Endpoint:
    """An address outside the cluster (the internet, a managed database)."""
    return Endpoint(name=f"outside:{address}", address=address, namespace="")


def pods(docs: list[dict]) -> dict[str, Endpoint]:
    """One endpoint per workload, named after the workload."""
    found = {}
    for doc in docs:
        template = pod_template(doc)
        if template is None:
            continue
        ports = {
            port["name"]: port["containerPort"]
            for container in template["spec"].get("containers", [])
            for port in container.get("ports", [])
            if "name" in port
        }
        found[doc["metadata"]["name"]] = Endpoint(
            name=doc["metadata"]["name"], labels=template["metadata"].get("labels", {}), ports=ports
        )
    return found


def _peer_matches(peer: dict, endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(endpoint.address)
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(cidr) for cidr in block.get("except", []))
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is not None:
        if not _selects(namespace_selector, {"kubernetes.io/metadata.name": endpoint.namespace}):
            return False
    elif not endpoint.in_cluster:
        return False
    pod_selector = peer.get("podSelector")
    return pod_selector is None or _selects(pod_selector, endpoint.labels)


def _ports_match(rule_ports: list | None, port: int, protocol: str, receiver: Endpoint) -> bool:
    if not rule_ports:
        return True
    for entry in rule_ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        if "port" not in entry:
            return True
        value = entry["port"]
        number = receiver.ports.get(value) if isinstance(value, str) else value
        if number is not None and number <= port <= entry.get("endPort", number):
            return True
    return False


def _allowed(
    policies: list[dict], subject: Endpoint, peer: Endpoint, port: int, protocol: str, *, direction: str
):
    """Whether `subject`'s policies of `direction` ('Ingress' or 'Egress') let it talk with `peer`."""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    receiver = subject if direction == "Ingress" else peer
    selecting = [
        p
        for p in policies
        if _selects(p["spec"].get("podSelector"), subject.labels)
        and direction in p["spec"].get("policyTypes", ["Ingress"])
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            if (not peers or any(_peer_matches(p, peer) for p in peers)) and _ports_match(
                rule.get("ports"), port, protocol, receiver
            ):
                return True
    return False


def admits(docs: list[dict], sender: Endpoint, receiver: Endpoint, port: int, protocol: str = "TCP") -> bool:
    """The receiver's side alone: whether its ingress policies let the sender in."""
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    return _allowed(policies, receiver, sender, port, protocol, direction="Ingress")


def allows(docs: list[dict], sender: Endpoint, receiver: Endpoint, port: int, protocol: str = "TCP") -> bool:
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    egress = (
        _allowed(policies, sender, receiver, port, protocol, direction="Egress")
        if sender.in_cluster
        else True
    )
    ingress = (
        _allowed(policies, receiver, sender, port, protocol, direction="Ingress")
        if receiver.in_cluster
        else True
    )
    return egress and ingress
