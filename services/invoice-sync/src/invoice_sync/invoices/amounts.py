"""The money invariant of an export: the Xero invoice says what the Dynamics invoice says.

Pure functions, no I/O. `reconcile` compares a Dynamics invoice's amounts, as Dynamics computed
them, with a Xero invoice: before sending (the mapped lines, amounts computed the way Xero will
compute them) and after (what Xero returned, with the per-line tax the connector writes back to
Dynamics). Each difference comes back as a sentence a finance user can act on; an empty list
means the two agree. `spread` is the one rule for sharing an invoice-level discount over the
lines, used by the mapping and checked here.

Conventions: line by line, Xero's ``LineAmount`` (Quantity x UnitAmount less the line's
discount, rounded to cents) must equal the Dynamics line's amount (``baseamount`` -
``manualdiscountamount``) less its share of the invoice discount, within `TOLERANCE`; the
Dynamics freight is one more Xero line after the invoice's lines. In total, the sum of Xero's
line amounts must equal Dynamics' detail amount less the invoice discount plus freight, within
`TOLERANCE` a line. After write-back, Dynamics' tax is the sum of the tax written to its lines
and its total is that tax plus its amount; both must equal Xero's (an Inclusive invoice's
amounts already hold the tax, so only its total is compared).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dxc_shared.xero import documents as xero

ZERO = Decimal(0)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
TOLERANCE = CENT


def cents(value: Decimal) -> Decimal:
    """Half away from zero, as Xero and Dynamics round money."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def spread(discount: Decimal, amounts: Sequence[Decimal]) -> list[Decimal] | None:
    """Each line's share of an invoice-level discount, in proportion to the line's amount and
    rounded to cents; what rounding leaves over goes to the largest line, so the shares add up
    to the discount exactly. None when there is a discount but no amount to carry it."""
    if not discount:
        return [ZERO for _ in amounts]
    base = sum(amounts, ZERO)
    if not base:
        return None
    shares = [cents(discount * amount / base) for amount in amounts]
    largest = max(range(len(amounts)), key=lambda i: abs(amounts[i]))
    shares[largest] += discount - sum(shares, ZERO)
    return shares


@dataclass(frozen=True)
class DynamicsLine:
    """One Dynamics invoice line's amounts as Dynamics computed them."""

    amount: Decimal  # baseamount - manualdiscountamount: before tax and the invoice discount
    manual_discount: Decimal = ZERO


@dataclass(frozen=True)
class DynamicsAmounts:
    """A Dynamics invoice's amounts: its lines in order, the invoice-level discount
    (``totaldiscountamount``) and ``freightamount``."""

    lines: Sequence[DynamicsLine]
    invoice_discount: Decimal = ZERO
    freight: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        """``totalamountlessfreight`` + ``freightamount``: the amount before tax."""
        return (
            sum((line.amount for line in self.lines), ZERO) - self.invoice_discount + (self.freight)
        )


def xero_line_amount(line: xero.LineItem) -> Decimal:
    """The line's ``LineAmount``, or, on a line about to be sent, the amount Xero will compute
    from its quantity, unit amount and discount."""
    if line.line_amount is not None:
        return line.line_amount
    if line.quantity is None or line.unit_amount is None:
        return ZERO
    gross = line.quantity * line.unit_amount
    if line.discount_rate:
        gross = gross * (HUNDRED - line.discount_rate) / HUNDRED
    if line.discount_amount:
        gross -= line.discount_amount
    return cents(gross)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _line_differences(
    dynamics: DynamicsAmounts, shares: Sequence[Decimal], xero_lines: Sequence[xero.LineItem]
) -> list[str]:
    notes: list[str] = []
    for number, line in enumerate(dynamics.lines, start=1):
        if number > len(xero_lines):
            notes.append(f"line {number} is missing in Xero")
            continue
        share = shares[number - 1]
        expected = line.amount - share
        actual = xero_line_amount(xero_lines[number - 1])
        excess = actual - expected
        if abs(excess) <= TOLERANCE:
            continue
        if line.manual_discount and abs(excess - line.manual_discount) <= TOLERANCE:
            notes.append(f"the discount on line {number} is missing")
        elif share and abs(excess - share) <= TOLERANCE:
            notes.append(
                f"the invoice discount's share of line {number} ({_money(share)}) is missing"
            )
        else:
            notes.append(
                f"line {number} is {_money(actual)} in Xero and {_money(expected)} in Dynamics"
            )
    extra = list(xero_lines[len(dynamics.lines) :])
    if dynamics.freight:
        if not extra:
            notes.append(f"the freight of {_money(dynamics.freight)} is missing")
        else:
            freight = xero_line_amount(extra.pop(0))
            if abs(freight - dynamics.freight) > TOLERANCE:
                notes.append(
                    f"the freight is {_money(freight)} in Xero and "
                    f"{_money(dynamics.freight)} in Dynamics"
                )
    for offset, surplus in enumerate(extra, start=len(xero_lines) - len(extra) + 1):
        notes.append(
            f"Xero has a line {offset} of {_money(xero_line_amount(surplus))} that Dynamics "
            "does not"
        )
    return notes


