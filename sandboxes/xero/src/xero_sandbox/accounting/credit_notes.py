"""Credit notes: created and approved like invoices, then allocated to invoices."""

from __future__ import annotations

import copy
from typing import Annotated

from dxc_shared.xero import documents as xero
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..errors import ValidationFailure, not_found
from ..formats import new_id, parse_date, parse_guid, to_decimal
from ..models import Allocation, CreditNote, Organisation
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
from .documents import CREATABLE, apply_fields, check_status_change, document_fields
from .invoices import find_invoice
from .settlement import check_allocation, remaining_credit, settle

router = APIRouter(tags=["credit notes"])
Read = Annotated[ApiContext, Depends(scoped("invoices", write=False))]
Write = Annotated[ApiContext, Depends(scoped("invoices", write=True))]
CREDIT_NOTE_TYPES = {"ACCRECCREDIT", "ACCPAYCREDIT"}


def find_credit_note(org: Organisation, key: str) -> CreditNote | None:
    credit_note_id = parse_guid(key)
    if credit_note_id is not None:
        return org.credit_notes.get(credit_note_id)
    return next((c for c in org.credit_notes.values() if c.number == key), None)


def allocation_document(context: ApiContext, allocation: Allocation) -> xero.Allocation:
    org = context.org
    invoice = org.invoices[allocation.invoice_id]
    credit_note = org.credit_notes[allocation.credit_note_id]
    return xero.Allocation(
        allocation_id=allocation.allocation_id,
        amount=number(allocation.amount),
        date=allocation.date,
        invoice=xero.Invoice(invoice_id=invoice.invoice_id, invoice_number=invoice.number or ""),
        credit_note=xero.CreditNote(
            credit_note_id=credit_note.credit_note_id,
            credit_note_number=credit_note.number or "",
        ),
        is_deleted=False,
    )


def credit_note_json(context: ApiContext, credit_note: CreditNote, unitdp: int = 2) -> Json:
    org = context.org
    return xero.CreditNote(
        type=xero.CreditNoteType(credit_note.type),
        credit_note_id=credit_note.credit_note_id,
        credit_note_number=credit_note.number or "",
        **document_fields(context, credit_note, unitdp),
        remaining_credit=number(remaining_credit(org, credit_note)),
        allocations=[
            allocation_document(context, org.allocations[a]) for a in credit_note.allocation_ids
        ],
        payments=[],
    ).to_xero()


def _next_number(org: Organisation) -> str:
    taken = {c.number for c in org.credit_notes.values()}
    while True:
        candidate = f"CN-{org.next_credit_note_number:04d}"
        org.next_credit_note_number += 1
        if candidate not in taken:
            return candidate


def save_credit_note(context: ApiContext, raw: Json, *, allow_update: bool) -> CreditNote:
    org = context.org
    errors: list[str] = []
    unitdp = unitdp_of(context)
    if allow_update and raw.get("CreditNoteID"):
        existing = org.credit_notes.get(parse_guid(raw["CreditNoteID"]) or "")
        if existing is None:
            raise ValidationFailure("Credit note could not be found")
        new_status = raw.get("Status") or existing.status
        changes = bool(raw.keys() - {"CreditNoteID", "Status", "Type"})
        check_status_change(existing, new_status, "Credit Note", changes)
        draft = copy.deepcopy(existing)
        draft.status = new_status
        apply_fields(context, draft, raw, creating=False, unitdp=unitdp, errors=errors)
        if errors:
            raise ValidationFailure(*errors)
        draft.updated = context.now
        org.credit_notes[draft.credit_note_id] = draft
        context.emit("CREDITNOTE", "UPDATE", draft.credit_note_id, "CreditNotes")
        return draft
    if raw.get("Type") not in CREDIT_NOTE_TYPES:
        raise ValidationFailure("Credit Note Type must be ACCRECCREDIT or ACCPAYCREDIT")
    status = raw.get("Status") or "DRAFT"
    if status not in CREATABLE:
        raise ValidationFailure("Credit Note not of valid status for creation")
    number_given = raw.get("CreditNoteNumber")
    if number_given and any(c.number == number_given for c in org.credit_notes.values()):
        errors.append("Credit Note # must be unique.")
    now = context.now
    credit_note = CreditNote(
        type=raw["Type"],
        contact_id="",
        number=number_given or None,
        status=status,
        line_amount_types="Exclusive",
        currency_code=org.base_currency,
        created=now,
        updated=now,
        credit_note_id=new_id(),
    )
    apply_fields(context, credit_note, raw, creating=True, unitdp=unitdp, errors=errors)
    if errors:
        raise ValidationFailure(*errors)
    if credit_note.number is None and credit_note.type == "ACCRECCREDIT":
        credit_note.number = _next_number(org)
    org.credit_notes[credit_note.credit_note_id] = credit_note
    context.emit("CREDITNOTE", "CREATE", credit_note.credit_note_id, "CreditNotes")
    return credit_note


