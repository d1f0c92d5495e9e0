"""Dataverse plumbing of invoice-sync: column names, bulk reads by id, `If-Match: *` patches and
the one sync history row every outcome writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from dxc_shared.clients.dataverse import BatchOperation, DataverseClient
from dxc_shared.dynamics.schema import (
    CONNECTOR,
    HISTORY_CONNECTOR,
    HISTORY_INVOICE,
    INVOICE,
    SYNC_HISTORY,
    SyncOutcome,
)

JSON = dict[str, Any]
_OR_CHUNK = 50  # ids per `or` filter: keeps the query string well under URL limits


def column(schema_name: str) -> str:
    """The logical name of a column declared by its schema name."""
    return schema_name.lower()


def _chunks(values: Sequence[str], size: int = _OR_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def rows_where_in(
    client: DataverseClient, entity_set: str, key: str, ids: Sequence[str], select: Sequence[str]
) -> list[JSON]:
    """The rows whose `key` is one of `ids`, in as few `or` filters as URL limits allow."""
    rows: list[JSON] = []
    for chunk in _chunks(ids):
        rows += await client.query(
            entity_set,
            select=select,
            filter=" or ".join(f"{key} eq {uuid.UUID(value)}" for value in chunk),
        )
    return rows


def patch(entity_set: str, row_id: str, columns: JSON) -> BatchOperation:
    """A `$batch` update of an existing row (`If-Match: *`: never creates one)."""
    return BatchOperation("PATCH", f"{entity_set}({row_id})", columns, headers={"If-Match": "*"})


def history_row(
    connector_id: str,
    label: str,
    outcome: SyncOutcome,
    message: str,
    now: datetime,
    *,
    invoice_id: str | None = None,
) -> JSON:
    """A sync history row; linked to the invoice when there is one to link to (a deleted
    invoice has none)."""
    row: JSON = {
        SYNC_HISTORY.primary_name.logical_name: f"{label}: {message}"[:200],
        column("dxc_OccurredOn"): now.isoformat(),
        column("dxc_Outcome"): outcome.value,
        column("dxc_Message"): message[:4000],
        **HISTORY_CONNECTOR.bind(CONNECTOR.entity_set, connector_id),
    }
    if invoice_id is not None:
        row |= HISTORY_INVOICE.bind(INVOICE.entity_set, invoice_id)
    return row


def history_operation(row: JSON) -> BatchOperation:
    return BatchOperation("POST", SYNC_HISTORY.entity_set, row)
