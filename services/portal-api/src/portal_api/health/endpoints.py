from __future__ import annotations

from fastapi import APIRouter

from portal_api.connections.dependencies import OwnedConnection
from portal_api.context import Session
from portal_api.health.schemas import HealthOut
from portal_api.health.service import health_of_one
from portal_api.kit.errors import error_responses

router = APIRouter(prefix="/v1/connections/{connection_id}", tags=["health"])


@router.get(
    "/health",
    summary="The connection's health: healthy, needs attention, action needed or paused, "
    "with the reasons",
    responses=error_responses(401, 404, 422),
)
async def connection_health(state: OwnedConnection, session: Session) -> HealthOut:
    return await health_of_one(session, state)
