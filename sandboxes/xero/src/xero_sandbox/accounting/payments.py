"""Payments against approved invoices; deleting a payment (Status DELETED) reopens the invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from dxc_shared.xero import documents as xero
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..errors import ValidationFailure, not_found
from ..formats import new_id, parse_date, parse_guid, to_decimal
from ..models import Account, Organisation, Payment
from .common import ApiContext, Json, list_response, number, one, read_elements, run_batch, scoped
from .invoices import find_invoice
from .settlement import check_payable, settle

router = APIRouter(tags=["payments"])
Read = Annotated[ApiContext, Depends(scoped("payments", write=False))]
Write = Annotated[ApiContext, Depends(scoped("payments", write=True))]


def payment_json(context: ApiContext, payment: Payment) -> Json:
    org = context.org
    invoice = org.invoices[payment.invoice_id]
    account = org.accounts.get(payment.account_id)
    contact = org.contacts.get(invoice.contact_id)
    return xero.Payment(
        payment_id=payment.payment_id,
        date=payment.date,
        amount=number(payment.amount),
        bank_amount=number(payment.amount),
        currency_rate=Decimal(1),
        reference=payment.reference or "",
        is_reconciled=False,
        status=xero.PaymentStatus(payment.status),
        payment_type=xero.PaymentType(payment.payment_type),
        updated_date_utc=payment.updated,
        has_account=True,
        has_validation_errors=False,
        account=xero.Account(
            account_id=payment.account_id,
            code=account.code if account else None,
            name=account.name if account else None,
        ),
        invoice=xero.Invoice(
            type=xero.InvoiceType(invoice.type),
            invoice_id=invoice.invoice_id,
            invoice_number=invoice.number or "",
            status=xero.InvoiceStatus(invoice.status),
            amount_due=number(invoice.amount_due),
            amount_paid=number(invoice.amount_paid),
            total=number(invoice.total),
            currency_code=invoice.currency_code,
            contact=xero.Contact(
                contact_id=invoice.contact_id, name=contact.name if contact else ""
            ),
        ),
    ).to_xero()


def _account(org: Organisation, raw: object) -> Account:
    ref = raw if isinstance(raw, dict) else {}
    account = None
    if ref.get("AccountID"):
        account = org.accounts.get(parse_guid(ref["AccountID"]) or "")
    elif ref.get("Code"):
        account = org.account_by_code(str(ref["Code"]))
    if account is None:
        raise ValidationFailure("Account could not be found")
    if account.type != "BANK" and not account.enable_payments:
        raise ValidationFailure("Payments cannot be made to this account")
    return account


def _delete(context: ApiContext, payment: Payment) -> Payment:
    if payment.status == "DELETED":
        raise ValidationFailure("Payment has already been deleted")
    invoice = context.org.invoices[payment.invoice_id]
    payment.status, payment.updated = "DELETED", context.now
    invoice.amount_paid -= payment.amount
    settle(invoice, invoice.amount_due, payment.date)
    invoice.updated = context.now
    context.emit("INVOICE", "UPDATE", invoice.invoice_id, "Invoices")
    return payment


def save_payment(context: ApiContext, raw: Json) -> Payment:
    org = context.org
    if raw.get("PaymentID"):
        existing = org.payments.get(parse_guid(raw["PaymentID"]) or "")
        if existing is None:
            raise ValidationFailure("Payment could not be found")
        if raw.get("Status") != "DELETED":
            raise ValidationFailure("Payments can only be deleted, not edited")
        return _delete(context, existing)
    target = raw["Invoice"] if isinstance(raw.get("Invoice"), dict) else {}
    key = target.get("InvoiceID") or target.get("InvoiceNumber") or raw.get("InvoiceNumber")
    invoice = find_invoice(org, str(key)) if key else None
    if invoice is None:
        raise ValidationFailure("Invoice could not be found")
    account = _account(org, raw.get("Account"))
    amount = to_decimal(raw.get("Amount"))
    if amount is None:
        raise ValidationFailure("Payment amount must be specified")
    check_payable(invoice, amount, invoice.amount_due)
    on = parse_date(raw.get("Date")) or context.now.date()
    payment = Payment(
        payment_id=new_id(),
        invoice_id=invoice.invoice_id,
        account_id=account.account_id,
        date=on,
        amount=amount,
        updated=context.now,
        reference=raw.get("Reference"),
        payment_type="ACCRECPAYMENT" if invoice.type == "ACCREC" else "ACCPAYPAYMENT",
    )
    org.payments[payment.payment_id] = payment
    invoice.payment_ids.append(payment.payment_id)
    invoice.amount_paid += amount
    settle(invoice, invoice.amount_due, on)
    invoice.updated = context.now
    context.emit("INVOICE", "UPDATE", invoice.invoice_id, "Invoices")
    return payment


async def _write(request: Request, context: ApiContext, elements: list[Json]) -> Response:
    return run_batch(
        context,
        "Payments",
        elements,
        lambda raw: save_payment(context, raw),
        lambda payment: payment_json(context, payment),
    )


@router.put("/Payments")
@router.post("/Payments")
async def create_payments(request: Request, context: Write) -> Response:
    return await _write(request, context, await read_elements(request, "Payments"))


@router.post("/Payments/{payment_id}")
async def delete_payment(payment_id: str, request: Request, context: Write) -> Response:
    if parse_guid(payment_id) not in context.org.payments:
        return not_found()
    elements = (await read_elements(request, "Payments"))[:1]
    elements[0]["PaymentID"] = payment_id
    return await _write(request, context, elements)


@router.get("/Payments")
async def list_payments(context: Read) -> Response:
    payments = (payment_json(context, p) for p in context.org.payments.values())
    return list_response(context, "Payments", payments)


@router.get("/Payments/{payment_id}")
async def get_payment(payment_id: str, context: Read) -> Response:
    payment = context.org.payments.get(parse_guid(payment_id) or "")
    if payment is None:
        return not_found()
    return one(context, "Payments", payment_json(context, payment))
