"""What a Dataverse webhook delivery says, and when its pushes become a sync request: pure
functions, no I/O and no clock.

Dataverse posts the operation's RemoteExecutionContext as JSON (Microsoft Learn, "Use webhooks
to create external handlers for server events"; the members are those of
Microsoft.Xrm.Sdk.RemoteExecutionContext): `MessageName`, `PrimaryEntityName`,
`PrimaryEntityId`, `OrganizationId`, `Depth`, `InputParameters` (the Target), ... The connector
only needs to know that an invoice of the organisation changed: the sync that follows reads
Dynamics itself, so nothing in the body is trusted beyond deciding whether to ask for one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dxc_shared.dynamics.columns import Common, InvoiceColumns, InvoiceState
from dxc_shared.dynamics.schema import INVOICE, INVOICE_CONNECTOR, ExportStatus
from dxc_shared.dynamics.webhook import MESSAGES

# A RemoteExecutionContext nests a few levels (the Target's attributes' values); the bound keeps
# a hostile body from exhausting the parser (the body is read only after the secret matched).
MAX_BODY_BYTES = 1024 * 1024


def _choice(value: Any) -> Any:
    """An OptionSetValue's number (`{"__type": "OptionSetValue:...", "Value": 3}`)."""
    return value.get("Value") if isinstance(value, dict) else value


def _makes_work(column: str, value: Any) -> bool:
    """Whether setting `column` to `value` can give a sync something to do: an invoice handed
    to the connector, its export status back to No (a retry), reactivated or cancelled. The
    connector's own write-back (export status Yes or Failed) and payment-sync's Paid state
    make none, so they do not echo back as sync requests."""
    if column == INVOICE_CONNECTOR.logical_name:
        return value is not None
    if column == InvoiceColumns.EXPORT_STATUS:
        return _choice(value) in (None, ExportStatus.NO)
    if column == Common.STATE:
        return _choice(value) in (InvoiceState.ACTIVE, InvoiceState.CANCELED)
    return False


@dataclass(frozen=True)
class PushedChange:
    message: str
    entity: str
    record_id: uuid.UUID
    organization_id: uuid.UUID
    # The columns an Update set (its Target's attributes); None when the body does not say.
    columns: tuple[tuple[str, Any], ...] | None = None

    @property
    def wanted(self) -> bool:
        """An invoice deleted, or updated in a way that can give a sync work."""
        if self.message not in MESSAGES or self.entity != INVOICE.logical_name:
            return False
        if self.message != "Update" or self.columns is None:
            return True
        return any(_makes_work(column, value) for column, value in self.columns)


def _target_columns(payload: dict[str, Any]) -> tuple[tuple[str, Any], ...] | None:
    """The Target entity's attributes (`InputParameters: [{"key": "Target", "value": {...,
    "Attributes": [{"key": ..., "value": ...}]}}]`)."""
    parameters = payload.get("InputParameters")
    if not isinstance(parameters, list):
        return None
    for parameter in parameters:
        if not isinstance(parameter, dict) or parameter.get("key") != "Target":
            continue
        target = parameter.get("value")
        attributes = target.get("Attributes") if isinstance(target, dict) else None
        if not isinstance(attributes, list):
            return None
        return tuple((str(a.get("key")), a.get("value")) for a in attributes if isinstance(a, dict))
    return None


def _guid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def parse_context(body: bytes) -> PushedChange | None:
    """The change a RemoteExecutionContext describes; None when the body is not one."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    message, entity = payload.get("MessageName"), payload.get("PrimaryEntityName")
    record_id = _guid(payload.get("PrimaryEntityId"))
    organization_id = _guid(payload.get("OrganizationId"))
    if not isinstance(message, str) or not isinstance(entity, str):
        return None
    if record_id is None or organization_id is None:
        return None
    return PushedChange(message, entity, record_id, organization_id, _target_columns(payload))


def coalesced_due_at(
    pending_due_at: datetime | None,
    last_requested_at: datetime | None,
    now: datetime,
    window: timedelta,
) -> datetime | None:
    """When a push should become a sync request, or None when one is already pending for the
    connection (this push joins it: it is not yet sent, so the sync it asks for starts after
    this change was committed). The first push after a quiet `window` goes at once; those
    that follow it within the window wait for its end, together: at most one request a window
    per connection, and no push waits longer than the window."""
    if pending_due_at is not None:
        return None
    if last_requested_at is None:
        return now
    return max(now, last_requested_at + window)


def seconds_until_next(earliest_due: datetime | None, now: datetime, idle: float) -> float:
    """How long the relay may sleep: until the earliest pending request falls due, and at most
    `idle` (another replica may have taken the post and its wake-up)."""
    if earliest_due is None:
        return idle
    return min(idle, max(0.0, (earliest_due - now).total_seconds()))
