from __future__ import annotations

from fastapi import APIRouter

from portal_api.auth.dependencies import CurrentUser
from portal_api.billing import service
from portal_api.billing.plans import PLANS, Plan
from portal_api.billing.schemas import (
    BillingIn,
    BillingOut,
    ReceiptOut,
    SubscribeIn,
    UsageOut,
)
from portal_api.billing.usage import usage_now
from portal_api.connections.dependencies import OpenConnection, OwnedConnection
from portal_api.connections.schemas import ConnectionOut
from portal_api.context import Context, Session
from portal_api.kit.errors import error_responses

router = APIRouter(prefix="/v1", tags=["billing"])


@router.get("/plans", summary="The plans on sale")
async def plans() -> list[Plan]:
    # The plan table is its own response schema: a priced plan has nothing to hide.
    return list(PLANS.values())


@router.get("/billing", summary="Your billing details", responses=error_responses(401))
async def get_billing(current: CurrentUser, session: Session) -> BillingOut:
    return service.billing_out(await service.details_of(session, current.user))


@router.put(
    "/billing",
    summary="Update your billing details; a `card_token` from the payment provider replaces the "
    "card",
    responses=error_responses(401, 402, 403, 422),
)
async def put_billing(
    body: BillingIn, current: CurrentUser, session: Session, context: Context
) -> BillingOut:
    return await service.update(session, context.payments, current.user, body)


@router.get(
    "/billing/receipts",
    summary="Your charges and credits, newest first: date, amount, plan, period, status",
    responses=error_responses(401),
)
async def get_receipts(current: CurrentUser, session: Session) -> list[ReceiptOut]:
    return await service.receipts(session, current.user)


@router.get(
    "/connections/{connection_id}/usage",
    summary="Invoices sent to Xero this month against the plan's limit",
    responses=error_responses(401, 404, 422),
)
async def get_usage(state: OwnedConnection, session: Session) -> UsageOut:
    usage = await usage_now(session, state.connection)
    return UsageOut(
        month=usage.month,
        invoices_exported=usage.exported,
        invoice_limit=usage.limit,
        invoices_paused_until=usage.paused_until,
    )


@router.post(
    "/connections/{connection_id}/subscription",
    summary="Subscribe the connection to a plan: charges the card on file now, or, during the "
    "trial, when the trial ends",
    responses=error_responses(401, 402, 403, 404, 409, 422),
)
async def subscribe(
    state: OpenConnection,
    body: SubscribeIn,
    current: CurrentUser,
    session: Session,
    context: Context,
) -> ConnectionOut:
    return (await service.subscribe(session, context, current.user, state, body.plan)).out()


@router.delete(
    "/connections/{connection_id}/subscription",
    summary="Cancel: deactivates and archives the connection; no more syncing",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def cancel(state: OpenConnection, session: Session, context: Context) -> ConnectionOut:
    return (await service.cancel(session, context, state)).out()
