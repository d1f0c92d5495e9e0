from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from portal_api.activity import invoices as invoice_list
from portal_api.activity import service
from portal_api.activity.schemas import (
    ActivityOut,
    InvoiceOutcome,
    InvoicePageOut,
    OverviewOut,
    SyncRequestedOut,
)
from portal_api.auth.dependencies import CurrentUser
from portal_api.connections.dependencies import OwnedConnection, connection_router
from portal_api.context import Session
from portal_api.kit.routes import accepted
from portal_api.kit.text import Text100

router = connection_router("activity")


@router.get(
    "/activity",
    summary="The connection's sync runs, newest first: counts, ids and messages; runs with no "
    "changes folded into one row",
)
async def activity(state: OwnedConnection, session: Session) -> ActivityOut:
    return await service.activity(session, state)


@router.post("/sync", summary="Sync now", **accepted(403, 409))
async def sync_now(state: OwnedConnection, session: Session) -> SyncRequestedOut:
    service.request_sync(session, state)
    return SyncRequestedOut(message="A sync will start in a moment.")


@router.post(
    "/reference-data",
    summary="Copy Xero's tax rates, accounts and branding themes to Dynamics 365 now",
    **accepted(403, 409),
)
async def refresh_reference_data(state: OwnedConnection, session: Session) -> SyncRequestedOut:
    service.request_reference_data(session, state)
    return SyncRequestedOut(
        message="Xero's tax rates, accounts and branding themes will be in Dynamics 365 in a "
        "moment."
    )


@router.get(
    "/invoices",
    summary="Every invoice handed over, newest change first: outcome, history and links; "
    "search by number or customer, filter by outcome, page with `cursor`",
)
async def list_invoices(
    state: OwnedConnection,
    session: Session,
    search: Annotated[Text100 | None, Query(description="Invoice number or customer")] = None,
    outcome: InvoiceOutcome | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = invoice_list.PAGE_SIZE,
) -> InvoicePageOut:
    return await invoice_list.page(
        session, state, search=search, outcome=outcome, cursor=cursor, limit=limit
    )


@router.post(
    "/invoices/{record_id}/retry",
    summary="Retry a failed invoice: invoice-sync sets its export status back to No and runs",
    **accepted(403, 409),
)
async def retry_invoice(
    state: OwnedConnection,
    current: CurrentUser,
    session: Session,
    record_id: Annotated[str, Path(max_length=64)],
) -> SyncRequestedOut:
    return await service.retry(session, state, current.user, record_id)


@router.get(
    "/overview",
    summary="This month's invoices against the plan's limit, open failures, lag, last "
    "successful run and the daily volume",
)
async def overview(state: OwnedConnection, session: Session) -> OverviewOut:
    return await service.overview(session, state)
