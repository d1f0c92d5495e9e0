"""The connection a request names in its path, resolved once for every endpoint under
`/connections/{connection_id}`: the caller's own (anyone else's is "not found")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from portal_api.auth.dependencies import CurrentUser
from portal_api.connections import service
from portal_api.connections.service import ConnectionState
from portal_api.context import Session
from portal_api.kit.errors import error_responses


async def owned_connection(
    connection_id: uuid.UUID, current: CurrentUser, session: Session
) -> ConnectionState:
    return await service.owned_state(session, current.user, connection_id)


async def open_connection(
    connection_id: uuid.UUID, current: CurrentUser, session: Session
) -> ConnectionState:
    return await service.open_state(session, current.user, connection_id)


OwnedConnection = Annotated[ConnectionState, Depends(owned_connection)]
"""The caller's connection, to read."""

OpenConnection = Annotated[ConnectionState, Depends(open_connection)]
"""The caller's connection, locked for a change; an archived one answers 409."""


def connection_router(tag: str) -> APIRouter:
    """A router for endpoints under `/v1/connections/{connection_id}`. It declares what each
    of them can answer because of the path: not signed in, no connection of yours with that
    id, an id that is not a UUID; each route adds its own."""
    return APIRouter(
        prefix="/v1/connections/{connection_id}",
        tags=[tag],
        responses=error_responses(401, 404, 422),
    )
