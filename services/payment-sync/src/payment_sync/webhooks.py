"""Xero's webhook endpoint: verify, relay, answer fast.

Xero signs each delivery with the app's webhook key (`x-xero-signature`: base64 HMAC-SHA256 of
the raw body). A delivery whose signature does not match gets 401 with an empty body; that is
also how Xero's intent-to-receive check tells a real endpoint from a careless one (a correctly
signed, empty delivery must get 200, a wrongly signed one 401). A valid delivery's events are
grouped per connection of their organisation and written to the outbox as one
`XeroChangesNotified` each, in one transaction, so the answer never waits for Xero or Dynamics
and no event is lost if the bus is down for a moment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import defaultdict
from typing import Any

from dxc_shared.db import Database
from dxc_shared.messages import XeroChangesNotified
from dxc_shared.outbox import enqueue
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from payment_sync.metrics import WEBHOOK_EVENTS
from payment_sync.models import PaymentSyncConnection

router = APIRouter(tags=["webhooks"])


def signature_of(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def _events(body: bytes) -> list[dict[str, Any]] | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        return None
    return events


@router.post(
    "/v1/webhooks/xero",
    summary="Xero webhook deliveries (and Xero's intent-to-receive check)",
    status_code=200,
    responses={
        401: {"description": "The x-xero-signature header does not match the body"},
        400: {"description": "A correctly signed body that is not a Xero webhook payload"},
    },
)
async def xero_webhook(request: Request) -> Response:
    body = await request.body()
    key: str = request.app.state.xero_webhook_key
    given = request.headers.get("x-xero-signature", "")
    if not hmac.compare_digest(given.encode(), signature_of(body, key).encode()):
        WEBHOOK_EVENTS.labels("rejected_signature").inc()
        return Response(status_code=401)
    events = _events(body)
    if events is None:
        return JSONResponse(
            {
                "detail": 'The body is not a Xero webhook payload: a JSON object with an "events" '
                "list was expected."
            },
            status_code=400,
        )
    invoices: dict[str, set[str]] = defaultdict(set)
    contacts: dict[str, set[str]] = defaultdict(set)
    for event in events:
        tenant = str(event.get("tenantId") or "").lower()
        resource = str(event.get("resourceId") or "").lower()
        category = event.get("eventCategory")
        if not tenant or not resource:
            continue
        if category == "INVOICE":
            invoices[tenant].add(resource)
        elif category == "CONTACT":
            contacts[tenant].add(resource)
    tenants = {str(event.get("tenantId") or "").lower() for event in events} - {""}
    database: Database = request.app.state.database
    async with database.unit_of_work() as session:
        connections = (
            (
                await session.execute(
                    select(
                        PaymentSyncConnection.connection_id, PaymentSyncConnection.xero_tenant_id
                    ).where(
                        PaymentSyncConnection.syncable,
                        PaymentSyncConnection.xero_tenant_id.in_(tenants),
                    )
                )
            ).all()
            if tenants
            else []
        )
        known: set[str] = set()
        for connection_id, tenant_id in connections:
            tenant = str(tenant_id).lower()
            known.add(tenant)
            if not invoices[tenant] and not contacts[tenant]:
                continue  # e.g. credit notes only: what they change on invoices, polling finds
            enqueue(
                session,
                XeroChangesNotified(
                    connection_id=connection_id,
                    tenant_id=str(tenant_id),
                    invoice_ids=sorted(invoices[tenant]),
                    contact_ids=sorted(contacts[tenant]),
                ),
                headers={"connection_id": str(connection_id)},
            )
    for event in events:
        tenant = str(event.get("tenantId") or "").lower()
        WEBHOOK_EVENTS.labels("accepted" if tenant in known else "unknown_tenant").inc()
    return Response(status_code=200)
