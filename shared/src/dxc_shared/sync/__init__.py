"""The sync kernel both workers stand on: one connection's vendor clients, one classification
of what can go wrong in a run, and one run report that becomes `SyncRunCompleted`.

A run's code raises; the kernel decides what the raise means:
- transient (a vendor down or limiting): re-raised, so the bus retries the message later;
- blocked (a grant to renew, a permission missing, nothing chosen yet): the run stops and the
  report carries the words a person needs (`RunBlocked`);
- per record: not an exception at all; the run adds a `SyncFailure` to its report.
"""

from dxc_shared.sync.errors import TRANSIENT_ERRORS, RunBlocked, blocked_by, raise_if_transient
from dxc_shared.sync.report import RunReport
from dxc_shared.sync.vendors import VendorFactory, Vendors

__all__ = [
    "TRANSIENT_ERRORS",
    "RunBlocked",
    "RunReport",
    "VendorFactory",
    "Vendors",
    "blocked_by",
    "raise_if_transient",
]
