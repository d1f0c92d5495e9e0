"""invoice-sync's Prometheus series (names fixed: operators' dashboards use them). Xero and
Dataverse call counts come from `dxc_vendor_calls_total`, counted by the shared clients."""

from __future__ import annotations

from typing import Literal

from prometheus_client import Counter, Histogram

InvoiceOutcome = Literal["exported", "failed", "linked", "updated"]
FailureReason = Literal[
    "contact_missing",
    "account_code_unknown",
    "tax_type_invalid",
    "currency_not_enabled",
    "xero_validation",
    "value_too_long",
    "product_deleted",
    "amounts_differ",
    "update_refused",
    "other",
]
JobResult = Literal["completed", "failed", "deferred"]

INVOICES = Counter(
    "dxc_invoice_sync_invoices_total",
    "Invoices handled, by outcome: exported (created in Xero), failed, linked (an earlier "
    "attempt already in Xero was found and written back instead of being created again), "
    "updated (an exported invoice set to Update in Xero)",
    ["outcome"],
)
FAILURES = Counter(
    "dxc_invoice_sync_failures_total", "Invoices marked Failed, by reason", ["reason"]
)
JOBS = Counter(
    "dxc_invoice_sync_jobs_total",
    "Invoice jobs, by result: completed, failed (the run could not proceed) or deferred "
    "(another worker held the connection and will run again)",
    ["result"],
)
JOB_DURATION = Histogram(
    "dxc_invoice_sync_job_duration_seconds",
    "Time one invoice job took, reruns included",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
BATCH_SIZE = Histogram(
    "dxc_invoice_sync_batch_size",
    "Invoices per Xero batch create",
    buckets=(1, 2, 5, 10, 20, 30, 40, 50),
)
LAG = Histogram(
    "dxc_invoice_sync_lag_seconds",
    "From an invoice being ready (delivered and handed to the connector) to it being in Xero "
    "and written back to Dynamics (the lag the portal's overview shows)",
    buckets=(1, 5, 15, 30, 60, 120, 300, 900, 3600, 6 * 3600, 86400),
)


def count_invoice(outcome: InvoiceOutcome, amount: int = 1) -> None:
    if amount:
        INVOICES.labels(outcome).inc(amount)


def count_failure(reason: FailureReason) -> None:
    INVOICES.labels("failed").inc()
    FAILURES.labels(reason).inc()


def count_job(result: JobResult) -> None:
    JOBS.labels(result).inc()
