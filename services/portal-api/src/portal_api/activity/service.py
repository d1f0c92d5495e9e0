"""What the workers report back: runs for the activity page (runs with nothing to do folded
into one row), each invoice's outcome and history, and grants that died. Each message is
handled in its own unit of work; redeliveries change nothing.

Retention: runs and invoices are kept for 90 days after their last change (housekeeping
deletes older ones), and at most the newest 200 runs of a connection."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from dxc_shared.bus import BusMessage, MessageContext
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import REQUIRED_PRIVILEGES
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    CredentialNeedsReauthorisation,
    InvoiceRetryRequested,
    ReferenceDataRefreshRequested,
    SyncFailure,
    SyncRequested,
    SyncRunCompleted,
    SyncSuccess,
)
from dxc_shared.outbox import enqueue
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.activity.models import Invoice, InvoiceEvent, SyncRun
from portal_api.activity.schemas import (
    ActivityOut,
    SyncRequestedOut,
    SyncRunOut,
)
from portal_api.auth.models import User
from portal_api.connections import service as connections
from portal_api.connections.models import Connection
from portal_api.connections.service import ConnectionState
from portal_api.kit.errors import Conflict, NotFound
from portal_api.kit.time import aware, utcnow
from portal_api.notifications import service as notifications
from portal_api.oauth.service import set_side

logger = get_logger(__name__)

RUNS_KEPT = 200
RETENTION = timedelta(days=90)
OPEN_OUTCOMES = ("failed", "not_written_back")
RETENTION_TEXT = (
    "Runs and invoices are kept for 90 days after their last change (at most the newest 200 "
    "runs of a connection)."
)
# A SyncRun row keeps its SyncRunCompleted message's fields as they came, but for the failures
# (in JSON) and the folding of empty runs.
_RUN_COLUMNS = set(SyncRun.__table__.columns.keys()) & set(SyncRunCompleted.model_fields)


async def activity(session: AsyncSession, state: ConnectionState) -> ActivityOut:
    rows = await session.scalars(
        select(SyncRun)
        .where(SyncRun.connection_id == state.connection.id)
        .order_by(SyncRun.finished_at.desc(), SyncRun.id)
        .limit(RUNS_KEPT)
    )
    return ActivityOut(
        retention=RETENTION_TEXT,
        runs=[SyncRunOut.model_validate(row) for row in rows.all()],
    )


async def retry(
    session: AsyncSession, state: ConnectionState, user: User, record_id: str
) -> SyncRequestedOut:
    """Ask invoice-sync to set the invoice's export status back to No and run; recorded in
    the invoice's history."""
    invoice = await session.scalar(
        select(Invoice)
        .where(Invoice.connection_id == state.connection.id, Invoice.record_id == record_id)
        .with_for_update()
    )
    if invoice is None:
        raise NotFound("The invoice")
    if invoice.outcome != "failed":
        raise Conflict("Only a failed invoice can be retried.")
    request = InvoiceRetryRequested(
        connection_id=state.connection.id, record_id=record_id, requested_by=user.id
    )
    _ask_workers(session, state, request)
    now = utcnow()
    invoice.outcome = "retry_requested"
    invoice.updated_at = now
    session.add(
        InvoiceEvent(
            invoice_id=invoice.id,
            at=now,
            outcome="retry_requested",
            message=f"{user.name} asked to retry it.",
        )
    )
    return SyncRequestedOut(
        message="The invoice will be tried again in a moment; its outcome shows here."
    )


def request_sync(session: AsyncSession, state: ConnectionState) -> None:
    _ask_workers(session, state, SyncRequested(connection_id=state.connection.id))


def request_reference_data(session: AsyncSession, state: ConnectionState) -> None:
    """Xero's tax rates, accounts and branding themes copied to Dynamics now, not at the next
    slow refresh (after a change in Xero's chart of accounts, say)."""
    _ask_workers(session, state, ReferenceDataRefreshRequested(connection_id=state.connection.id))


