"""The connection a request names in its path, resolved once for every endpoint under
`/connections/{connection_id}`: the caller's own (anyone else's is "not found")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

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

CONNECTION_ERRORS = error_responses(401, 404, 422)
"""What every endpoint under `/connections/{connection_id}` can answer because of the path:
not signed in, no connection of yours with that id, an id that is not a UUID. Declared once
on those routers; each route adds its own."""
