from __future__ import annotations

from fastapi import APIRouter

from portal_api.auth.dependencies import CurrentUser
from portal_api.context import Session
from portal_api.kit.errors import error_responses
from portal_api.notifications import service
from portal_api.notifications.schemas import PreferencesIn, PreferencesOut

router = APIRouter(prefix="/v1/account/notifications", tags=["notifications"])


@router.get("", summary="Which e-mails you get", responses=error_responses(401))
async def get_preferences(current: CurrentUser, session: Session) -> PreferencesOut:
    return await service.preferences(session, current.user)


@router.patch("", summary="Choose which e-mails you get", responses=error_responses(401, 403, 422))
async def set_preferences(
    body: PreferencesIn, current: CurrentUser, session: Session
) -> PreferencesOut:
    return await service.set_preferences(session, current.user, body)
