"""Money applied to invoices, by payment or credit note allocation: both only on approved
documents, never beyond what is outstanding; a document at zero outstanding is PAID."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ..errors import ValidationFailure
from ..models import ZERO, CreditNote, Document, Invoice, Organisation


def remaining_credit(org: Organisation, credit_note: CreditNote) -> Decimal:
    allocated = sum((org.allocations[a].amount for a in credit_note.allocation_ids), ZERO)
    return credit_note.total - allocated - credit_note.amount_paid


def check_payable(document: Document, amount: Decimal, outstanding: Decimal) -> None:
    if document.status != "AUTHORISED":
        raise ValidationFailure("Payments can only be made against Authorised documents")
    if amount <= 0:
        raise ValidationFailure("Payment amount must be greater than zero")
    if amount > outstanding:
        raise ValidationFailure("Payment amount exceeds the amount outstanding on this document")


def settle(document: Document, outstanding: Decimal, on: date) -> None:
    """Mark a document PAID once nothing is outstanding (and back when money is removed)."""
    if outstanding == 0 and document.status == "AUTHORISED":
        document.status = "PAID"
        document.fully_paid_on = on
    elif outstanding > 0 and document.status == "PAID":
        document.status = "AUTHORISED"
        document.fully_paid_on = None


def check_allocation(
    org: Organisation, credit_note: CreditNote, invoice: Invoice, amount: Decimal
) -> None:
    if credit_note.status != "AUTHORISED":
        raise ValidationFailure("Credit Note must be AUTHORISED before it can be allocated")
    if invoice.status != "AUTHORISED":
        raise ValidationFailure("Credit notes can only be allocated to Authorised invoices")
    if (credit_note.type == "ACCRECCREDIT") != (invoice.type == "ACCREC"):
        raise ValidationFailure("The credit note and invoice must be of matching types")
    if credit_note.currency_code != invoice.currency_code:
        raise ValidationFailure("The credit note and invoice must be in the same currency")
    if amount <= 0:
        raise ValidationFailure("The allocation amount must be greater than zero")
    if amount > remaining_credit(org, credit_note):
        raise ValidationFailure(
            "The amount allocated exceeds the remaining credit on the credit note"
        )
    if amount > invoice.amount_due:
        raise ValidationFailure(
            "The amount allocated exceeds the amount outstanding on the invoice"
        )
