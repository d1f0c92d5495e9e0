"""Contacts: batch create/update with unique names, reads with balances, filters and search."""

from __future__ import annotations

import copy
from datetime import date
from typing import Annotated

from dxc_shared.xero import documents as xero
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import lengths
from ..errors import ValidationFailure, not_found
from ..formats import ZERO_GUID, new_id, parse_guid
from ..models import ZERO, Contact, Organisation
from ..terms import parse_terms, terms_document
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
)

router = APIRouter(tags=["contacts"])
Read = Annotated[ApiContext, Depends(scoped("contacts", write=False))]
Write = Annotated[ApiContext, Depends(scoped("contacts", write=True))]

_TEXT_FIELDS = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "EmailAddress": "email_address",
    "AccountNumber": "account_number",
    "ContactNumber": "contact_number",
    "TaxNumber": "tax_number",
    "DefaultCurrency": "default_currency",
}


def _balances(org: Organisation, contact: Contact, today: date) -> xero.ContactBalances:
    """Outstanding and overdue amounts of the contact's approved invoices, by side."""
    sums = {"ACCREC": [ZERO, ZERO], "ACCPAY": [ZERO, ZERO]}
    for invoice in org.invoices.values():
        if invoice.contact_id != contact.contact_id or invoice.status != "AUTHORISED":
            continue
        side = sums[invoice.type]
        side[0] += invoice.amount_due
        if invoice.due_date is not None and invoice.due_date < today:
            side[1] += invoice.amount_due
    return xero.ContactBalances(
        accounts_receivable=xero.Balance(
            outstanding=number(sums["ACCREC"][0]), overdue=number(sums["ACCREC"][1])
        ),
        accounts_payable=xero.Balance(
            outstanding=number(sums["ACCPAY"][0]), overdue=number(sums["ACCPAY"][1])
        ),
    )


def contact_json(context: ApiContext, contact: Contact) -> Json:
    org = context.org
    types = {i.type for i in org.invoices.values() if i.contact_id == contact.contact_id}
    return xero.Contact(
        contact_id=contact.contact_id,
        contact_status=xero.ContactStatus(contact.status),
        name=contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email_address=contact.email_address,
        account_number=contact.account_number,
        contact_number=contact.contact_number,
        tax_number=contact.tax_number,
        default_currency=contact.default_currency,
        addresses=[xero.Address.from_xero(address) for address in contact.addresses],
        phones=[xero.Phone.from_xero(phone) for phone in contact.phones],
        payment_terms=terms_document(contact.payment_terms),
        updated_date_utc=contact.updated,
        contact_groups=[],
        is_supplier=contact.is_supplier or "ACCPAY" in types,
        is_customer=contact.is_customer or "ACCREC" in types,
        balances=_balances(org, contact, context.now.date()),
        contact_persons=[],
        has_attachments=False,
        has_validation_errors=False,
    ).to_xero()


def _failed_contact(element: Json) -> Json:
    """A contact that failed validation, as in Xero's published example (xero_accounting.yaml,
    PUT /Contacts, the 400 ValidationException): a contact never saved has the zero ContactID,
    and HasValidationErrors is true."""
    return {"ContactID": element.get("ContactID") or ZERO_GUID, "HasValidationErrors": True}


def _name_taken(org: Organisation, name: str, except_id: str | None) -> bool:
    return any(
        c.status == "ACTIVE" and c.name.lower() == name.lower() and c.contact_id != except_id
        for c in org.contacts.values()
    )


ACCOUNT_NUMBER_TAKEN = "The Account Number already exists. Please enter a different Account Number."


def _account_number_taken(org: Organisation, number: str, except_id: str) -> bool:
    return any(
        c.account_number == number and c.contact_id != except_id for c in org.contacts.values()
    )


