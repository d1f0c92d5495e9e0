"""payment-sync's queries for payments: its cursors (PostgreSQL), and the invoices and customers
it updates (Dynamics 365, in bulk by Xero id)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from dxc_shared.clients.dataverse import JSON, DataverseClient
from dxc_shared.dynamics.columns import AccountColumns, Common, InvoiceColumns
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.payments.decisions import ACCOUNTS, BALANCE_COLUMNS, CONTACTS, CustomerTable
from payment_sync.payments.models import PaymentSyncCursor

INVOICES_CURSOR = "invoices"
BALANCES_CURSOR = "balances"  # when every linked customer's balances were last refreshed

INVOICE_COLUMNS = (
    InvoiceColumns.ID,
    InvoiceColumns.NUMBER,
    Common.STATE,
    Common.STATUS,
    InvoiceColumns.XERO_INVOICE_ID,
    InvoiceColumns.XERO_STATUS,
    InvoiceColumns.XERO_INVOICE_NUMBER,
    InvoiceColumns.XERO_TOTAL_TAX,
    InvoiceColumns.AMOUNT_DUE,
    InvoiceColumns.AMOUNT_PAID,
    InvoiceColumns.AMOUNT_CREDITED,
    InvoiceColumns.PAYMENT_STATE,
    InvoiceColumns.XERO_URL,
)


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive times: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- cursors (PostgreSQL) ------------------------------------------------------------------


async def cursor(session: AsyncSession, connection_id: uuid.UUID, resource: str) -> datetime | None:
    found = await session.get(PaymentSyncCursor, (connection_id, resource))
    return aware(found.modified_since) if found else None


async def advance(
    session: AsyncSession, connection_id: uuid.UUID, resource: str, newest: datetime
) -> None:
    """Move a cursor forward only (a slower run never moves it back)."""
    found = await session.get(PaymentSyncCursor, (connection_id, resource), with_for_update=True)
    if found is None:
        session.add(
            PaymentSyncCursor(connection_id=connection_id, resource=resource, modified_since=newest)
        )
    elif aware(found.modified_since) < newest:
        found.modified_since = newest


async def forget_cursors(session: AsyncSession, connection_id: uuid.UUID) -> None:
    await session.execute(
        delete(PaymentSyncCursor).where(PaymentSyncCursor.connection_id == connection_id)
    )


# -- invoices and customers (Dynamics 365) -------------------------------------------------


async def invoices_exported_to(
    dataverse: DataverseClient, xero_invoice_ids: Iterable[str]
) -> list[JSON]:
    return await dataverse.rows_where_in(
        InvoiceColumns.ENTITY_SET,
        InvoiceColumns.XERO_INVOICE_ID,
        xero_invoice_ids,
        select=INVOICE_COLUMNS,
    )


async def customers_linked_to(
    dataverse: DataverseClient, xero_contact_ids: set[str] | None
) -> list[tuple[CustomerTable, JSON]]:
    """The accounts and contacts linked to `xero_contact_ids` (None: to any Xero contact)."""
    customers: list[tuple[CustomerTable, JSON]] = []
    for table in (ACCOUNTS, CONTACTS):
        select = (table.primary_id, *BALANCE_COLUMNS)
        if xero_contact_ids is None:
            rows = await dataverse.query(
                table.entity_set,
                select=select,
                filter=f"{AccountColumns.XERO_CONTACT_ID} ne null",
            )
        else:
            rows = await dataverse.rows_where_in(
                table.entity_set, AccountColumns.XERO_CONTACT_ID, xero_contact_ids, select=select
            )
        customers.extend((table, row) for row in rows)
    return customers
