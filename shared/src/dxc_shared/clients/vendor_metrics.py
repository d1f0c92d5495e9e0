"""Metrics of calls to Xero and Dataverse, shared by every client of theirs."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

VENDOR_CALLS = Counter(
    "dxc_vendor_calls_total",
    "Calls made to Xero or Dataverse, by vendor, operation and HTTP status",
    ["vendor", "operation", "status"],
)
VENDOR_CALL_DURATION = Histogram(
    "dxc_vendor_call_duration_seconds",
    "Time a call to Xero or Dataverse took",
    ["vendor", "operation"],
)
VENDOR_THROTTLED = Counter(
    "dxc_vendor_throttled_total",
    "Answers of 429 (too many requests) from Xero or Dataverse, by vendor",
    ["vendor"],
)
VENDOR_RATE_LIMIT_WAIT = Counter(
    "dxc_vendor_rate_limit_wait_seconds_total",
    "Time spent waiting for a vendor's rate limit instead of calling it",
    ["vendor"],
)
