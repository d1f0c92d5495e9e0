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

from dxc_shared.dynamics.schema import INVOICE
from dxc_shared.dynamics.webhook import MESSAGES

# A RemoteExecutionContext nests a few levels (the Target's attributes' values); the bound keeps
# a hostile body from exhausting the parser (the body is read only after the secret matched).
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PushedChange:
    message: str
    entity: str
    record_id: uuid.UUID
    organization_id: uuid.UUID

    @property
    def wanted(self) -> bool:
        """An Update or Delete of an invoice: the only changes a sync request answers."""
        return self.message in MESSAGES and self.entity == INVOICE.logical_name


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
    return PushedChange(message, entity, record_id, organization_id)


def coalesced_due_at(
    pending_due_at: datetime | None, now: datetime, window: timedelta
) -> datetime | None:
    """When a push should become a sync request: a new request `window` from now, or None when
    one is already pending for the connection (this push joins it: it is not yet sent, so the
    sync it asks for starts after this change was committed)."""
    return None if pending_due_at is not None else now + window


def seconds_until_next(earliest_due: datetime | None, now: datetime, idle: float) -> float:
    """How long the relay may sleep: until the earliest pending request falls due, and at most
    `idle` (another replica may have taken the post and its wake-up)."""
    if earliest_due is None:
        return idle
    return min(idle, max(0.0, (earliest_due - now).total_seconds()))
