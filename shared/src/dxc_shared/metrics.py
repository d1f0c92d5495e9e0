"""Prometheus metrics shared by every service.

All series carry the `dxc_` prefix and base units. Labels are bounded: route templates, never raw
paths; queue and topic names, never message or connection ids.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "dxc_http_requests_total",
    "HTTP requests served, by service, method, route template and status code",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "dxc_http_request_duration_seconds",
    "Time to serve an HTTP request",
    ["service", "method", "route"],
)
BUS_PUBLISHED = Counter(
    "dxc_bus_messages_published_total",
    "Messages published to the bus, by topic",
    ["topic"],
)
BUS_CONSUMED = Counter(
    "dxc_bus_messages_consumed_total",
    "Messages taken from a queue, by outcome: ok, retried or dead_lettered",
    ["queue", "outcome"],
)
BUS_HANDLER_DURATION = Histogram(
    "dxc_bus_handler_duration_seconds",
    "Time a handler spent on one message",
    ["queue"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
BUS_IN_FLIGHT = Gauge(
    "dxc_bus_messages_in_flight",
    "Messages being handled right now, by queue",
    ["queue"],
)
OUTBOX_RELAYED = Counter(
    "dxc_outbox_messages_relayed_total",
    "Messages moved from the transactional outbox to the bus",
)
OUTBOX_RELAY_FAILURES = Counter(
    "dxc_outbox_relay_failures_total",
    "Attempts to relay the outbox that failed and will be tried again",
)
OUTBOX_PENDING = Gauge(
    "dxc_outbox_messages_pending",
    "Committed messages not yet handed to the bus, as of the relay's last pass",
)
OUTBOX_OLDEST_PENDING_AGE = Gauge(
    "dxc_outbox_oldest_pending_age_seconds",
    "Age of the oldest message waiting in the outbox (0 when it is empty)",
)
DEPENDENCY_UP = Gauge(
    "dxc_dependency_up",
    "1 if the dependency (database or bus) answered its last check, else 0; checked at every "
    "scrape and readiness probe",
    ["dependency"],
)


def render_latest() -> tuple[bytes, str]:
    """The exposition text of the default registry and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
