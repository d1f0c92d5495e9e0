from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from dxc_shared.messages import Provider
from fastapi import APIRouter, Query, status
from fastapi.responses import RedirectResponse

from portal_api.auth.dependencies import CurrentUser
from portal_api.connections.dependencies import OpenConnection
from portal_api.connections.schemas import ConnectionOut
from portal_api.context import Context, Session
from portal_api.kit.errors import error_responses
from portal_api.metrics import OAUTH_CALLBACKS
from portal_api.oauth import service
from portal_api.oauth.schemas import (
    AuthorizeOut,
    DynamicsOrganisation,
    DynamicsOrganisationIn,
    XeroOrganisation,
    XeroOrganisationIn,
)

router = APIRouter(prefix="/v1", tags=["oauth"])
QueryText = Annotated[str | None, Query(max_length=4096)]
ORGANISATION_ERRORS = error_responses(401, 404, 409, 422, 502)


@router.post(
    "/connections/{connection_id}/{provider}/authorize",
    summary="Start connecting to Xero or Dynamics 365: the URL to send the browser to",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def authorize(
    state: OpenConnection,
    provider: Provider,
    current: CurrentUser,
    session: Session,
    context: Context,
) -> AuthorizeOut:
    url = await service.start(session, context, current, state, provider)
    return AuthorizeOut(authorize_url=url)


@router.get(
    "/oauth/{provider}/callback",
    status_code=status.HTTP_303_SEE_OTHER,
    summary="Where Xero or Microsoft sends the browser back; redirects to the portal page of "
    "the connection with ?connected=<provider> or ?error=<message>",
    response_class=RedirectResponse,
    responses={
        303: {"description": "Back to the portal"},
        **error_responses(400, 401, 404, 409, 422),
    },
)
async def callback(
    provider: Provider,
    current: CurrentUser,
    session: Session,
    context: Context,
    state: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    code: QueryText = None,
    error: QueryText = None,
    error_description: QueryText = None,
) -> RedirectResponse:
    connection_state, failure = await service.finish(
        session,
        context,
        current,
        provider,
        state_value=state,
        code=code,
        error=error,
        error_description=error_description,
    )
    OAUTH_CALLBACKS.labels(provider, "failed" if failure else "connected").inc()
    query = {"error": failure} if failure else {"connected": provider}
    page = f"{context.settings.web_url.rstrip('/')}/connections/{connection_state.connection.id}"
    return RedirectResponse(f"{page}?{urlencode(query)}", status_code=status.HTTP_303_SEE_OTHER)


@router.get(
    "/connections/{connection_id}/xero/organisations",
    summary="The Xero organisations the connected login authorised",
    responses=ORGANISATION_ERRORS,
)
async def xero_organisations(
    state: OpenConnection, session: Session, context: Context
) -> list[XeroOrganisation]:
    return await service.xero_organisations(session, context, state)


@router.put(
    "/connections/{connection_id}/xero/organisation",
    summary="Choose the Xero organisation to sync with",
    responses=error_responses(401, 403, 404, 409, 422, 502),
)
async def choose_xero_organisation(
    state: OpenConnection,
    body: XeroOrganisationIn,
    session: Session,
    context: Context,
) -> ConnectionOut:
    return (await service.choose_xero_organisation(session, context, state, body.tenant_id)).out()


@router.get(
    "/connections/{connection_id}/dynamics/organisations",
    summary="The Dynamics 365 organisations (instances) the connected account can reach",
    responses=ORGANISATION_ERRORS,
)
async def dynamics_organisations(
    state: OpenConnection, session: Session, context: Context
) -> list[DynamicsOrganisation]:
    return await service.dynamics_organisations(session, context, state)


@router.put(
    "/connections/{connection_id}/dynamics/organisation",
    summary="Choose the Dynamics 365 organisation to sync with",
    responses=error_responses(401, 403, 404, 409, 422, 502),
)
async def choose_dynamics_organisation(
    state: OpenConnection,
    body: DynamicsOrganisationIn,
    session: Session,
    context: Context,
) -> ConnectionOut:
    return (await service.choose_dynamics_organisation(session, context, state, body.org_url)).out()