def reconcile(
    dynamics: DynamicsAmounts,
    invoice: xero.Invoice,
    *,
    written_tax: Sequence[Decimal] | None = None,
) -> list[str]:
    """The differences between a Dynamics invoice and a Xero invoice, in words; none when they
    agree. `written_tax`: after export, the tax the connector writes to each Dynamics line
    (Xero's per-line ``TaxAmount``), which makes Dynamics' own tax and total."""
    xero_lines = list(invoice.line_items or [])
    shares = spread(dynamics.invoice_discount, [line.amount for line in dynamics.lines])
    if shares is None:
        return [
            f"The invoice discount of {_money(dynamics.invoice_discount)} has no line amount "
            "to be taken from"
        ]
    line_notes = _line_differences(dynamics, shares, xero_lines)
    xero_amount = sum((xero_line_amount(line) for line in xero_lines), ZERO)
    allowance = TOLERANCE * max(1, len(dynamics.lines) + (1 if dynamics.freight else 0))
    amount_differs = abs(xero_amount - dynamics.amount) > allowance
    if written_tax is not None:
        inclusive = invoice.line_amount_types == xero.LineAmountTypes.INCLUSIVE
        dynamics_tax = sum(written_tax, ZERO)
        dynamics_total = dynamics.amount + (ZERO if inclusive else dynamics_tax)
        xero_tax = invoice.total_tax if invoice.total_tax is not None else ZERO
        xero_total = invoice.total if invoice.total is not None else xero_amount + xero_tax
        tax_notes = []
        if not inclusive and abs(xero_tax - dynamics_tax) > TOLERANCE:
            unheld = sum((line.tax_amount or ZERO for line in xero_lines[len(written_tax) :]), ZERO)
            tax_notes.append(
                f"Xero's tax {_money(xero_tax)} differs from Dynamics' {_money(dynamics_tax)}"
                + (
                    f" ({_money(unheld)} of it is on a line Dynamics has no line for, such as "
                    "freight)"
                    if unheld
                    else ""
                )
            )
        if abs(xero_total - dynamics_total) > allowance:
            return [
                f"Xero's total {_money(xero_total)} differs from Dynamics' "
                f"{_money(dynamics_total)}" + _because(tax_notes + line_notes)
            ]
        if tax_notes:
            return tax_notes
    if amount_differs:
        return [
            f"Xero's amount before tax {_money(xero_amount)} differs from Dynamics' "
            f"{_money(dynamics.amount)}" + _because(line_notes)
        ]
    return [f"The lines differ: {'; '.join(line_notes)}"] if line_notes else []


def _because(notes: Sequence[str]) -> str:
    return f": {'; '.join(notes)}" if notes else ""


def tax_changes(
    dynamics_tax: Sequence[Decimal | None], xero_lines: Sequence[xero.LineItem]
) -> list[str]:
    """Lines whose tax in Dynamics differs from the tax Xero calculated (which the connector
    writes back), naming both amounts, so the user sees why Dynamics' total changed."""
    notes = []
    for number, (before, line) in enumerate(zip(dynamics_tax, xero_lines, strict=False), start=1):
        after = line.tax_amount if line.tax_amount is not None else ZERO
        if before is not None and abs(before - after) > TOLERANCE:
            notes.append(
                f"Line {number}'s tax was {_money(before)} in Dynamics; Xero calculated "
                f"{_money(after)}, now written to the Dynamics line"
            )
    return notes
