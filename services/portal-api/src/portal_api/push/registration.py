"""The connection's Dataverse webhook: registered at install with a new secret (only its hash
is kept here), removed on uninstall and when the connection is archived."""

from __future__ import annotations

import secrets

from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.dynamics import webhook
from dxc_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.connections.service import ConnectionState
from portal_api.context import PortalContext
from portal_api.kit.security import token_hash
from portal_api.kit.time import utcnow
from portal_api.push import repository
from portal_api.setup import dynamics

logger = get_logger(__name__)


def push_url(context: PortalContext, state: ConnectionState) -> str:
    return f"{context.settings.public_url.rstrip('/')}/v1/push/dynamics/{state.connection.id}"


async def subscribe(
    session: AsyncSession, context: PortalContext, client: DataverseClient, state: ConnectionState
) -> webhook.Registration:
    """Register (or re-register, with a new secret) the webhook and keep the secret's hash."""
    secret = secrets.token_urlsafe(32)
    connection_id = state.connection.id
    organization = (await client.who_am_i()).get("OrganizationId")
    registration = await webhook.register(
        client, connection_id=str(connection_id), url=push_url(context, state), secret=secret
    )
    await repository.save_subscription(
        session,
        connection_id,
        secret_hash=token_hash(secret),
        organization_id=str(organization) if organization else None,
        now=utcnow(),
    )
    return registration


async def unsubscribe(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> bool:
    """Remove the registration from Dynamics and forget the secret; False when none was
    registered. Dataverse errors propagate (the caller decides whether they matter)."""
    await repository.delete_subscription(session, state.connection.id)
    client = dynamics.dataverse(session, context, state)
    return await webhook.unregister(client, connection_id=str(state.connection.id))


async def unsubscribe_quietly(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> None:
    """At archiving: the secret is forgotten whatever happens (posts are refused from now on);
    a registration Dynamics could not remove just fails its deliveries there."""
    if state.connection.dynamics_org_url is None:
        await repository.delete_subscription(session, state.connection.id)
        return
    try:
        await unsubscribe(session, context, state)
    except Exception:
        logger.warning("push.unregister_failed", exc_info=True)
