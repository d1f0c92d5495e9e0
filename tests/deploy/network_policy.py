"""Which connections a set of NetworkPolicies lets through, following the Kubernetes rules: a
connection needs the source's egress and the destination's ingress to allow it; a pod no policy
of a direction selects is open in that direction; a peer with only a podSelector means the
policy's own namespace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Labels = dict[str, str]


@dataclass(frozen=True)
class Endpoint:
    namespace: str
    labels: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, namespace: str, labels: Labels) -> Endpoint:
        return cls(namespace, tuple(sorted(labels.items())))

    @property
    def label_map(self) -> Labels:
        return dict(self.labels)

    @property
    def namespace_labels(self) -> Labels:
        return {"kubernetes.io/metadata.name": self.namespace}


def selects(selector: dict[str, Any] | None, labels: Labels) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        match operator:
            case "In":
                ok = labels.get(key) in values
            case "NotIn":
                ok = labels.get(key) not in values
            case "Exists":
                ok = key in labels
            case "DoesNotExist":
                ok = key not in labels
            case _:
                raise ValueError(f"unknown selector operator {operator}")
        if not ok:
            return False
    return True


def _peer_matches(peer: dict[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        return False  # pods are matched by selectors; ipBlocks are for outside the cluster
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector"), other.label_map)


def _ports_match(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(
        entry.get("protocol", "TCP") == protocol and entry.get("port") in (None, port)
        for entry in ports
    )


def _side_allows(
    policies: list[dict[str, Any]],
    direction: str,
    subject: Endpoint,
    other: Endpoint | None,
    port: int,
    protocol: str,
    external_ip: bool,
) -> bool:
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [
        policy
        for policy in policies
        if policy["metadata"]["namespace"] == subject.namespace
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
        and selects(policy["spec"]["podSelector"], subject.label_map)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            if not _ports_match(rule, port, protocol):
                continue
            peers = rule.get(peers_key)
            if not peers:
                return True
            for peer in peers:
                if external_ip and "ipBlock" in peer:
                    return True
                if other is not None and _peer_matches(
                    peer, policy["metadata"]["namespace"], other
                ):
                    return True
    return False


def allows(
    policies: list[dict[str, Any]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Can `source` open a connection to `destination`'s `port`? (Both pods in the cluster.)"""
    return _side_allows(
        policies, "Egress", source, destination, port, protocol, external_ip=False
    ) and _side_allows(policies, "Ingress", destination, source, port, protocol, external_ip=False)


def allows_egress_outside(
    policies: list[dict[str, Any]], source: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Can `source` reach an address outside the cluster on `port`?"""
    return _side_allows(policies, "Egress", source, None, port, protocol, external_ip=True)
