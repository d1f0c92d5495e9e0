"""Invoices (ACCREC sales invoices and ACCPAY bills): batch create/update, reads, filters,
status rules, and the online invoice link."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Annotated, Any

from dxc_shared.xero import documents as xero
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..errors import ValidationFailure, not_found, validation_exception
from ..formats import new_id, parse_guid
from ..models import Invoice, Organisation
from .common import (
    ApiContext,
    Json,
    id_list,
    list_response,
    number,
    one,
    read_elements,
    run_batch,
    scoped,
    unitdp_of,
)
from .documents import (
    CREATABLE,
    INVOICE_TYPES,
    apply_fields,
    check_status_change,
    document_fields,
)

router = APIRouter(tags=["invoices"])

Read = Annotated[ApiContext, Depends(scoped("invoices", write=False))]
Write = Annotated[ApiContext, Depends(scoped("invoices", write=True))]


def find_invoice(org: Organisation, key: str) -> Invoice | None:
    """By InvoiceID, or else by InvoiceNumber (ACCREC first, as numbers are unique there)."""
    invoice_id = parse_guid(key)
    if invoice_id is not None:
        return org.invoices.get(invoice_id)
    matches = [i for i in org.invoices.values() if i.number == key]
    return next((i for i in matches if i.type == "ACCREC"), matches[0] if matches else None)


def _next_number(org: Organisation) -> str:
    taken = {i.number for i in org.invoices.values() if i.type == "ACCREC"}
    while True:
        candidate = f"INV-{org.next_invoice_number:04d}"
        org.next_invoice_number += 1
        if candidate not in taken:
            return candidate


def invoice_json(context: ApiContext, invoice: Invoice, unitdp: int = 2) -> Json:
    org = context.org
    payments = [org.payments[p] for p in invoice.payment_ids]
    allocations = [org.allocations[a] for a in invoice.allocation_ids]
    return xero.Invoice(
        type=xero.InvoiceType(invoice.type),
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.number or "",
        **document_fields(context, invoice, unitdp),
        amount_due=number(invoice.amount_due),
        amount_paid=number(invoice.amount_paid),
        amount_credited=number(invoice.amount_credited),
        sent_to_contact=invoice.sent_to_contact,
        is_discounted=any(
            line.discount_rate or line.discount_amount for line in invoice.line_items
        ),
        payments=[
            xero.Payment(
                payment_id=p.payment_id,
                date=p.date,
                amount=number(p.amount),
                reference=p.reference,
                currency_rate=Decimal(1),
                has_account=True,
                has_validation_errors=False,
            )
            for p in payments
            if p.status == "AUTHORISED"
        ],
        credit_notes=[
            xero.CreditNote(
                credit_note_id=a.credit_note_id,
                credit_note_number=org.credit_notes[a.credit_note_id].number,
                applied_amount=number(a.amount),
                date=a.date,
                total=number(org.credit_notes[a.credit_note_id].total),
            )
            for a in allocations
        ],
        prepayments=[],
        overpayments=[],
    ).to_xero()


def save_invoice(context: ApiContext, raw: Json, *, allow_update: bool) -> Invoice:
    org = context.org
    errors: list[str] = []
    existing: Invoice | None = None
    if allow_update and raw.get("InvoiceID"):
        existing = org.invoices.get(parse_guid(raw["InvoiceID"]) or "")
        if existing is None:
            raise ValidationFailure("Invoice could not be found")
    elif allow_update and raw.get("InvoiceNumber") and raw.get("Type", "ACCREC") == "ACCREC":
        existing = next(
            (
                i
                for i in org.invoices.values()
                if i.type == "ACCREC" and i.number == raw["InvoiceNumber"]
            ),
            None,
        )
    if existing is not None:
        return _update(context, existing, raw, errors)
    return _create(context, raw, errors)


def _create(context: ApiContext, raw: Json, errors: list[str]) -> Invoice:
    org = context.org
    invoice_type = raw.get("Type")
    if invoice_type not in INVOICE_TYPES:
        raise ValidationFailure(
            "Invoice Type must be specified"
            if not invoice_type
            else f"'{invoice_type}' is not a valid Invoice Type"
        )
    status = raw.get("Status") or "DRAFT"
    if status not in CREATABLE:
        raise ValidationFailure("Invoice not of valid status for creation")
    number_given = raw.get("InvoiceNumber")
    if (
        number_given
        and invoice_type == "ACCREC"
        and any(i.type == "ACCREC" and i.number == number_given for i in org.invoices.values())
    ):
        errors.append("Invoice # must be unique.")
    now = context.now
    invoice = Invoice(
        type=invoice_type,
        contact_id="",
        number=number_given or None,
        status=status,
        line_amount_types="Exclusive",
        currency_code=org.base_currency,
        created=now,
        updated=now,
        invoice_id=new_id(),
    )
    apply_fields(context, invoice, raw, creating=True, unitdp=unitdp_of(context), errors=errors)
    if errors:
        raise ValidationFailure(*errors)
    if invoice.number is None and invoice_type == "ACCREC":
        invoice.number = _next_number(org)
    org.invoices[invoice.invoice_id] = invoice
    context.emit("INVOICE", "CREATE", invoice.invoice_id, "Invoices")
    return invoice


_STATUS_ONLY = {"InvoiceID", "InvoiceNumber", "Status", "Type"}


def _update(context: ApiContext, invoice: Invoice, raw: Json, errors: list[str]) -> Invoice:
    org = context.org
    new_status = raw.get("Status") or invoice.status
    changes = bool(raw.keys() - _STATUS_ONLY)
    check_status_change(invoice, new_status, "Invoice", changes)
    number_given = raw.get("InvoiceNumber")
    if (
        number_given
        and number_given != invoice.number
        and invoice.type == "ACCREC"
        and any(i.type == "ACCREC" and i.number == number_given for i in org.invoices.values())
    ):
        errors.append("Invoice # must be unique.")
    # Validate on a copy so a rejected update leaves the stored invoice untouched.
    draft = copy.deepcopy(invoice)
    draft.status = new_status
    if number_given:
        draft.number = number_given
    if changes or new_status != invoice.status:
        apply_fields(context, draft, raw, creating=False, unitdp=unitdp_of(context), errors=errors)
    if errors:
        raise ValidationFailure(*errors)
    draft.updated = context.now
    org.invoices[invoice.invoice_id] = draft
    context.emit("INVOICE", "UPDATE", draft.invoice_id, "Invoices")
    return draft


async def _write(request: Request, context: ApiContext, *, allow_update: bool) -> Response:
    elements = await read_elements(request, "Invoices")
    unitdp = unitdp_of(context)
    return run_batch(
        context,
        "Invoices",
        elements,
        lambda raw: save_invoice(context, raw, allow_update=allow_update),
        lambda invoice: invoice_json(context, invoice, unitdp),
        has_errors_field=True,
    )


@router.put("/Invoices")
async def create_invoices(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=False)


@router.post("/Invoices")
async def update_or_create_invoices(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=True)


@router.post("/Invoices/{key}")
async def update_invoice(key: str, request: Request, context: Write) -> Response:
    invoice = find_invoice(context.org, key)
    if invoice is None:
        return not_found()
    elements = await read_elements(request, "Invoices")
    for element in elements:
        element["InvoiceID"] = invoice.invoice_id
    unitdp = unitdp_of(context)
    return run_batch(
        context,
        "Invoices",
        elements[:1],
        lambda raw: save_invoice(context, raw, allow_update=True),
        lambda saved: invoice_json(context, saved, unitdp),
        has_errors_field=True,
    )


@router.get("/Invoices")
async def list_invoices(request: Request, context: Read) -> Response:
    invoices: list[Invoice] = list(context.org.invoices.values())
    filters: list[tuple[str, Any]] = [
        ("IDs", lambda i, ids: i.invoice_id in ids),
        ("InvoiceNumbers", lambda i, numbers: (i.number or "").lower() in numbers),
        ("ContactIDs", lambda i, ids: i.contact_id in ids),
        ("Statuses", lambda i, statuses: i.status.lower() in statuses),
    ]
    for name, keep in filters:
        values = id_list(request, name)
        if values is not None:
            invoices = [i for i in invoices if keep(i, values)]
    term = request.query_params.get("searchTerm", "").lower()
    if term:
        invoices = [
            i
            for i in invoices
            if term in (i.number or "").lower() or term in (i.reference or "").lower()
        ]
    unitdp = unitdp_of(context)
    return list_response(context, "Invoices", (invoice_json(context, i, unitdp) for i in invoices))


@router.get("/Invoices/{key}")
async def get_invoice(key: str, context: Read) -> Response:
    invoice = find_invoice(context.org, key)
    if invoice is None:
        return not_found()
    return one(context, "Invoices", invoice_json(context, invoice, unitdp_of(context)))


@router.get("/Invoices/{key}/OnlineInvoice")
async def online_invoice(key: str, context: Read) -> Response:
    """The customer-facing link Xero offers for sales invoices that are not drafts."""
    invoice = find_invoice(context.org, key)
    if invoice is None:
        return not_found()
    if invoice.type != "ACCREC" or invoice.status in {"DRAFT", "DELETED"}:
        message = "Online invoices are only available for approved sales invoices"
        return validation_exception(
            [{"InvoiceID": invoice.invoice_id, "ValidationErrors": [{"Message": message}]}]
        )
    base = context.api_base.removesuffix("/api.xro/2.0")
    url = f"{base}/in/{context.org.tenant_id}/{invoice.invoice_id}"
    # The envelope and OnlineInvoices element of Xero's OpenAPI definition (getOnlineInvoice).
    return one(context, "OnlineInvoices", xero.OnlineInvoice(online_invoice_url=url).to_xero())
