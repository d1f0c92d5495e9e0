"""Payment terms: the due date Xero gives a document sent without one, from the contact's
default terms, else the organisation's."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from dxc_shared.xero import documents as xero

from .models import Contact, Organisation, PaymentTerm, PaymentTerms

TERM_TYPES = {t.value for t in xero.PaymentTermType}


def _day_of_month(year: int, month: int, day: int) -> dt.date:
    """Day `day` of the month, or its last day when the month is shorter (the 31st of June)."""
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def due_date(term: PaymentTerm, date: dt.date) -> dt.date:
    if term.type == "DAYSAFTERBILLDATE":
        return date + dt.timedelta(days=term.day)
    if term.type == "DAYSAFTERBILLMONTH":
        month_end = _day_of_month(date.year, date.month, 31)
        return month_end + dt.timedelta(days=term.day)
    if term.type == "OFCURRENTMONTH":
        return _day_of_month(date.year, date.month, term.day)
    following = date.replace(day=1) + dt.timedelta(days=32)
    return _day_of_month(following.year, following.month, term.day)


def term_for(org: Organisation, contact: Contact | None, document_type: str) -> PaymentTerm | None:
    """The contact's term for this side (sales or bills), else the organisation's."""
    sales = document_type == "ACCREC"
    for terms in (contact.payment_terms if contact else None, org.payment_terms):
        term = (terms.sales if sales else terms.bills) if terms else None
        if term is not None:
            return term
    return None


def parse_terms(raw: Any, errors: list[str]) -> PaymentTerms:
    """``{"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}, "Bills": {...}}``."""
    terms = PaymentTerms()
    if not isinstance(raw, dict):
        return terms
    for key in ("Sales", "Bills"):
        term = raw.get(key)
        if not isinstance(term, dict):
            continue
        day, kind = term.get("Day"), term.get("Type")
        if kind not in TERM_TYPES:
            errors.append(f"'{kind}' is not a valid payment term type")
            continue
        if isinstance(day, bool) or not isinstance(day, int) or day < 0:
            errors.append("The payment term day must be a whole number of 0 or more")
            continue
        if kind in {"OFCURRENTMONTH", "OFFOLLOWINGMONTH"} and not 1 <= day <= 31:
            errors.append("The payment term day must be a day of the month (1 to 31)")
            continue
        setattr(terms, key.lower(), PaymentTerm(day, kind))
    return terms


def terms_document(terms: PaymentTerms) -> xero.PaymentTerms | None:
    if terms.sales is None and terms.bills is None:
        return None

    def term(value: PaymentTerm | None) -> xero.PaymentTerm | None:
        return (
            xero.PaymentTerm(day=value.day, type=xero.PaymentTermType(value.type))
            if value
            else None
        )

    return xero.PaymentTerms(sales=term(terms.sales), bills=term(terms.bills))
