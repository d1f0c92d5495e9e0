"""Where Dataverse posts the connection's webhook deliveries.

Answers: 202 when the change will be synced in a moment (alone or with the burst it belongs
to); 200 when the post is authentic but names nothing a sync answers; 401, with nothing queued,
when the secret header does not match (or the connection has no webhook, or the post comes from
another organisation); 400 for an authentic body that is not a RemoteExecutionContext; 413 for a
body larger than any delivery. Dataverse retries an asynchronous delivery answered outside 2xx.
"""

from __future__ import annotations

import uuid

from dxc_shared.dynamics.webhook import PUSH_SECRET_HEADER
from dxc_shared.service import bounded_body
from fastapi import APIRouter, Request, Response

from portal_api.kit.errors import ErrorOut, PortalError
from portal_api.metrics import PUSH_POSTS
from portal_api.push.context import MAX_BODY_BYTES
from portal_api.push.service import Outcome, PushRelay, receive

router = APIRouter(prefix="/v1/push", tags=["push"])

_REFUSALS = {
    Outcome.REFUSED: (
        401,
        f"The {PUSH_SECRET_HEADER} header does not match this connection's webhook.",
    ),
    Outcome.MALFORMED: (400, "The body is not a Dataverse RemoteExecutionContext (JSON)."),
}


@router.post(
    "/dynamics/{connection_id}",
    summary="Dataverse webhook deliveries (a RemoteExecutionContext) for one connection",
    status_code=202,
    responses={
        200: {"description": "Authentic, but no change a sync answers"},
        400: {"model": ErrorOut, "description": "Authentic, but not a RemoteExecutionContext"},
        401: {"model": ErrorOut, "description": "The secret header does not match: nothing queued"},
        413: {"model": ErrorOut, "description": "Larger than a Dataverse delivery (1 MiB)"},
    },
)
async def dynamics_push(connection_id: uuid.UUID, request: Request) -> Response:
    body = await bounded_body(request, MAX_BODY_BYTES)
    if body is None:
        PUSH_POSTS.labels("too_large").inc()
        raise PortalError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    relay: PushRelay = request.app.state.push_relay
    outcome = await receive(relay, connection_id, request.headers.get(PUSH_SECRET_HEADER, ""), body)
    PUSH_POSTS.labels(outcome.value).inc()
    if outcome in _REFUSALS:
        raise PortalError(*_REFUSALS[outcome])
    return Response(status_code=200 if outcome is Outcome.IGNORED else 202)
