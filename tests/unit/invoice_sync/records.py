"""Small builders of invoice-sync's records for the unit tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from invoice_sync.invoices.records import Customer, Invoice, Line, Product, ReferenceData

CUSTOMER_ID = "00000000-0000-0000-0000-0000000000c1"
PRODUCT_ID = "00000000-0000-0000-0000-0000000000b1"


def line(number: int = 1, **overrides: Any) -> Line:
    values: dict[str, Any] = {
        "id": f"line-{number}",
        "number": number,
        "product_id": PRODUCT_ID,
        "written_in": False,
        "description": None,
        "quantity": 2,
        "price": 10,
        "tax_rate_id": None,
        "account_id": None,
    }
    values |= overrides
    for money in ("quantity", "price"):
        values[money] = Decimal(str(values[money]))
    # Dynamics' own line amount, unless a test gives it.
    values.setdefault("amount", values["quantity"] * values["price"])
    return Line(**values)


def invoice(
    invoice_id: str = "inv-1", lines: list[Line] | None = None, **overrides: Any
) -> Invoice:
    values: dict[str, Any] = {
        "id": invoice_id,
        "number": f"INV-{invoice_id}",
        "name": None,
        "version": "7",
        "customer_id": CUSTOMER_ID,
        "customer_kind": "account",
        "currency_id": None,
        "date_delivered": date(2026, 3, 1),
        "due_date": None,
        "modified_on": None,
        "lines": [line()] if lines is None else lines,
        "row": {},
    }
    return Invoice(**(values | overrides))


def customer(customer_id: str = CUSTOMER_ID, **overrides: Any) -> Customer:
    values: dict[str, Any] = {
        "id": customer_id,
        "kind": "account",
        "name": "Fabrikam Ltd",
        "account_number": None,
        "email": None,
        "first_name": None,
        "last_name": None,
        "xero_contact_id": None,
    }
    return Customer(**(values | overrides))


def product(product_id: str = PRODUCT_ID, **overrides: Any) -> Product:
    values: dict[str, Any] = {
        "id": product_id,
        "number": "WIDGET",
        "name": "Widget",
        "description": None,
        "price": None,
    }
    return Product(**(values | overrides))


def data(*customers: Customer, products: tuple[Product, ...] = ()) -> ReferenceData:
    return ReferenceData(
        customers={c.id: c for c in customers}, products={p.id: p for p in products}
    )


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)