async def _write(request: Request, context: ApiContext, *, allow_update: bool) -> Response:
    unitdp = unitdp_of(context)
    return run_batch(
        context,
        "CreditNotes",
        await read_elements(request, "CreditNotes"),
        lambda raw: save_credit_note(context, raw, allow_update=allow_update),
        lambda credit_note: credit_note_json(context, credit_note, unitdp),
        has_errors_field=True,
    )


@router.put("/CreditNotes")
async def create_credit_notes(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=False)


@router.post("/CreditNotes")
async def update_or_create_credit_notes(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=True)


@router.get("/CreditNotes")
async def list_credit_notes(request: Request, context: Read) -> Response:
    credit_notes = list(context.org.credit_notes.values())
    ids = id_list(request, "IDs")
    if ids is not None:
        credit_notes = [c for c in credit_notes if c.credit_note_id in ids]
    unitdp = unitdp_of(context)
    return list_response(
        context, "CreditNotes", (credit_note_json(context, c, unitdp) for c in credit_notes)
    )


@router.get("/CreditNotes/{key}")
async def get_credit_note(key: str, context: Read) -> Response:
    credit_note = find_credit_note(context.org, key)
    if credit_note is None:
        return not_found()
    return one(context, "CreditNotes", credit_note_json(context, credit_note, unitdp_of(context)))


def allocate(context: ApiContext, credit_note: CreditNote, raw: Json) -> Allocation:
    org = context.org
    target = raw["Invoice"] if isinstance(raw.get("Invoice"), dict) else {}
    key = target.get("InvoiceID") or target.get("InvoiceNumber") or ""
    invoice = find_invoice(org, str(key)) if key else None
    if invoice is None:
        raise ValidationFailure("Invoice could not be found")
    amount = to_decimal(raw.get("Amount"))
    if amount is None:
        raise ValidationFailure("Amount must be specified")
    check_allocation(org, credit_note, invoice, amount)
    on = parse_date(raw.get("Date")) or context.now.date()
    allocation = Allocation(new_id(), credit_note.credit_note_id, invoice.invoice_id, amount, on)
    org.allocations[allocation.allocation_id] = allocation
    credit_note.allocation_ids.append(allocation.allocation_id)
    invoice.allocation_ids.append(allocation.allocation_id)
    invoice.amount_credited += amount
    settle(invoice, invoice.amount_due, on)
    settle(credit_note, remaining_credit(org, credit_note), on)
    credit_note.updated = invoice.updated = context.now
    context.emit("INVOICE", "UPDATE", invoice.invoice_id, "Invoices")
    context.emit("CREDITNOTE", "UPDATE", credit_note.credit_note_id, "CreditNotes")
    return allocation


@router.put("/CreditNotes/{key}/Allocations")
async def allocate_credit_note(key: str, request: Request, context: Write) -> Response:
    credit_note = find_credit_note(context.org, key)
    if credit_note is None:
        return not_found()
    return run_batch(
        context,
        "Allocations",
        await read_elements(request, "Allocations"),
        lambda raw: allocate(context, credit_note, raw),
        lambda allocation: allocation_document(context, allocation).to_xero(),
    )
