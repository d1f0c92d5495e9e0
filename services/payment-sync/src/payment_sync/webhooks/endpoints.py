"""Xero's webhook endpoint: verify, relay, answer fast.

Xero signs each delivery with the app's webhook key (`x-xero-signature`: base64 HMAC-SHA256 of
the raw body). A delivery whose signature does not match gets 401 with an empty body; that is
also how Xero's intent-to-receive check tells a real endpoint from a careless one (a correctly
signed, empty delivery must get 200, a wrongly signed one 401). A valid delivery's events are
grouped per connection of their organisation and written to the outbox as one
`XeroChangesNotified` each, in one transaction, so the answer never waits for Xero or Dynamics
and no event is lost if the bus is down for a moment.

Xero's deliveries are small: a body over `MAX_BODY_BYTES` is refused with 413 as soon as it is
announced or streamed past the limit, before any of it is kept whole or hashed.
"""

from __future__ import annotations

import hmac

from dxc_shared.db import Database
from dxc_shared.messages import XeroChangesNotified
from dxc_shared.outbox import enqueue
from dxc_shared.service import bounded_body
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from payment_sync.connections import repository as connections
from payment_sync.metrics import WEBHOOK_EVENTS
from payment_sync.webhooks.service import (
    MAX_JSON_DEPTH,
    TenantChanges,
    events_of,
    signature_of,
    tenant_of,
)

router = APIRouter(tags=["webhooks"])

MAX_BODY_BYTES = 1024 * 1024


@router.post(
    "/v1/webhooks/xero",
    summary="Xero webhook deliveries (and Xero's intent-to-receive check)",
    status_code=200,
    responses={
        401: {"description": "The x-xero-signature header does not match the body"},
        400: {"description": "A correctly signed body that is not a Xero webhook payload"},
        413: {"description": "The body is larger than a Xero delivery ever is (1 MiB)"},
    },
)
async def xero_webhook(request: Request) -> Response:
    body = await bounded_body(request, MAX_BODY_BYTES)
    if body is None:
        WEBHOOK_EVENTS.labels("rejected_size").inc()
        return JSONResponse(
            {"detail": f"The body is larger than {MAX_BODY_BYTES} bytes."}, status_code=413
        )
    key: str = request.app.state.xero_webhook_key
    given = request.headers.get("x-xero-signature", "")
    if not hmac.compare_digest(given.encode(), signature_of(body, key).encode()):
        WEBHOOK_EVENTS.labels("rejected_signature").inc()
        return Response(status_code=401)
    events = events_of(body)
    if events is None:
        return JSONResponse(
            {
                "detail": 'The body is not a Xero webhook payload: a JSON object with an "events" '
                f"list was expected, nested at most {MAX_JSON_DEPTH} deep."
            },
            status_code=400,
        )
    changes = TenantChanges.of(events)
    tenants = {tenant_of(event) for event in events} - {""}
    database: Database = request.app.state.database
    async with database.unit_of_work() as session:
        known: set[str] = set()
        for connection_id, tenant_id in await connections.syncable_of_tenants(session, tenants):
            tenant = tenant_id.lower()
            known.add(tenant)
            if not changes.any_for(tenant):
                continue  # e.g. credit notes only: what they change on invoices, polling finds
            enqueue(
                session,
                XeroChangesNotified(
                    connection_id=connection_id,
                    tenant_id=tenant_id,
                    invoice_ids=sorted(changes.invoices[tenant]),
                    contact_ids=sorted(changes.contacts[tenant]),
                ),
                headers={"connection_id": str(connection_id)},
            )
    for event in events:
        WEBHOOK_EVENTS.labels("accepted" if tenant_of(event) in known else "unknown_tenant").inc()
    return Response(status_code=200)
