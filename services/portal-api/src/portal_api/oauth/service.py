"""Connecting a connection to Xero and to Dynamics 365: authorisation code flow with PKCE, the
state bound to the browser session; the code is exchanged by token-broker, which keeps the
grant. Then the user picks the organisation."""

from __future__ import annotations

from datetime import timedelta

import httpx
from dxc_shared.credentials import AuthorisationFailed, CredentialMissing, ReauthorisationNeeded
from dxc_shared.messages import Provider
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.dependencies import Authenticated
from portal_api.connections import service as connections
from portal_api.connections.service import ConnectionState
from portal_api.context import PortalContext
from portal_api.kit.errors import Conflict, Invalid, PortalError, UpstreamFailed
from portal_api.kit.security import new_token, pkce_pair
from portal_api.kit.time import aware, utcnow
from portal_api.oauth import providers
from portal_api.oauth.models import OAuthState
from portal_api.oauth.providers import PROVIDER_NAMES
from portal_api.oauth.schemas import DynamicsOrganisation, XeroOrganisation


async def start(
    session: AsyncSession,
    context: PortalContext,
    current: Authenticated,
    state: ConnectionState,
    provider: Provider,
) -> str:
    verifier, challenge = pkce_pair()
    value = new_token()
    session.add(
        OAuthState(
            state=value,
            provider=provider,
            connection_id=state.connection.id,
            session_id=current.session.id,
            code_verifier=verifier,
            expires_at=utcnow() + timedelta(minutes=context.settings.oauth_state_minutes),
        )
    )
    return providers.authorize_url(
        context.settings, provider, state=value, code_challenge=challenge
    )


def set_side(state: ConnectionState, provider: Provider, *, error: str | None) -> None:
    connection = state.connection
    if provider == "xero":
        connection.xero_connected = True
        connection.xero_error = error
    else:
        connection.dynamics_connected = True
        connection.dynamics_error = error


async def finish(
    session: AsyncSession,
    context: PortalContext,
    current: Authenticated,
    provider: Provider,
    *,
    state_value: str,
    code: str | None,
    error: str | None,
    error_description: str | None,
) -> tuple[ConnectionState, str | None]:
    """The callback: the connection and, if it failed, why (for a person)."""
    name = PROVIDER_NAMES[provider]
    pending = await session.get(OAuthState, state_value, with_for_update=True)
    if (
        pending is None
        or pending.provider != provider
        or pending.session_id != current.session.id
        or aware(pending.expires_at) <= utcnow()
    ):
        raise PortalError(
            400,
            f"This {name} sign-in is not valid any more (it expired, was already used, or was "
            "started in another browser). Start connecting again from the connection page.",
            field="state",
        )
    # Read before the first write: on SQLite (the embedded mode) a flushed DELETE holds the
    # database's one write lock, and token-broker, writing the grant below, would wait for it.
    state = await connections.open_state(session, current.user, pending.connection_id)
    await session.delete(pending)
    if error or not code:
        return state, providers.denial_message(provider, error or "no_code", error_description)
    try:
        await context.token_broker.store_authorization_code(
            state.connection.id,
            provider,
            code=code,
            redirect_uri=providers.redirect_uri(context.settings, provider),
            code_verifier=pending.code_verifier,
        )
    except AuthorisationFailed as failure:
        return state, failure.message
    except httpx.HTTPError:
        return state, f"We could not finish connecting to {name} just now. Try again shortly."
    set_side(state, provider, error=None)
    await connections.touch(session, state)
    return state, None


async def access_token(
    session: AsyncSession,
    context: PortalContext,
    state: ConnectionState,
    provider: Provider,
    *,
    resource: str | None = None,
) -> str:
    """A fresh access token from token-broker; a dead grant is recorded on the connection."""
    name = PROVIDER_NAMES[provider]
    try:
        issued = await context.token_broker.access_token(
            state.connection.id, provider, resource=resource
        )
    except CredentialMissing as missing:
        raise Conflict(f"Connect to {name} first.") from missing
    except ReauthorisationNeeded as needed:
        set_side(state, provider, error=needed.message)
        await connections.touch(session, state)
        raise PortalError(409, needed.message, keep_changes=True) from needed
    except httpx.HTTPError as error:
        raise UpstreamFailed(
            f"We could not get access to {name} just now ({type(error).__name__}). Try again "
            "shortly."
        ) from error
    return issued.access_token


async def xero_organisations(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> list[XeroOrganisation]:
    token = await access_token(session, context, state, "xero")
    return await providers.xero_organisations(context.http, context.settings, token)


async def dynamics_organisations(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> list[DynamicsOrganisation]:
    token = await access_token(
        session, context, state, "dynamics", resource=context.settings.dynamics_discovery_url
    )
    return await providers.dynamics_organisations(context.http, context.settings, token)


async def choose_xero_organisation(
    session: AsyncSession, context: PortalContext, state: ConnectionState, tenant_id: str
) -> ConnectionState:
    organisations = await xero_organisations(session, context, state)
    chosen = next((o for o in organisations if o.tenant_id == tenant_id), None)
    if chosen is None:
        raise Invalid(
            "This Xero organisation is not one the connected Xero login has authorised. Pick "
            "one from the list, or connect to Xero again and tick it.",
            field="tenant_id",
        )
    state.connection.xero_tenant_id = chosen.tenant_id
    state.connection.xero_tenant_name = chosen.name
    return await connections.touch(session, state)


async def choose_dynamics_organisation(
    session: AsyncSession, context: PortalContext, state: ConnectionState, org_url: str
) -> ConnectionState:
    organisations = await dynamics_organisations(session, context, state)
    wanted = org_url.rstrip("/").lower()
    chosen = next((o for o in organisations if o.org_url.lower() == wanted), None)
    if chosen is None:
        raise Invalid(
            "This Dynamics 365 organisation is not one the connected Microsoft account can "
            "reach. Pick one from the list.",
            field="org_url",
        )
    connection = state.connection
    if connection.dynamics_org_url != chosen.org_url:
        connection.tables_installed = False  # a different organisation: install there too
        connection.missing_privileges = None
        connection.dynamics_connector_id = None
    connection.dynamics_org_url = chosen.org_url
    connection.dynamics_org_name = chosen.name
    return await connections.touch(session, state)
