"""Table-specific behaviour Dataverse (and the Sales app) adds on top of the generic engine:
calculated columns, invoice numbering, invoice pricing (see `pricing`) and the read-only states
of invoices."""

from __future__ import annotations

import random
import string
import uuid
from decimal import Decimal
from typing import Protocol

from ..errors import INVALID_STATE, DataverseError
from ..metadata import Entity
from . import registration
from .pricing import DEFAULT_PRECISION, invoice_totals, price_line, round_money
from .schema import Schema
from .values import EntityRef, Record


class Tables(Protocol):
    """What the behaviours read and write of the table engine that calls them."""

    schema: Schema
    base_currency: uuid.UUID | None

    def find(self, entity: Entity, record_id: uuid.UUID) -> Record | None: ...

    def rows(self, entity: Entity) -> list[Record]: ...

    def put(self, entity: Entity, record: Record) -> Record: ...


# Invoice statecodes in which the invoice and its lines are read-only.
CLOSED_INVOICE_STATES = frozenset({2, 3})
_STATE_COLUMNS = frozenset({"statecode", "statuscode", "modifiedby"})


def before_write(
    engine: Tables, entity: Entity, old: Record | None, record: Record, changed: set[str]
) -> None:
    if (
        old is None
        and "transactioncurrencyid" in entity.attributes
        and record.get("transactioncurrencyid") is None
        and engine.base_currency is not None
    ):
        record["transactioncurrencyid"] = EntityRef("transactioncurrency", engine.base_currency)
    if entity.logical_name == "contact" and changed & {"firstname", "lastname"}:
        parts = (record.get("firstname"), record.get("lastname"))
        record["fullname"] = " ".join(p for p in parts if p)
    elif entity.logical_name == "invoice":
        _before_invoice_write(old, record, changed)
        _price_invoice(engine, record)
    elif entity.logical_name == "invoicedetail":
        _before_line_write(engine, old, record)
    else:
        registration.check(engine, entity, record)


def check_delete(engine: Tables, entity: Entity, record: Record) -> None:
    if entity.logical_name == "invoicedetail":
        _require_open_invoice(engine, record)


def after_write(engine: Tables, entity: Entity, record: Record) -> None:
    if entity.logical_name == "invoicedetail":
        _recalculate_invoice(engine, record.get("invoiceid"))


def after_delete(engine: Tables, entity: Entity, record: Record) -> None:
    after_write(engine, entity, record)


def _before_invoice_write(old: Record | None, record: Record, changed: set[str]) -> None:
    if old is None:
        if not record.get("invoicenumber"):
            suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=6))
            record["invoicenumber"] = f"INV-{random.randint(1000, 99999):05d}-{suffix}"
        return
    if old.get("statecode") in CLOSED_INVOICE_STATES and changed - _STATE_COLUMNS:
        raise DataverseError(
            400,
            INVALID_STATE,
            "The invoice cannot be updated because it is in a read-only state (Paid or "
            "Canceled). Reactivate the invoice (statecode 0) before changing it.",
        )


def _require_open_invoice(engine: Tables, line: Record) -> None:
    ref = line.get("invoiceid")
    invoice_entity = engine.schema.entity("invoice")
    invoice = engine.find(invoice_entity, ref.id) if isinstance(ref, EntityRef) else None
    if invoice is not None and invoice.get("statecode") in CLOSED_INVOICE_STATES:
        raise DataverseError(
            400,
            INVALID_STATE,
            "The invoice product cannot be changed because its invoice is in a read-only state "
            "(Paid or Canceled).",
        )


def _before_line_write(engine: Tables, old: Record | None, line: Record) -> None:
    if line.get("invoiceid") is None:
        raise DataverseError(400, "0x80040203", "Attribute 'invoiceid' cannot be NULL.")
    _require_open_invoice(engine, line)
    product_ref = line.get("productid")
    if line.get("isproductoverridden") is None:
        line["isproductoverridden"] = product_ref is None
    if isinstance(product_ref, EntityRef) and not line["isproductoverridden"]:
        product = engine.find(engine.schema.entity("product"), product_ref.id) or {}
        if line.get("uomid") is None:
            line["uomid"] = product.get("defaultuomid")
        if line.get("priceperunit") is None and not line.get("ispriceoverridden"):
            line["priceperunit"] = product.get("price")
    if old is None and line.get("lineitemnumber") is None:
        siblings = [
            r.get("lineitemnumber") or 0
            for r in engine.rows(engine.schema.entity("invoicedetail"))
            if r.get("invoiceid") == line["invoiceid"]
        ]
        line["lineitemnumber"] = max(siblings, default=0) + 1
        line.setdefault("sequencenumber", line["lineitemnumber"])
    invoice_ref = line["invoiceid"]
    invoice = engine.find(engine.schema.entity("invoice"), invoice_ref.id) or {}
    # A line's money is in its invoice's currency.
    price_line(line, _precision(engine, invoice.get("transactioncurrencyid")))


def _precision(engine: Tables, currency: object) -> int:
    row = (
        engine.find(engine.schema.entity("transactioncurrency"), currency.id)
        if isinstance(currency, EntityRef)
        else None
    )
    precision = (row or {}).get("currencyprecision")
    return precision if isinstance(precision, int) else DEFAULT_PRECISION


def _price_invoice(engine: Tables, invoice: Record) -> None:
    """Round the invoice's own money and recompute its totals from its lines."""
    precision = _precision(engine, invoice.get("transactioncurrencyid"))
    for column in ("discountamount", "freightamount"):
        if isinstance(invoice.get(column), Decimal):
            invoice[column] = round_money(invoice[column], precision)
    ref = EntityRef("invoice", invoice["invoiceid"])
    lines = [
        r for r in engine.rows(engine.schema.entity("invoicedetail")) if r.get("invoiceid") == ref
    ]
    invoice.update(invoice_totals(invoice, lines, precision))


def _recalculate_invoice(engine: Tables, ref: object) -> None:
    """Invoice totals are recalculated by the platform on every line write."""
    if not isinstance(ref, EntityRef):
        return
    invoice_entity = engine.schema.entity("invoice")
    invoice = engine.find(invoice_entity, ref.id)
    if invoice is None:
        return
    updated = {**invoice}
    _price_invoice(engine, updated)
    engine.put(invoice_entity, updated)
