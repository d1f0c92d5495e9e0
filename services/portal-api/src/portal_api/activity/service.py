"""What the workers report back: runs for the activity page, and grants that died. Each
message is handled in its own unit of work; redeliveries change nothing."""

from __future__ import annotations

from dxc_shared.bus import BusMessage, MessageContext
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import REQUIRED_PRIVILEGES
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    CredentialNeedsReauthorisation,
    ReferenceDataRefreshRequested,
    SyncRequested,
    SyncRunCompleted,
)
from dxc_shared.outbox import enqueue
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.activity.models import SyncRun
from portal_api.activity.schemas import ActivityOut, SyncRunOut
from portal_api.auth.models import User
from portal_api.connections import service as connections
from portal_api.connections.models import Connection
from portal_api.connections.service import ConnectionState
from portal_api.kit.errors import Conflict
from portal_api.kit.time import aware
from portal_api.oauth.service import set_side

logger = get_logger(__name__)

RUNS_KEPT = 100


async def activity(session: AsyncSession, state: ConnectionState) -> ActivityOut:
    rows = await session.scalars(
        select(SyncRun)
        .where(SyncRun.connection_id == state.connection.id)
        .order_by(SyncRun.finished_at.desc(), SyncRun.id)
        .limit(RUNS_KEPT)
    )
    return ActivityOut(
        runs=[
            SyncRunOut(
                direction=row.direction,
                started_at=aware(row.started_at),
                finished_at=aware(row.finished_at),
                succeeded=row.succeeded,
                failed=row.failed,
                error=row.error,
                failures=row.failures,
            )
            for row in rows.all()
        ]
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


class ActivityHandlers:
    def __init__(self, database: Database, token_broker: TokenBrokerClient) -> None:
        self._database = database
        self._token_broker = token_broker

    async def on_run_completed(self, message: SyncRunCompleted, _context: MessageContext) -> None:
        async with self._database.unit_of_work() as session:
            connection = await session.get(
                Connection, message.connection_id, with_for_update=bool(message.missing_privileges)
            )
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
            session.add(
                SyncRun(
                    connection_id=message.connection_id,
                    job_id=message.job_id,
                    direction=message.direction,
                    started_at=message.started_at,
                    finished_at=message.finished_at,
                    succeeded=message.succeeded,
                    failed=message.failed,
                    error=message.error,
                    failures=[failure.model_dump(mode="json") for failure in message.failures],
                )
            )
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
            set_side(state, message.provider, error=current.message or message.message)
            await connections.touch(session, state)
