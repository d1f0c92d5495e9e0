from __future__ import annotations

import uuid

from fastapi import APIRouter

from portal_api.auth.dependencies import CurrentUser
from portal_api.connections import service as connections
from portal_api.context import Context, Session
from portal_api.kit.errors import error_responses
from portal_api.setup import service
from portal_api.setup.schemas import ChecklistOut, ConnectionWithSettings, InstallOut

router = APIRouter(prefix="/v1/connections/{connection_id}", tags=["setup"])


@router.post(
    "/dynamics/install",
    summary="Create the connector's tables and columns in the chosen Dynamics 365 organisation "
    "(idempotent) and check the signed-in user's permissions",
    responses=error_responses(401, 403, 404, 409, 422, 429, 502),
)
async def install(
    connection_id: uuid.UUID, current: CurrentUser, session: Session, context: Context
) -> InstallOut:
    state = await connections.open_state(session, current.user, connection_id)
    return await service.install(session, context, state)


@router.get(
    "/checklist",
    summary="Each step a connection needs before it syncs, done or not, with a tip",
    responses=error_responses(401, 404, 422),
)
async def checklist(
    connection_id: uuid.UUID, current: CurrentUser, session: Session, context: Context
) -> ChecklistOut:
    state = await connections.owned_state(session, current.user, connection_id)
    return await service.checklist(session, context, state)


@router.post(
    "/refresh",
    summary="Re-read the settings and permissions from Dynamics 365",
    responses=error_responses(401, 403, 404, 409, 422, 429, 502),
)
async def refresh(
    connection_id: uuid.UUID, current: CurrentUser, session: Session, context: Context
) -> ConnectionWithSettings:
    state = await connections.open_state(session, current.user, connection_id)
    return await service.refresh(session, context, state)
