"""deploy/k8s: every overlay rendered, validated against the Kubernetes API schemas (offline,
kubernetes-validate), the KEDA and Prometheus Operator resources checked for what their CRDs
require, and the wiring checked against the services' code: settings, queues, shutdown."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.db.migrate import MigrateSettings
from dxc_shared.messages import SyncInvoicesJob, SyncPaymentsJob
from fastapi.routing import APIRoute
from payment_sync.webhooks.endpoints import router as webhooks_router

from tests.deploy.catalogue import DEPLOY, SERVICES, console_scripts
from tests.deploy.kustomize import (
    Document,
    UnsupportedKustomization,
    name_of,
    pod_spec,
    render,
)
from tests.deploy.network_policy import Endpoint, allows, allows_egress_outside

K8S = DEPLOY / "k8s"
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
# The oldest Kubernetes the manifests promise to work on, and the newest the schemas know.
KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
SCALED_WORKERS = {"invoice-sync": SyncInvoicesJob, "payment-sync": SyncPaymentsJob}


def by_kind(documents: list[Document], kind: str) -> dict[str, Document]:
    return {name_of(doc): doc for doc in documents if doc["kind"] == kind}


def example_secret(name: str) -> dict[str, str]:
    path = K8S / "secrets.example" / f"{name}.env"
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if "=" in line]
    return dict(pairs)


@pytest.fixture(scope="module", params=[path.name for path in OVERLAYS])
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[Document]]:
    return request.param, render(K8S / "overlays" / request.param)


def test_there_is_an_overlay_with_keda_and_one_without() -> None:
    assert {path.name for path in OVERLAYS} == {"keda", "hpa"}


def test_every_resource_matches_the_kubernetes_schema(overlay: tuple[str, list[Document]]) -> None:
    _name, documents = overlay
    built_in = [
        doc
        for doc in documents
        if "." not in doc["apiVersion"].split("/")[0]
        or doc["apiVersion"].split("/")[0].endswith(".k8s.io")
    ]
    assert {doc["kind"] for doc in built_in} >= {"Deployment", "Job", "NetworkPolicy"}
    for document in built_in:
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(document, version, strict=True)
    for document in documents:
        assert document["kind"] == "Namespace" or document["metadata"]["namespace"] == "dxc", (
            f"{document['kind']}/{name_of(document)} would land in kubectl's current namespace"
        )


def test_custom_resources_have_what_their_definitions_require(
    overlay: tuple[str, list[Document]],
) -> None:
    _name, documents = overlay
    deployments = by_kind(documents, "Deployment")
    authentications = by_kind(documents, "TriggerAuthentication")
    for scaled in by_kind(documents, "ScaledObject").values():
        assert scaled["apiVersion"] == "keda.sh/v1alpha1"
        spec = scaled["spec"]
        assert spec["scaleTargetRef"]["name"] in deployments
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert spec["triggers"], "a ScaledObject needs at least one trigger"
        for trigger in spec["triggers"]:
            assert isinstance(trigger["type"], str)
            assert all(isinstance(value, str) for value in trigger["metadata"].values()), (
                "KEDA trigger metadata values must be strings"
            )
            if "authenticationRef" in trigger:
                assert trigger["authenticationRef"]["name"] in authentications
    for authentication in authentications.values():
        for ref in authentication["spec"]["secretTargetRef"]:
            secret = example_secret(ref["name"].removeprefix("dxc-"))
            assert {"parameter", "name", "key"} <= set(ref)
            assert ref["key"] in secret


def test_the_prometheus_operator_component_selects_the_service_pods() -> None:
    documents = render(K8S / "components" / "prometheus-operator")
    assert {doc["kind"] for doc in documents} == {"PodMonitor", "PrometheusRule"}
    (monitor,) = by_kind(documents, "PodMonitor").values()
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    endpoints = monitor["spec"]["podMetricsEndpoints"]
    assert [endpoint["port"] for endpoint in endpoints] == ["http"]
    # The alerting rules select services by a `service` label, as compose's targets have.
    (relabeling,) = endpoints[0]["relabelings"]
    assert relabeling == {
        "sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
        "targetLabel": "service",
    }
    deployments = by_kind(render(K8S / "base"), "Deployment")
    for name in SERVICES:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert all(
            labels.get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items()
        )
    web = pod_spec(deployments["web"])
    assert web is not None
    assert "http" not in {port["name"] for port in web["containers"][0]["ports"]}, (
        "the portal's nginx has no /metrics: its port must not be the one scraped"
    )


def configured_env(documents: list[Document], container: Document) -> dict[str, str]:
    """The variables a container takes from ConfigMaps: envFrom, each key behind its source's
    prefix. A variable from two sources would be set twice (the last silently wins)."""
    config_maps = by_kind(documents, "ConfigMap")
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            data = config_maps[source["configMapRef"]["name"]]["data"]
            prefixed = {source.get("prefix", "") + key: value for key, value in data.items()}
            assert not set(env) & set(prefixed), f"set twice: {sorted(set(env) & set(prefixed))}"
            env.update(prefixed)
    return env


def service_env(documents: list[Document], name: str) -> dict[str, str]:
    pod = pod_spec(by_kind(documents, "Deployment")[name])
    assert pod is not None
    (container,) = pod["containers"]
    return configured_env(documents, container)


def test_each_setting_is_set_once() -> None:
    """A value several services share is one key, handed to each service under its own prefix,
    not a copy per service."""
    documents = render(K8S / "base")
    keys = [key for data in by_kind(documents, "ConfigMap").values() for key in data["data"]]
    assert sorted(keys) == sorted(set(keys)), "a setting is in more than one ConfigMap"
    deployments = by_kind(documents, "Deployment")
    for name, entry in SERVICES.items():
        pod = pod_spec(deployments[name])
        assert pod is not None
        (container,) = pod["containers"]
        for source in container["envFrom"]:
            if "configMapRef" in source:
                assert source.get("prefix") == entry.prefix, f"{name}: {source}"


def test_each_service_is_deployed_with_probes_resources_and_its_settings() -> None:
    documents = render(K8S / "base")
    deployments = by_kind(documents, "Deployment")
    assert set(deployments) == {*SERVICES, "web"}
    for name, entry in SERVICES.items():
        pod = pod_spec(deployments[name])
        assert pod is not None
        (container,) = pod["containers"]
        config = configured_env(documents, container)
        assert container["command"] == [name]
        assert container["image"] == "ghcr.io/dx-connector/dx-connector:latest"
        assert name in console_scripts()
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert int(config[f"{entry.prefix}PORT"]) == ports["http"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"])
        assert "memory" in resources["limits"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True

        sources = container["envFrom"]
        assert {"secretRef": {"name": f"dxc-{name}"}} in sources
        configured = set(config)
        secret = set(example_secret(name))
        missing = entry.required_env() - configured - secret
        assert not missing, f"{name} would refuse to start without {sorted(missing)}"
        unknown = (configured | secret) - entry.env_names()
        assert not unknown, f"{name} has no such settings: {sorted(unknown)}"
        assert not configured & secret, "a value is both in the ConfigMap and the Secret"


def test_the_grace_period_covers_the_drain_after_sigterm() -> None:
    documents = render(K8S / "base")
    deployments = by_kind(documents, "Deployment")
    for name in SERVICES:
        pod = pod_spec(deployments[name])
        assert pod is not None
        (container,) = pod["containers"]
        pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        config = configured_env(documents, container)
        shutdown = float(config[f"{SERVICES[name].prefix}SHUTDOWN_TIMEOUT_SECONDS"])
        # preStop, then SIGTERM: uvicorn waits up to the shutdown timeout for open requests,
        # then in-flight messages get the shutdown timeout, and the outbox drain and connection
        # close need a few seconds more before SIGKILL.
        assert pod["terminationGracePeriodSeconds"] >= int(pre_stop[1]) + 2 * shutdown + 5


def test_every_deployment_has_a_disruption_budget() -> None:
    documents = render(K8S / "base")
    budgets = by_kind(documents, "PodDisruptionBudget")
    for name, deployment in by_kind(documents, "Deployment").items():
        budget = budgets[name]
        assert budget["spec"]["selector"] == deployment["spec"]["selector"]
        assert (
            budget["spec"].get("maxUnavailable") == 1
            or budget["spec"]["minAvailable"] < (deployment["spec"]["replicas"])
        ), "a budget no pod can satisfy blocks every node drain"


def test_the_migration_job_runs_dxc_migrate_with_its_secret() -> None:
    documents = render(K8S / "base")
    job = by_kind(documents, "Job")["dxc-migrate"]
    pod = pod_spec(job)
    assert pod is not None
    (container,) = pod["containers"]
    assert container["command"] == ["dxc-migrate", "upgrade"]
    assert container["envFrom"] == [{"secretRef": {"name": "dxc-migrate"}}]
    prefix = MigrateSettings.model_config["env_prefix"]
    required = {
        prefix + name.upper()
        for name, field in MigrateSettings.model_fields.items()
        if field.is_required()
    }
    assert required <= set(example_secret("migrate"))
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True


def _queues(command: str, namespace: str) -> tuple[str, set[str]]:
    """The worker's job queue and every queue it consumes, as named on RabbitMQ."""
    service = SERVICES[command].build(namespace)
    broker = RabbitMQBroker("amqp://unused", namespace)
    jobs = [
        broker.queue_name(subscription.queue)
        for subscription in service.subscriptions
        if subscription.message_type is SCALED_WORKERS[command]
    ]
    assert len(jobs) == 1, f"{command} should consume {SCALED_WORKERS[command].__name__} once"
    return jobs[0], {broker.queue_name(s.queue) for s in service.subscriptions}


