from __future__ import annotations

from portal_api.connections.dependencies import OwnedConnection, connection_router
from portal_api.context import Session
from portal_api.health.schemas import HealthOut
from portal_api.health.service import health_of_one

router = connection_router("health")


@router.get(
    "/health",
    summary="The connection's health: healthy, needs attention, action needed or paused, "
    "with the reasons",
)
async def connection_health(state: OwnedConnection, session: Session) -> HealthOut:
    return await health_of_one(session, state)
