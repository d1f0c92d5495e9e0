"""Connections: their state, what their status is derived from, and the events that keep the
scheduler's copy of each connection in step (published through the outbox after commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ConnectionSyncProfile,
    Provider,
)
from dxc_shared.outbox import enqueue
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.billing.models import Subscription
from portal_api.billing.plans import PLANS
from portal_api.connections import repository
from portal_api.connections.models import Connection
from portal_api.connections.schemas import (
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    DynamicsSide,
    Status,
    SubscriptionOut,
    XeroSide,
)
from portal_api.kit.errors import Conflict
from portal_api.kit.time import aware, utcnow

logger = get_logger(__name__)


@dataclass
class ConnectionState:
    """A connection with what its status depends on: its subscription and the trial."""

    connection: Connection
    subscription: Subscription | None
    trial_ends_at: datetime

    @property
    def trial_active(self) -> bool:
        return aware(self.trial_ends_at) > utcnow()

    @property
    def subscription_active(self) -> bool:
        # past_due: a renewal failed and is being retried; syncing goes on until the grace
        # period ends.
        return self.subscription is not None and self.subscription.status in (
            "active",
            "past_due",
        )

    @property
    def plan_active(self) -> bool:
        return self.trial_active or self.subscription_active

    @property
    def set_up(self) -> bool:
        """Both sides authorised without errors, both organisations chosen, tables installed."""
        c = self.connection
        return bool(
            c.xero_connected
            and c.xero_error is None
            and c.xero_tenant_id
            and c.dynamics_connected
            and c.dynamics_error is None
            and c.dynamics_org_url
            and c.tables_installed
        )

    @property
    def syncable(self) -> bool:
        return self.connection.archived_at is None and self.plan_active and self.set_up

    @property
    def status(self) -> Status:
        c = self.connection
        if c.archived_at is not None:
            return "archived"
        if c.xero_error or c.dynamics_error:
            return "reauthorisation_needed"
        if self.syncable:
            return "active"
        if self.subscription is not None and self.subscription.status == "paused":
            return "paused"  # unpaid after the grace period; nothing is deleted
        if self.set_up:
            return "cancelled"  # ready, but the trial ended without a subscription
        return "draft"

    def profile(self) -> ConnectionSyncProfile:
        c = self.connection
        return ConnectionSyncProfile(
            connection_id=c.id,
            xero_tenant_id=c.xero_tenant_id,
            dynamics_org_url=c.dynamics_org_url,
            time_zone=c.time_zone,
            sync_interval_seconds=PLANS[c.plan].sync_interval_seconds,
            field_mappings=c.field_mappings or {},
            max_invoices_per_month=PLANS[c.plan].max_invoices_per_month,
        )

    @property
    def invoices_paused_until(self) -> datetime | None:
        """At the plan's monthly invoice limit: new invoices wait until then."""
        paused = self.connection.invoices_paused_until
        return aware(paused) if paused is not None and aware(paused) > utcnow() else None

    def out(self) -> ConnectionOut:
        c, s = self.connection, self.subscription
        return ConnectionOut(
            id=c.id,
            name=c.name,
            status=self.status,
            time_zone=c.time_zone,
            plan=c.plan,
            trial_ends_at=aware(self.trial_ends_at),
            subscription=SubscriptionOut(
                status=s.status,
                plan=s.plan,
                started_at=aware(s.started_at),
                cancelled_at=aware(s.cancelled_at) if s.cancelled_at else None,
                billing_starts_at=aware(s.renews_at) if s.renews_at and not s.paid else None,
                renews_at=aware(s.renews_at) if s.renews_at and s.status != "cancelled" else None,
            )
            if s is not None
            else None,
            xero=XeroSide(
                connected=c.xero_connected,
                tenant_id=c.xero_tenant_id,
                tenant_name=c.xero_tenant_name,
                error=c.xero_error,
            ),
            dynamics=DynamicsSide(
                connected=c.dynamics_connected,
                org_url=c.dynamics_org_url,
                org_name=c.dynamics_org_name,
                error=c.dynamics_error,
            ),
            tables_installed=c.tables_installed,
            field_mappings=c.field_mappings or {},
            invoices_paused_until=self.invoices_paused_until,
            created_at=aware(c.created_at),
            updated_at=aware(c.updated_at),
        )


