"""The connector's sync history rows in Dynamics 365, built in one place: what a finance user
reads on an invoice (and on the connector record) about what the connector did and why."""

from __future__ import annotations

from datetime import datetime

from dxc_shared.clients.dataverse import JSON, BatchOperation
from dxc_shared.dynamics.columns import InvoiceColumns, SyncHistoryColumns
from dxc_shared.dynamics.schema import (
    CONNECTOR,
    HISTORY_CONNECTOR,
    HISTORY_INVOICE,
    SYNC_HISTORY,
    SyncOutcome,
)

NAME_LENGTH = 200  # the row's primary name column
MESSAGE_LENGTH = 4000


def invoice_label(number: str | None) -> str:
    """How a row names its invoice: "Invoice INV-0042", or "Invoice" without a number."""
    return f"Invoice {number}" if number else "Invoice"


def history_row(
    *,
    connector_id: str,
    invoice_id: str | None,
    label: str,
    outcome: SyncOutcome,
    message: str,
    occurred_on: datetime,
) -> JSON:
    """The body that creates one sync history row under the connector record, linked to the
    invoice when there is one to link to (`invoice_id` None: deleted in Dynamics)."""
    row: JSON = {
        SYNC_HISTORY.primary_name.logical_name: f"{label}: {message}"[:NAME_LENGTH],
        SyncHistoryColumns.OCCURRED_ON: occurred_on.isoformat(),
        SyncHistoryColumns.OUTCOME: outcome.value,
        SyncHistoryColumns.MESSAGE: message[:MESSAGE_LENGTH],
        **HISTORY_CONNECTOR.bind(CONNECTOR.entity_set, connector_id),
    }
    if invoice_id is not None:
        row |= HISTORY_INVOICE.bind(InvoiceColumns.ENTITY_SET, invoice_id)
    return row


def history_operation(row: JSON) -> BatchOperation:
    """The `$batch` operation that creates `row`."""
    return BatchOperation("POST", SYNC_HISTORY.entity_set, row)
