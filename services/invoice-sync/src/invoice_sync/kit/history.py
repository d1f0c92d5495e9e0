"""The one sync history row every outcome writes (exports, failures, cancellations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dxc_shared.clients.dataverse import BatchOperation
from dxc_shared.dynamics.columns import ConnectorColumns, InvoiceColumns, SyncHistoryColumns
from dxc_shared.dynamics.schema import HISTORY_CONNECTOR, HISTORY_INVOICE, SYNC_HISTORY, SyncOutcome

JSON = dict[str, Any]


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
        SyncHistoryColumns.OCCURRED_ON: now.isoformat(),
        SyncHistoryColumns.OUTCOME: outcome.value,
        SyncHistoryColumns.MESSAGE: message[:4000],
        **HISTORY_CONNECTOR.bind(ConnectorColumns.ENTITY_SET, connector_id),
    }
    if invoice_id is not None:
        row |= HISTORY_INVOICE.bind(InvoiceColumns.ENTITY_SET, invoice_id)
    return row


def history_operation(row: JSON) -> BatchOperation:
    return BatchOperation("POST", SyncHistoryColumns.ENTITY_SET, row)