def save_contact(context: ApiContext, raw: Json, *, allow_update: bool) -> Contact:
    org = context.org
    existing: Contact | None = None
    if raw.get("ContactID"):
        existing = org.contacts.get(parse_guid(raw["ContactID"]) or "")
        if existing is None or not allow_update:
            raise ValidationFailure(
                "Contact could not be found"
                if existing is None
                else "A contact with this ContactID already exists"
            )
    elif allow_update and raw.get("ContactNumber"):
        existing = next(
            (c for c in org.contacts.values() if c.contact_number == raw["ContactNumber"]), None
        )
    now = context.now
    contact = copy.deepcopy(existing) if existing else Contact(new_id(), "", now, now)
    errors: list[str] = []
    lengths.check(raw, lengths.CONTACT, errors)
    for key, limits in (("Addresses", lengths.ADDRESS), ("Phones", lengths.PHONE)):
        for part in raw.get(key) or []:
            if isinstance(part, dict):
                lengths.check(part, limits, errors)
    if "Name" in raw or existing is None:
        name = str(raw.get("Name") or "").strip()
        if not name:
            errors.append("The contact name must be specified")
        elif _name_taken(org, name, contact.contact_id):
            errors.append(
                f"The contact name {name} is already assigned to another contact. "
                "The contact name must be unique across all active contacts."
            )
        contact.name = name
    for key, attribute in _TEXT_FIELDS.items():
        if key in raw:
            setattr(contact, attribute, raw[key])
    if (
        "AccountNumber" in raw
        and contact.account_number
        and _account_number_taken(org, contact.account_number, contact.contact_id)
    ):
        errors.append(ACCOUNT_NUMBER_TAKEN)
    if "PaymentTerms" in raw:
        contact.payment_terms = parse_terms(raw["PaymentTerms"], errors)
    if contact.default_currency and contact.default_currency not in org.currencies:
        errors.append(f"Organisation is not subscribed to currency {contact.default_currency}")
    for key in ("Addresses", "Phones"):
        if isinstance(raw.get(key), list):
            setattr(contact, key.lower(), list(raw[key]))
    if raw.get("ContactStatus") in {"ACTIVE", "ARCHIVED"}:
        contact.status = raw["ContactStatus"]
    if errors:
        raise ValidationFailure(*errors)
    contact.updated = now
    org.contacts[contact.contact_id] = contact
    context.emit("CONTACT", "UPDATE" if existing else "CREATE", contact.contact_id, "Contacts")
    return contact


async def _write(request: Request, context: ApiContext, *, allow_update: bool) -> Response:
    return run_batch(
        context,
        "Contacts",
        await read_elements(request, "Contacts"),
        lambda raw: save_contact(context, raw, allow_update=allow_update),
        lambda contact: contact_json(context, contact),
        failure_fields=_failed_contact,
    )


@router.put("/Contacts")
async def create_contacts(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=False)


@router.post("/Contacts")
async def update_or_create_contacts(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=True)


def _find(org: Organisation, key: str) -> Contact | None:
    contact_id = parse_guid(key)
    if contact_id is not None:
        return org.contacts.get(contact_id)
    return next((c for c in org.contacts.values() if c.contact_number == key), None)


@router.post("/Contacts/{key}")
async def update_contact(key: str, request: Request, context: Write) -> Response:
    contact = _find(context.org, key)
    if contact is None:
        return not_found()
    elements = (await read_elements(request, "Contacts"))[:1]
    elements[0]["ContactID"] = contact.contact_id
    return run_batch(
        context,
        "Contacts",
        elements,
        lambda raw: save_contact(context, raw, allow_update=True),
        lambda saved: contact_json(context, saved),
        failure_fields=_failed_contact,
    )


@router.get("/Contacts")
async def list_contacts(request: Request, context: Read) -> Response:
    contacts = list(context.org.contacts.values())
    if request.query_params.get("includeArchived", "").lower() != "true":
        contacts = [c for c in contacts if c.status == "ACTIVE"]
    ids = id_list(request, "IDs")
    if ids is not None:
        contacts = [c for c in contacts if c.contact_id in ids]
    term = request.query_params.get("searchTerm", "").lower()
    if term:
        contacts = [
            c
            for c in contacts
            if any(
                term in (v or "").lower()
                for v in (c.name, c.first_name, c.last_name, c.email_address, c.contact_number)
            )
        ]
    return list_response(context, "Contacts", (contact_json(context, c) for c in contacts))


@router.get("/Contacts/{key}")
async def get_contact(key: str, context: Read) -> Response:
    contact = _find(context.org, key)
    if contact is None:
        return not_found()
    return one(context, "Contacts", contact_json(context, contact))