def _ask_workers(session: AsyncSession, state: ConnectionState, request: BusMessage) -> None:
    if not state.syncable:
        reason = (
            "This connection is archived."
            if state.connection.archived_at is not None
            else "Finish the checklist first: this connection is not ready to sync."
        )
        raise Conflict(reason)
    enqueue(session, request, headers={"connection_id": str(state.connection.id)})


def _note_refused_privileges(connection: Connection, refused: list[str]) -> None:
    """A worker was refused privileges the connector needs: the checklist's permission step
    turns red with them (Refresh re-checks them all)."""
    words = [REQUIRED_PRIVILEGES.get(name, name) for name in refused]
    known = connection.missing_privileges or []
    if any(w not in known for w in words):
        connection.missing_privileges = [*known, *(w for w in words if w not in known)]


def _empty(message: SyncRunCompleted) -> bool:
    return not (
        message.succeeded
        or message.failed
        or message.failures
        or message.error
        or message.skipped
        or message.missing_privileges
    )


async def _fold_empty_run(session: AsyncSession, message: SyncRunCompleted) -> None:
    """A run with nothing to do extends the newest row if that one is a fold of empty runs
    too: "no changes from 12:30 to 13:10", not one row a minute."""
    newest = await session.scalar(
        select(SyncRun)
        .where(
            SyncRun.connection_id == message.connection_id,
            SyncRun.direction == message.direction,
        )
        .order_by(SyncRun.finished_at.desc(), SyncRun.id)
        .limit(1)
    )
    if newest is not None and newest.empty_runs > 0:
        newest.job_id = message.job_id  # so that a redelivery of this one is known
        newest.finished_at = max(aware(newest.finished_at), message.finished_at)
        newest.empty_runs += 1
        return
    session.add(_run_row(message, empty_runs=1))


def _run_row(message: SyncRunCompleted, *, empty_runs: int) -> SyncRun:
    failures = [failure.model_dump(mode="json") for failure in message.failures]
    return SyncRun(
        **message.model_dump(include=_RUN_COLUMNS - {"failures"}),
        failures=failures,
        empty_runs=empty_runs,
    )


async def open_failures(session: AsyncSession, connection_id: uuid.UUID) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                Invoice.connection_id == connection_id, Invoice.outcome.in_(OPEN_OUTCOMES)
            )
        )
        or 0
    )


async def record_outcome(
    session: AsyncSession,
    connection_id: uuid.UUID,
    record: SyncFailure | SyncSuccess,
    *,
    outcome: str,
    event: str,
    at: datetime,
) -> Invoice:
    """The invoice's latest outcome and one more step in its history."""
    invoice = await session.scalar(
        select(Invoice).where(
            Invoice.connection_id == connection_id, Invoice.record_id == record.record_id
        )
    )
    if invoice is None:
        invoice = Invoice(connection_id=connection_id, record_id=record.record_id)
        session.add(invoice)
    invoice.number = record.record_number or invoice.number
    invoice.customer_name = record.customer_name or invoice.customer_name
    message = record.message if isinstance(record, SyncFailure) else None
    lag_seconds: float | None = None
    if isinstance(record, SyncSuccess):
        invoice.xero_invoice_id = record.xero_invoice_id or invoice.xero_invoice_id
        invoice.xero_url = record.xero_url or invoice.xero_url
        lag_seconds = record.lag_seconds
    # Reports of different workers and retries arrive in any order: an older one adds to the
    # history but does not overwrite a newer outcome.
    if invoice.updated_at is None or at >= aware(invoice.updated_at):
        invoice.outcome, invoice.updated_at, invoice.message = outcome, at, message
    await session.flush()
    session.add(
        InvoiceEvent(
            invoice_id=invoice.id, at=at, outcome=event, message=message, lag_seconds=lag_seconds
        )
    )
    return invoice