async def state_of(session: AsyncSession, user: User, connection: Connection) -> ConnectionState:
    subscription = await repository.subscription_of(session, connection.id)
    return ConnectionState(connection, subscription, user.trial_ends_at)


async def owned_state(
    session: AsyncSession, user: User, connection_id: uuid.UUID, *, lock: bool = False
) -> ConnectionState:
    connection = await repository.owned(session, user.id, connection_id, lock=lock)
    return await state_of(session, user, connection)


async def open_state(
    session: AsyncSession, user: User, connection_id: uuid.UUID
) -> ConnectionState:
    """The user's connection, locked for a change; archived ones take no more changes."""
    state = await owned_state(session, user, connection_id, lock=True)
    if state.connection.archived_at is not None:
        raise Conflict("This connection is archived and can no longer be changed.")
    return state


def announce(session: AsyncSession, state: ConnectionState) -> None:
    """Tell the scheduler (after commit) what this connection now looks like."""
    session.add(state.connection)
    if not state.plan_active and state.connection.trial_end_announced_at is None:
        state.connection.trial_end_announced_at = utcnow()  # told: the trial ended unpaid
    enqueue(
        session,
        ConnectionChanged(
            profile=state.profile(),
            syncable=state.syncable,
            active_until=None if state.subscription_active else aware(state.trial_ends_at),
            reauthorisation_needed={
                provider: error
                for provider, error in (
                    ("xero", state.connection.xero_error),
                    ("dynamics", state.connection.dynamics_error),
                )
                if error
            },
            invoices_paused_until=state.invoices_paused_until,
            set_up=state.set_up and state.connection.archived_at is None,
        ),
        headers={"connection_id": str(state.connection.id)},
    )


async def touch(session: AsyncSession, state: ConnectionState) -> ConnectionState:
    """After a change: flush (so `updated_at` moves) and announce it."""
    state.connection.updated_at = utcnow()
    await session.flush()
    announce(session, state)
    return state


async def list_states(session: AsyncSession, user: User) -> list[ConnectionState]:
    connections = await repository.of_user(session, user.id)
    subscriptions = await repository.subscriptions_of(session, [c.id for c in connections])
    return [ConnectionState(c, subscriptions.get(c.id), user.trial_ends_at) for c in connections]


async def create(session: AsyncSession, user: User, data: ConnectionIn) -> ConnectionState:
    now = utcnow()
    connection = Connection(
        user_id=user.id,
        name=data.name,
        time_zone=data.time_zone,
        plan=data.plan,
        xero_connected=False,
        dynamics_connected=False,
        tables_installed=False,
        created_at=now,
        updated_at=now,
    )
    session.add(connection)
    await session.flush()
    return await touch(session, ConnectionState(connection, None, user.trial_ends_at))


async def update(
    session: AsyncSession, state: ConnectionState, patch: ConnectionPatch
) -> ConnectionState:
    """Everything but the plan, which goes through billing (`billing.service.change_plan`)."""
    connection = state.connection
    if patch.name is not None:
        connection.name = patch.name
    if patch.time_zone is not None:
        connection.time_zone = patch.time_zone
    if patch.field_mappings is not None:
        connection.field_mappings = patch.field_mappings
    return await touch(session, state)


async def archive(
    session: AsyncSession, state: ConnectionState, token_broker: TokenBrokerClient
) -> ConnectionState:
    """Deactivate for good: no more syncing, and the grants are given back to Xero and
    Microsoft."""
    now = utcnow()
    connection = state.connection
    connection.archived_at = now
    connection.updated_at = now
    if state.subscription is not None and state.subscription.status == "active":
        state.subscription.status = "cancelled"
        state.subscription.cancelled_at = now
    providers: tuple[Provider, ...] = ("xero", "dynamics")
    for provider in providers:
        try:
            await token_broker.revoke(connection.id, provider)
        except Exception:  # the connection is archived either way; a stale grant expires
            logger.warning("connections.revoke_failed", provider=provider, exc_info=True)
    await session.flush()
    enqueue(
        session,
        ConnectionArchived(connection_id=connection.id),
        headers={"connection_id": str(connection.id)},
    )
    return state
