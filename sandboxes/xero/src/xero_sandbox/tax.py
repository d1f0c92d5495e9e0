"""Line and document arithmetic as Xero does it: each line's amount and tax rounded to cents,
totals summed from the rounded lines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .formats import money
from .models import ZERO, LineItem

HUNDRED = Decimal(100)


def line_amount(
    quantity: Decimal,
    unit_amount: Decimal,
    discount_rate: Decimal | None,
    discount_amount: Decimal | None = None,
) -> Decimal:
    """Quantity x UnitAmount, less DiscountRate percent or less DiscountAmount, rounded to
    cents once."""
    gross = quantity * unit_amount
    if discount_rate:
        gross = gross * (HUNDRED - discount_rate) / HUNDRED
    if discount_amount:
        gross = gross - discount_amount
    return money(gross)


def line_tax(amount: Decimal, rate: Decimal, line_amount_types: str) -> Decimal:
    """Tax of one line: on top of an exclusive amount, inside an inclusive one."""
    if line_amount_types == "NoTax" or not rate:
        return ZERO
    if line_amount_types == "Inclusive":
        return money(amount * rate / (HUNDRED + rate))
    return money(amount * rate / HUNDRED)


@dataclass(frozen=True)
class Totals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def totals(lines: list[LineItem], line_amount_types: str) -> Totals:
    amounts = sum((line.line_amount for line in lines), ZERO)
    tax = sum((line.tax_amount for line in lines), ZERO)
    if line_amount_types == "Inclusive":
        return Totals(sub_total=amounts - tax, total_tax=tax, total=amounts)
    return Totals(sub_total=amounts, total_tax=tax, total=amounts + tax)