def test_keda_scales_the_workers_on_their_job_queues() -> None:
    documents = render(K8S / "overlays" / "keda")
    scaled = by_kind(documents, "ScaledObject")
    assert set(scaled) == set(SCALED_WORKERS)
    assert not by_kind(documents, "HorizontalPodAutoscaler"), "KEDA owns the HPAs here"
    for command in SCALED_WORKERS:
        namespace = service_env(documents, command)[f"{SERVICES[command].prefix}BUS_NAMESPACE"]
        job_queue, consumed = _queues(command, namespace)
        triggers = [t for t in scaled[command]["spec"]["triggers"] if t["type"] == "rabbitmq"]
        queues = {trigger["metadata"]["queueName"] for trigger in triggers}
        assert job_queue in queues, f"{command} does not scale on its job queue {job_queue}"
        assert queues <= consumed, f"{command} scales on queues it does not read: {queues}"
        assert all(trigger["metadata"]["mode"] == "QueueLength" for trigger in triggers)


def test_without_keda_the_workers_scale_on_cpu() -> None:
    documents = render(K8S / "overlays" / "hpa")
    deployments = by_kind(documents, "Deployment")
    autoscalers = by_kind(documents, "HorizontalPodAutoscaler")
    assert set(autoscalers) == set(SCALED_WORKERS)
    for name, autoscaler in autoscalers.items():
        assert autoscaler["spec"]["scaleTargetRef"]["name"] in deployments
        (metric,) = autoscaler["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        pod = pod_spec(deployments[name])
        assert pod is not None
        assert "cpu" in pod["containers"][0]["resources"]["requests"], "CPU % needs a request"


def _pods(documents: list[Document]) -> dict[str, Endpoint]:
    pods = {}
    for document in documents:
        if document["kind"] in ("Deployment", "Job"):
            labels = document["spec"]["template"]["metadata"]["labels"]
            pods[name_of(document)] = Endpoint.of(document["metadata"]["namespace"], labels)
    return pods


def _listens_on(documents: list[Document]) -> dict[str, int]:
    ports = {}
    for document in documents:
        pod = pod_spec(document)
        if document["kind"] == "Deployment" and pod is not None:
            ports[name_of(document)] = pod["containers"][0]["ports"][0]["containerPort"]
    return ports


def test_network_policies_allow_only_the_flows_the_architecture_needs() -> None:
    documents = render(K8S / "overlays" / "keda")
    policies = [doc for doc in documents if doc["kind"] == "NetworkPolicy"]
    pods = _pods(documents)
    port = _listens_on(documents)
    anything = Endpoint.of("elsewhere", {"app": "anything"})

    between_pods = {
        (source, destination)
        for source, source_pod in pods.items()
        for destination, destination_pod in pods.items()
        if destination in port
        and source != destination
        and allows(policies, source_pod, destination_pod, port[destination])
    }
    assert between_pods == {
        ("web", "portal-api"),
        ("portal-api", "token-broker"),
        ("invoice-sync", "token-broker"),
        ("payment-sync", "token-broker"),
    }
    ingress_controller = Endpoint.of("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    reachable = {
        name
        for name, pod in pods.items()
        if name in port and allows(policies, ingress_controller, pod, port[name])
    }
    assert reachable == {"web", "payment-sync"}
    assert not allows_egress_outside(policies, pods["web"], 5432)
    assert not allows_egress_outside(policies, pods["web"], 443)
    prometheus = Endpoint.of("monitoring", {"app.kubernetes.io/name": "prometheus"})
    for name in SERVICES:
        assert allows(policies, prometheus, pods[name], 8000)
        assert not allows(policies, anything, pods[name], 8000)
        database = Endpoint.of("data", {"app": "postgresql"})
        # Egress to PostgreSQL and RabbitMQ by port (they may be managed services).
        assert allows_egress_outside(policies, pods[name], 5432)
        assert allows_egress_outside(policies, pods[name], 5672)
        assert not allows(policies, pods[name], database, 22)
    assert allows_egress_outside(policies, pods["dxc-migrate"], 5432)
    talks_to_vendors = {
        name for name, pod in pods.items() if allows_egress_outside(policies, pod, 443)
    }
    assert talks_to_vendors == {"portal-api", "invoice-sync", "payment-sync", "token-broker"}


def test_overlays_only_add_to_the_base() -> None:
    base = {(doc["kind"], name_of(doc)) for doc in render(K8S / "base")}
    for path in OVERLAYS:
        rendered = {(doc["kind"], name_of(doc)) for doc in render(path)}
        assert base <= rendered, f"{path.name} lost {base - rendered}"


def test_the_ingress_routes_the_portal_and_xero_webhooks() -> None:
    documents = render(K8S / "base")
    (ingress,) = by_kind(documents, "Ingress").values()
    services = by_kind(documents, "Service")
    routes = {
        path["path"]: path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes["/"]["name"] == "web"
    webhook_paths = {route.path for route in webhooks_router.routes if isinstance(route, APIRoute)}
    (webhook,) = webhook_paths & set(routes)
    assert routes[webhook]["name"] == "payment-sync"
    for backend in routes.values():
        ports = {port["name"] for port in services[backend["name"]]["spec"]["ports"]}
        assert backend["port"]["name"] in ports
    nginx = (DEPLOY / "web" / "nginx.conf").read_text()
    portal_api = services["portal-api"]["spec"]["ports"][0]["port"]
    assert f"proxy_pass http://portal-api:{portal_api}/;" in nginx


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: []\n")
    with pytest.raises(UnsupportedKustomization, match="patches"):
        render(tmp_path)


def test_every_deployment_spreads_its_replicas_over_nodes() -> None:
    for documents in (render(path) for path in OVERLAYS):
        for name, deployment in by_kind(documents, "Deployment").items():
            pod = pod_spec(deployment)
            assert pod is not None
            constraints = {c["topologyKey"]: c for c in pod.get("topologySpreadConstraints", [])}
            by_node = constraints.get("kubernetes.io/hostname")
            assert by_node, f"{name}: both replicas may land on one node"
            assert by_node["whenUnsatisfiable"] == "DoNotSchedule", name
            assert by_node["maxSkew"] == 1, name
            for constraint in constraints.values():
                # The constraint counts this Deployment's pods, and those of its current
                # revision only (else a rolling update's old pods skew the count).
                selector = constraint["labelSelector"]["matchLabels"]
                assert selector == deployment["spec"]["selector"]["matchLabels"], name
                assert constraint["matchLabelKeys"] == ["pod-template-hash"], name
