"""While a connection is held (its subscription ended, or this month's plan limit reached) no
invoice job runs: the connector record and each invoice handed over say why; when it is active
again, the connector record says so at once."""

from __future__ import annotations

import uuid

from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.dynamics.schema import ConnectorStatus
from dxc_shared.messages import ConnectionSyncProfile

from invoice_sync.connector.dynamics import find_connector, set_connector_status
from invoice_sync.invoices import plan
from invoice_sync.invoices.dynamics import handed_over_invoices
from invoice_sync.invoices.plan import Skip
from invoice_sync.invoices.workflow import tell_skips
from invoice_sync.kit.time import zone
from invoice_sync.ledger.exports import Ledger


async def hold_invoices(
    dataverse: DataverseClient,
    ledger: Ledger,
    profile: ConnectionSyncProfile,
    held: plan.Held,
) -> None:
    """No invoice job runs while the connection is held (see `plan.held`): say so on the
    connector record when its subscription ended, and on each invoice handed over."""
    connector = await find_connector(dataverse, profile.connection_id)
    if connector is None:
        return
    if held.connector_message is not None:
        await set_connector_status(
            dataverse, connector, ConnectorStatus.INACTIVE, held.connector_message
        )
    handed_over = await handed_over_invoices(dataverse, connector, zone=zone(profile.time_zone))
    skips = [Skip(invoice, held.reason) for invoice in handed_over]
    await tell_skips(dataverse, ledger, profile.connection_id, connector, skips)


async def resume(dataverse: DataverseClient, connection_id: uuid.UUID) -> None:
    """The subscription is active again: the connector record says so at once (the next run
    sends what waited)."""
    connector = await find_connector(dataverse, connection_id)
    if connector is not None and connector.status == ConnectorStatus.INACTIVE:
        await set_connector_status(dataverse, connector, ConnectorStatus.ACTIVE, None)
