"""A small kustomize, for the features deploy/k8s uses (resources, components, namespace,
images), so the overlays can be rendered and checked where no kustomize or kubectl is
installed. Any other kustomization field fails loudly rather than being silently ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "components", "namespace", "images"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
Document = dict[str, Any]


class UnsupportedKustomization(Exception):
    pass


def render(directory: Path) -> list[Document]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - SUPPORTED_FIELDS
    if unsupported:
        raise UnsupportedKustomization(
            f"{directory}: this renderer does not implement {sorted(unsupported)}"
        )
    documents: list[Document] = []
    for entry in [*kustomization.get("resources", []), *kustomization.get("components", [])]:
        path = (directory / entry).resolve()
        if path.is_dir():
            documents.extend(render(path))
        else:
            documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    namespace = kustomization.get("namespace")
    if namespace:
        for document in documents:
            if document["kind"] not in CLUSTER_SCOPED:
                document["metadata"]["namespace"] = namespace
    for image in kustomization.get("images", []):
        for container in _containers(documents):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                new_tag = image.get("newTag", tag)
                container["image"] = image.get("newName", name) + (f":{new_tag}" if new_tag else "")
    seen: set[tuple[str, str, str]] = set()
    for document in documents:
        key = (document["kind"], document["metadata"].get("namespace", ""), name_of(document))
        if key in seen:
            raise UnsupportedKustomization(f"{directory}: {key} is defined twice")
        seen.add(key)
    return documents


def name_of(document: Document) -> str:
    return str(document["metadata"]["name"])


def _containers(documents: list[Document]) -> list[Document]:
    containers: list[Document] = []
    for document in documents:
        pod = pod_spec(document)
        if pod is not None:
            containers.extend(pod.get("containers", []) + pod.get("initContainers", []))
    return containers


def pod_spec(document: Document) -> Document | None:
    if document["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        spec: Document = document["spec"]["template"]["spec"]
        return spec
    return None
