"""What invoices handed over are told when they are not sent: a Skipped sync history row once
per cause, and while the connection is held (its subscription ended, or this month's invoice
limit is reached) the connector record too."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.dynamics.schema import ConnectorStatus
from dxc_shared.messages import ConnectionSyncProfile

from invoice_sync.connector.dynamics import find_connector, set_connector_status
from invoice_sync.connector.records import Connector
from invoice_sync.invoices import plan
from invoice_sync.invoices.dynamics import handed_over_invoices, skipped_change_set
from invoice_sync.invoices.plan import Skip
from invoice_sync.kit.time import utcnow, zone
from invoice_sync.ledger.exports import Ledger


async def tell_skips(
    dataverse: DataverseClient,
    ledger: Ledger,
    connection_id: uuid.UUID,
    connector: Connector,
    skips: Sequence[Skip],
) -> list[Skip]:
    """A Skipped sync history row for each invoice not sent whose reason is news (told once per
    cause, not on every run); returns the skips told."""
    if not skips:
        return []
    told = await ledger.skips_told(connection_id, [skip.invoice.id for skip in skips])
    news = plan.news(skips, told)
    if not news:
        return []
    now = utcnow()
    results = await dataverse.batch(
        [skipped_change_set(connector, s.invoice, s.reason, now) for s in news]
    )
    written = [
        skip for skip, result in zip(news, results, strict=False) if all(r.ok for r in result)
    ]
    await ledger.record_skips_told(connection_id, {s.invoice.id: s.reason for s in written})
    return written


async def hold_invoices(
    dataverse: DataverseClient,
    ledger: Ledger,
    profile: ConnectionSyncProfile,
    held: plan.Held,
) -> None:
    """The connection is held (see `plan.held`): say so at once on the connector record when
    its subscription ended, and on each invoice handed over."""
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
