from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from portal_api.auth.dependencies import CurrentUser
from portal_api.billing import service as billing
from portal_api.connections import service
from portal_api.connections.dependencies import OpenConnection, OwnedConnection
from portal_api.connections.schemas import (
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    offered_time_zones,
)
from portal_api.context import Context, Session
from portal_api.health.service import health_of, health_of_one
from portal_api.kit.errors import error_responses
from portal_api.kit.routes import no_content
from portal_api.push import registration as push
from portal_api.setup import service as setup

router = APIRouter(prefix="/v1", tags=["connections"])


@router.get(
    "/time-zones",
    summary="The IANA time zones to choose from: UTC, then Region/City names by region",
)
async def list_time_zones() -> list[str]:
    return offered_time_zones()


@router.get("/connections", summary="Your connections", responses=error_responses(401))
async def list_connections(current: CurrentUser, session: Session) -> list[ConnectionOut]:
    states = await service.list_states(session, current.user)
    healths = await health_of(session, states)
    return [
        state.out().model_copy(update={"health": healths[state.connection.id]}) for state in states
    ]


@router.post(
    "/connections",
    status_code=status.HTTP_201_CREATED,
    summary="Create a connection of type Dynamics Xero Connector",
    responses=error_responses(401, 403, 422),
)
async def create_connection(
    body: ConnectionIn, current: CurrentUser, session: Session
) -> ConnectionOut:
    return (await service.create(session, current.user, body)).out()


@router.get(
    "/connections/{connection_id}",
    summary="One of your connections",
    responses=error_responses(401, 404, 422),
)
async def get_connection(state: OwnedConnection, session: Session) -> ConnectionOut:
    return state.out().model_copy(update={"health": await health_of_one(session, state)})


@router.patch(
    "/connections/{connection_id}",
    summary="Rename, or change the time zone or plan (a paid plan's change is prorated and "
    "charged or credited at once)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_connection(
    state: OpenConnection,
    body: ConnectionPatch,
    current: CurrentUser,
    session: Session,
    context: Context,
) -> ConnectionOut:
    if body.plan is not None:  # prorated and charged (or credited) at once
        state = await billing.change_plan(session, context, current.user, state, body.plan)
    updated = await service.update(session, state, body)
    return updated.out().model_copy(update={"health": await health_of_one(session, updated)})


@router.delete(
    "/connections/{connection_id}",
    summary="Archive the connection: syncing stops for good. With remove_from_dynamics, the "
    "connector's solution is deleted from Dynamics 365 first (its tables and their rows too)",
    **no_content(401, 403, 404, 409, 422, 429, 502),
)
async def delete_connection(
    state: OpenConnection,
    session: Session,
    context: Context,
    remove_from_dynamics: Annotated[bool, Query()] = False,
) -> None:
    if remove_from_dynamics and state.connection.tables_installed:
        await setup.uninstall(session, context, state)  # the webhook with it
    # Either way, before the grants are given back (removing the webhook needs the Dynamics
    # one): syncing stops for good, so nothing should post any more.
    await push.unsubscribe_quietly(session, context, state)
    await service.archive(session, state, context.token_broker)
