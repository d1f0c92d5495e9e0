"""The connection's invoice list: every invoice handed over, newest change first, with its
outcome, its recent history and links to it in Xero and Dynamics 365, a page at a time."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.activity.models import Invoice, InvoiceEvent
from portal_api.activity.schemas import InvoiceEventOut, InvoiceOut, InvoiceOutcome, InvoicePageOut
from portal_api.activity.service import RETENTION_TEXT
from portal_api.connections.service import ConnectionState
from portal_api.kit.errors import Invalid
from portal_api.kit.time import aware

PAGE_SIZE = 25
HISTORY_SHOWN = 20
XERO_INVOICE_URL = "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={}"


def _cursor(invoice: Invoice) -> str:
    raw = f"{aware(invoice.updated_at).isoformat()}|{invoice.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, invoice_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(invoice_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid(
            "This page link is not valid; start from the first page.", field="cursor"
        ) from error


def _dynamics_url(state: ConnectionState, record_id: str) -> str | None:
    org = state.connection.dynamics_org_url
    if not org:
        return None
    return f"{org.rstrip('/')}/main.aspx?pagetype=entityrecord&etn=invoice&id={record_id}"


async def page(
    session: AsyncSession,
    state: ConnectionState,
    *,
    search: str | None,
    outcome: str | None,
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> InvoicePageOut:
    """Newest change first; `search` matches the invoice number or the customer's name."""
    query = select(Invoice).where(Invoice.connection_id == state.connection.id)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Invoice.number.ilike(pattern, escape="\\"),
                Invoice.customer_name.ilike(pattern, escape="\\"),
            )
        )
    if outcome:
        query = query.where(Invoice.outcome == outcome)
    if cursor:
        at, invoice_id = _after(cursor)
        query = query.where(
            or_(
                Invoice.updated_at < at,
                and_(Invoice.updated_at == at, Invoice.id < invoice_id),
            )
        )
    rows = list(
        (
            await session.scalars(
                query.order_by(Invoice.updated_at.desc(), Invoice.id.desc()).limit(limit + 1)
            )
        ).all()
    )
    page, more = rows[:limit], len(rows) > limit
    history: dict[uuid.UUID, list[InvoiceEventOut]] = {row.id: [] for row in page}
    if page:
        events = await session.scalars(
            select(InvoiceEvent)
            .where(InvoiceEvent.invoice_id.in_(history))
            .order_by(InvoiceEvent.at.desc(), InvoiceEvent.id)
        )
        for event in events.all():
            shown = history[event.invoice_id]
            if len(shown) < HISTORY_SHOWN:
                shown.append(
                    InvoiceEventOut(
                        at=aware(event.at), outcome=event.outcome, message=event.message
                    )
                )
    return InvoicePageOut(
        invoices=[
            InvoiceOut(
                record_id=row.record_id,
                number=row.number,
                customer_name=row.customer_name,
                outcome=cast(InvoiceOutcome, row.outcome),
                message=row.message,
                updated_at=aware(row.updated_at),
                xero_url=row.xero_url
                or (XERO_INVOICE_URL.format(row.xero_invoice_id) if row.xero_invoice_id else None),
                dynamics_url=_dynamics_url(state, row.record_id),
                history=history[row.id],
            )
            for row in page
        ],
        next_cursor=_cursor(page[-1]) if more else None,
        retention=RETENTION_TEXT,
    )
