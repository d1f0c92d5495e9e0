"""payment-sync's Prometheus series (bounded labels only: no connection or record ids)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INVOICES_UPDATED = Counter(
    "dxc_payment_sync_invoices_updated_total",
    "Dynamics invoices updated from Xero, by what changed: status, paid (marked Paid), amount_due",
    ["change"],
)
WEBHOOK_EVENTS = Counter(
    "dxc_payment_sync_webhook_events_total",
    "Xero webhook events received, by result: accepted, rejected_signature, rejected_size "
    "(a body over 1 MiB), unknown_tenant",
    ["result"],
)
JOB_DURATION = Histogram(
    "dxc_payment_sync_job_duration_seconds",
    "Time one payment-sync run took (polling job, webhook batch or reference-data refresh)",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
BALANCES_UPDATED = Counter(
    "dxc_payment_sync_balances_updated_total",
    "Dynamics accounts and contacts whose Xero outstanding or overdue balance changed",
)
REFERENCE_ROWS = Counter(
    "dxc_payment_sync_reference_rows_total",
    "Reference-data rows written to Dynamics, by table and action: created, updated, deactivated",
    ["table", "action"],
)
