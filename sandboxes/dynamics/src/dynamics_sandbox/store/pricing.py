"""Invoice pricing as Dynamics 365 Sales computes it (system-calculated pricing), money rounded
to the currency's precision. Sources are listed in the sandbox's README ("Pricing").

Line (invoicedetail):
- ``baseamount`` = (``priceperunit`` - ``volumediscountamount``) x ``quantity``; the volume
  discount is an amount per unit;
- ``extendedamount`` = ``baseamount`` - ``manualdiscountamount`` + ``tax``.

Invoice:
- ``totallineitemamount`` (Detail Amount) = Σ (``baseamount`` - ``manualdiscountamount``);
- ``totallineitemdiscountamount`` = Σ ``manualdiscountamount``;
- ``totaldiscountamount`` = ``totallineitemamount`` x ``discountpercentage`` / 100 +
  ``discountamount``;
- ``totalamountlessfreight`` (Pre-Freight Amount) = ``totallineitemamount`` -
  ``totaldiscountamount``;
- ``totaltax`` = Σ line ``tax``;
- ``totalamount`` = ``totalamountlessfreight`` + ``freightamount`` + ``totaltax``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from .values import Record

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Dataverse's default currency precision, used when a row has no currency.
DEFAULT_PRECISION = 2
# The organisation's pricing decimal precision (System Settings → Sales), which bounds unit
# prices; the sandbox's organisations use Dataverse's maximum so four-decimal prices survive.
PRICING_PRECISION = 4


def round_money(value: Decimal, precision: int) -> Decimal:
    """Midpoints away from zero, as .NET's MidpointRounding.AwayFromZero does."""
    return value.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


def _money(record: Record, column: str) -> Decimal:
    value = record.get(column)
    return value if isinstance(value, Decimal) else ZERO


def price_line(line: Record, precision: int) -> None:
    """Round the line's money inputs and compute ``baseamount`` and ``extendedamount``."""
    if isinstance(line.get("priceperunit"), Decimal):
        line["priceperunit"] = round_money(line["priceperunit"], PRICING_PRECISION)
    for column in ("manualdiscountamount", "volumediscountamount", "tax"):
        if isinstance(line.get(column), Decimal):
            line[column] = round_money(line[column], precision)
    quantity = _money(line, "quantity")
    unit = _money(line, "priceperunit") - _money(line, "volumediscountamount")
    line["baseamount"] = round_money(unit * quantity, precision)
    line["extendedamount"] = (
        line["baseamount"] - _money(line, "manualdiscountamount") + _money(line, "tax")
    )


def invoice_totals(invoice: Record, lines: Iterable[Record], precision: int) -> Record:
    """The invoice's calculated columns from its own discount and freight and its lines."""
    lines = list(lines)
    detail = sum((_money(r, "baseamount") - _money(r, "manualdiscountamount") for r in lines), ZERO)
    line_discounts = sum((_money(r, "manualdiscountamount") for r in lines), ZERO)
    tax = sum((_money(r, "tax") for r in lines), ZERO)
    percentage = _money(invoice, "discountpercentage")
    discount = round_money(detail * percentage / HUNDRED, precision) + round_money(
        _money(invoice, "discountamount"), precision
    )
    less_freight = detail - discount
    freight = round_money(_money(invoice, "freightamount"), precision)
    return {
        "totallineitemamount": detail,
        "totallineitemdiscountamount": line_discounts,
        "totaldiscountamount": discount,
        "totalamountlessfreight": less_freight,
        "totaltax": tax,
        "totalamount": less_freight + freight + tax,
    }