async def _record_invoices(session: AsyncSession, message: SyncRunCompleted) -> None:
    """Invoices and cancellations name invoices; payments write Xero's status back onto them.
    Reference data names tax rates and accounts, not invoices."""
    if message.direction == "reference-data":
        return
    at = message.finished_at
    writes_back = message.direction == "payments"
    for success in message.successes:
        await record_outcome(
            session,
            message.connection_id,
            success,
            outcome="exported",
            event="written_back" if writes_back else "exported",
            at=at,
        )
    for failure in message.failures:
        outcome = "not_written_back" if writes_back else "failed"
        await record_outcome(
            session, message.connection_id, failure, outcome=outcome, event=outcome, at=at
        )
    for skip in message.skipped:
        await record_outcome(
            session, message.connection_id, skip, outcome="skipped", event="skipped", at=at
        )


class ActivityHandlers:
    def __init__(
        self, database: Database, token_broker: TokenBrokerClient, *, web_url: str
    ) -> None:
        self._database = database
        self._token_broker = token_broker
        self._web_url = web_url

    async def on_run_completed(self, message: SyncRunCompleted, _context: MessageContext) -> None:
        async with self._database.unit_of_work() as session:
            # Locked: one report of a connection at a time, so folding and the "first failure"
            # test see each other's rows.
            connection = await session.get(Connection, message.connection_id, with_for_update=True)
            if connection is None:
                logger.info("activity.run_for_unknown_connection")
                return
            known = await session.scalar(
                select(SyncRun.id).where(
                    SyncRun.job_id == message.job_id, SyncRun.direction == message.direction
                )
            )
            if known is not None:
                return  # a redelivery
            _note_refused_privileges(connection, message.missing_privileges)
            if _empty(message):
                await _fold_empty_run(session, message)
                return
            session.add(_run_row(message, empty_runs=0))
            failures_before = await open_failures(session, connection.id)
            await _record_invoices(session, message)
            await session.flush()
            newest = (
                select(SyncRun.id)
                .where(SyncRun.connection_id == message.connection_id)
                .order_by(SyncRun.finished_at.desc(), SyncRun.id)
                .limit(RUNS_KEPT)
            )
            await session.execute(
                delete(SyncRun).where(
                    SyncRun.connection_id == message.connection_id, SyncRun.id.not_in(newest)
                )
            )
            if message.failures and failures_before == 0 and connection.archived_at is None:
                user = await session.get(User, connection.user_id)
                assert user is not None  # connections are deleted with their user
                await notifications.first_failure(
                    session, user, connection, failed=len(message.failures), web_url=self._web_url
                )

    async def on_reauthorisation_needed(
        self, message: CredentialNeedsReauthorisation, _context: MessageContext
    ) -> None:
        # token-broker holds the truth: an event that arrives after the person connected again
        # (the bus may lag) must not mark a working grant as dead.
        statuses = await self._token_broker.statuses(message.connection_id)
        current = next((s for s in statuses if s.provider == message.provider), None)
        if current is None or current.status != "reauthorisation_needed":
            logger.info("activity.stale_reauthorisation_ignored", provider=message.provider)
            return
        async with self._database.unit_of_work() as session:
            connection = await session.get(Connection, message.connection_id, with_for_update=True)
            if connection is None or connection.archived_at is not None:
                return
            user = await session.get(User, connection.user_id)
            assert user is not None  # connections are deleted with their user
            state = await connections.state_of(session, user, connection)
            newly_dead = (
                connection.xero_error if message.provider == "xero" else connection.dynamics_error
            ) is None
            set_side(state, message.provider, error=current.message or message.message)
            await connections.touch(session, state)
            if newly_dead:
                await notifications.reauthorisation_needed(
                    session,
                    user,
                    connection,
                    side="Xero" if message.provider == "xero" else "Dynamics 365",
                    message=current.message or message.message,
                    web_url=self._web_url,
                )
