"""What invoices handed over are told when they are not sent: a Skipped sync history row once
per cause, and while the connection is held (its subscription ended, or this month's invoice
limit is reached) the connector record too. The scheduler keeps sending a held connection
invoice jobs, at a slower cadence, so invoices handed over meanwhile hear why too."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.dynamics.schema import ConnectorStatus
from dxc_shared.sync import RunReport, blocked_by

from invoice_sync.connector.dynamics import find_connector, set_connector_status
from invoice_sync.connector.records import Connector
from invoice_sync.invoices import plan
from invoice_sync.invoices.dynamics import handed_over_invoices, skipped_change_set
from invoice_sync.invoices.plan import Skip
from invoice_sync.kit.context import RunContext
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


async def say_inactive(
    dataverse: DataverseClient, connection_id: uuid.UUID, held: plan.Held
) -> None:
    """The subscription ended: the connector record says Inactive at once, with why and since
    when (a hold for the invoice limit leaves it Active: payments still sync)."""
    if held.connector_message is None:
        return
    connector = await find_connector(dataverse, connection_id)
    if connector is not None:
        await set_connector_status(
            dataverse, connector, ConnectorStatus.INACTIVE, held.connector_message
        )


class HeldRun:
    """An invoice job while the connection is held (see `plan.held`): nothing goes to Xero; the
    connector record says Inactive if the subscription ended, and each invoice handed over gets
    a Skipped row saying why (once per cause), reported for the portal too."""

    def __init__(self, run: RunContext, report: RunReport, held: plan.Held) -> None:
        self.run = run
        self.report = report
        self.held = held

    async def execute(self) -> None:
        """Raises `RunBlocked` when a person must act (a lost Dynamics grant), transient errors
        for the bus to retry."""
        try:
            await self._tell()
        except Exception as error:
            blocked = blocked_by(error)
            if blocked is None or blocked is error:
                raise
            raise blocked from error

    async def _tell(self) -> None:
        dataverse, profile = self.run.dataverse, self.run.profile
        connector = await find_connector(dataverse, profile.connection_id)
        if connector is None:
            return
        message = self.held.connector_message
        if message is not None and connector.status != ConnectorStatus.INACTIVE:
            await set_connector_status(dataverse, connector, ConnectorStatus.INACTIVE, message)
        handed_over = await handed_over_invoices(dataverse, connector, zone=zone(profile.time_zone))
        self.run.lease.check()
        skips = [Skip(invoice, self.held.reason) for invoice in handed_over]
        told = await tell_skips(dataverse, self.run.ledger, profile.connection_id, connector, skips)
        for skip in told:
            self.report.skip(skip.invoice.id, skip.invoice.number, skip.reason)


async def resume(dataverse: DataverseClient, connection_id: uuid.UUID) -> None:
    """The subscription is active again: the connector record says so at once (the next run
    sends what waited)."""
    connector = await find_connector(dataverse, connection_id)
    if connector is not None and connector.status == ConnectorStatus.INACTIVE:
        await set_connector_status(dataverse, connector, ConnectorStatus.ACTIVE, None)
