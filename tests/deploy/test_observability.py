"""The alerting rules and Grafana dashboards: well formed, their PromQL parses, and every metric
they select is one the services really export (or one RabbitMQ's exporter documents)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

from tests.deploy.catalogue import DEPLOY, SERVICES

RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))

# Series of RabbitMQ's own exporter, the rabbitmq_prometheus plugin, as scraped from
# /metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count (per queue, labels
# vhost and queue). Not ours, so not in our registry: listed here, and in the README.
RABBITMQ_EXPORTER_METRICS = {
    "rabbitmq_detailed_queue_messages_ready",
    "rabbitmq_detailed_queue_messages_unacked",
    "rabbitmq_detailed_queue_messages",
    "rabbitmq_detailed_queue_consumers",
}
# Series Prometheus makes itself for every scrape target.
PROMETHEUS_SERIES = {"up"}
# Grafana's interval variables, replaced by a duration before parsing.
GRAFANA_DURATIONS = re.compile(r"\$__(rate_interval|interval|range)\b")
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("_count", "_sum", ""),
    "gauge": ("",),
    "info": ("_info",),
}


@pytest.fixture(scope="module")
def exported_metrics() -> set[str]:
    """Every series name the services can expose: their modules are imported and their services
    built, so metrics registered at import or at creation are both in the default registry."""
    for entry in SERVICES.values():
        entry.build()
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def metric_names(expression: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"selector without a metric name in {expression!r}"
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(GRAFANA_DURATIONS.sub("5m", expression)), visit)
    return names


def rules() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield path, rule


def prometheus_targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    for panel in panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            datasource = target.get("datasource") or panel.get("datasource") or {}
            if datasource.get("type") == "prometheus":
                yield panel["title"], target


def test_rules_are_well_formed() -> None:
    assert RULES, "no rule files"
    names = [rule["alert"] for _path, rule in rules()]
    assert len(names) == len(set(names)), "alert names must be unique"
    for _path, rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), rule["alert"]
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), rule["alert"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        promql_parser.parse(rule["expr"])  # raises on a syntax error


def test_rules_cover_what_an_operator_must_hear_about() -> None:
    selected = {name for _path, rule in rules() for name in metric_names(rule["expr"])}
    expressions = " ".join(rule["expr"] for _path, rule in rules())
    wanted = {
        "sync failures": "dxc_invoice_sync_failures_total",
        "sync lag": "dxc_invoice_sync_lag_seconds_bucket",
        "dead letters": "dxc_bus_messages_consumed_total",
        "re-authorisation needed": "dxc_token_broker_reauthorisation_needed_total",
        "token refresh failures": "dxc_token_broker_refreshes_total",
        "queue backlog": "rabbitmq_detailed_queue_messages_ready",
    }
    missing = {topic for topic, metric in wanted.items() if metric not in selected}
    assert not missing, f"no alert on {sorted(missing)}"
    assert 'outcome="dead_lettered"' in expressions


def test_rules_only_name_exported_metrics(exported_metrics: set[str]) -> None:
    known = exported_metrics | RABBITMQ_EXPORTER_METRICS | PROMETHEUS_SERIES
    for _path, rule in rules():
        unknown = metric_names(rule["expr"]) - known
        assert not unknown, f"{rule['alert']}: no service exports {sorted(unknown)}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_queries_only_name_exported_metrics(
    path: Path, exported_metrics: set[str]
) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] == path.stem
    known = exported_metrics | RABBITMQ_EXPORTER_METRICS
    targets = list(prometheus_targets(dashboard))
    for title, target in targets:
        unknown = metric_names(target["expr"]) - known
        assert not unknown, f"{path.name}, panel {title!r}: no service exports {sorted(unknown)}"
    variables = dashboard["templating"]["list"]
    for variable in variables:
        if variable["type"] == "query" and variable["datasource"]["type"] == "prometheus":
            query = variable["query"]["query"]
            match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
            assert match, query
            assert match.group(1) in known


def test_dashboards_show_what_the_issue_asks_for(exported_metrics: set[str]) -> None:
    shown: set[str] = set()
    for path in DASHBOARDS:
        for _title, target in prometheus_targets(json.loads(path.read_text())):
            shown |= metric_names(target["expr"])
    wanted = {
        "throughput": "dxc_invoice_sync_invoices_total",
        "lag": "dxc_invoice_sync_lag_seconds_bucket",
        "failure reasons": "dxc_invoice_sync_failures_total",
        "queue depth": "rabbitmq_detailed_queue_messages_ready",
        "vendor call rates": "dxc_vendor_calls_total",
        "429s": "dxc_vendor_throttled_total",
    }
    missing = {topic for topic, metric in wanted.items() if metric not in shown}
    assert not missing, f"no panel for {sorted(missing)}"
    ours = {name for name in exported_metrics if name.startswith("dxc_")}
    assert ours & shown, "the dashboards show none of the services' own metrics"


def test_every_metric_name_check_can_fail() -> None:
    assert metric_names('sum by (queue) (rate(a_total{queue=~"$queue"}[$__rate_interval]))') == {
        "a_total"
    }
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        metric_names("sum(rate(a_total[5m])")


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_layout_and_data_sources_resolve(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    provisioned = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "dxc.yml").read_text()
    )["datasources"]
    uids = {source["uid"]: source["type"] for source in provisioned}
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels), "panel ids must be unique"
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for target in [panel, *panel.get("targets", [])]:
            datasource = target.get("datasource")
            if datasource is None:
                continue
            uid = datasource["uid"]
            if uid.startswith("${"):
                variable = variables[uid[2:-1]]
                assert variable["type"] == "datasource"
                uid = variable["current"]["value"]
            assert uid in uids, f"{panel['title']}: no provisioned data source {uid}"
            assert uids[uid] == datasource["type"], panel["title"]
