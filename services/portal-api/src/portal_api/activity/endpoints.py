from __future__ import annotations

from fastapi import APIRouter, status

from portal_api.activity import service
from portal_api.activity.schemas import ActivityOut, SyncRequestedOut
from portal_api.connections.dependencies import OwnedConnection
from portal_api.context import Session
from portal_api.kit.errors import error_responses

router = APIRouter(prefix="/v1/connections/{connection_id}", tags=["activity"])


@router.get(
    "/activity",
    summary="The connection's last sync runs, newest first: counts, ids and messages",
    responses=error_responses(401, 404, 422),
)
async def activity(state: OwnedConnection, session: Session) -> ActivityOut:
    return await service.activity(session, state)


@router.post(
    "/sync",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Sync now",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def sync_now(state: OwnedConnection, session: Session) -> SyncRequestedOut:
    service.request_sync(session, state)
    return SyncRequestedOut(message="A sync will start in a moment.")


@router.post(
    "/reference-data",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Copy Xero's tax rates, accounts and branding themes to Dynamics 365 now",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def refresh_reference_data(state: OwnedConnection, session: Session) -> SyncRequestedOut:
    service.request_reference_data(session, state)
    return SyncRequestedOut(
        message="Xero's tax rates, accounts and branding themes will be in Dynamics 365 in a "
        "moment."
    )
