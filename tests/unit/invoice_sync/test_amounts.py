"""The export's money invariant: Dynamics amounts against a Xero invoice, before sending and
after, and the rule that spreads an invoice discount over the lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dxc_shared.xero import documents as xero
from invoice_sync.invoices.amounts import (
    DynamicsAmounts,
    DynamicsLine,
    reconcile,
    spread,
    tax_changes,
)

pytestmark = pytest.mark.unit
D = Decimal


def _line(quantity: str, unit: str, **fields: str) -> xero.LineItem:
    return xero.LineItem(
        quantity=D(quantity), unit_amount=D(unit), **{k: D(v) for k, v in fields.items()}
    )


def _returned(amount: str, tax: str) -> xero.LineItem:
    return xero.LineItem(line_amount=D(amount), tax_amount=D(tax))


def _dynamics(*lines: tuple[str, str], discount: str = "0", freight: str = "0") -> DynamicsAmounts:
    return DynamicsAmounts(
        lines=[DynamicsLine(D(amount), D(manual)) for amount, manual in lines],
        invoice_discount=D(discount),
        freight=D(freight),
    )


BEFORE_SENDING = [
    ("equal", _dynamics(("200.00", "0")), [_line("2", "100")], []),
    (
        "a four-decimal price sent with four decimals",
        _dynamics(("23192.32", "0")),
        [_line("11", "2108.3923")],
        [],
    ),
    (
        "a four-decimal price sent rounded to two",
        _dynamics(("23192.32", "0")),
        [_line("11", "2108.39")],
        [
            "Xero's amount before tax 23,192.29 differs from Dynamics' 23,192.32: line 1 is "
            "23,192.29 in Xero and 23,192.32 in Dynamics"
        ],
    ),
    (
        "a line discount sent as DiscountAmount",
        _dynamics(("100.00", "0"), ("345.00", "55.00")),
        [_line("1", "100"), _line("4", "100", discount_amount="55")],
        [],
    ),
    (
        "a dropped line discount",
        _dynamics(("100.00", "0"), ("345.00", "55.00")),
        [_line("1", "100"), _line("4", "100")],
        [
            "Xero's amount before tax 500.00 differs from Dynamics' 445.00: the discount on "
            "line 2 is missing"
        ],
    ),
    (
        "an invoice discount spread over the lines, residue on the largest",
        _dynamics(("100.00", "0"), ("200.00", "0"), discount="20.00"),
        [_line("1", "100", discount_amount="6.67"), _line("1", "200", discount_amount="13.33")],
        [],
    ),
    (
        "a dropped invoice discount",
        _dynamics(("100.00", "0"), ("200.00", "0"), discount="20.00"),
        [_line("1", "100"), _line("1", "200")],
        [
            "Xero's amount before tax 300.00 differs from Dynamics' 280.00: the invoice "
            "discount's share of line 1 (6.67) is missing; the invoice discount's share of "
            "line 2 (13.33) is missing"
        ],
    ),
    (
        "freight as a line after the invoice's lines",
        _dynamics(("210.00", "0"), discount="0", freight="25.00"),
        [_line("1", "210"), _line("1", "25")],
        [],
    ),
    (
        "dropped freight",
        _dynamics(("210.00", "0"), freight="25.00"),
        [_line("1", "210")],
        [
            "Xero's amount before tax 210.00 differs from Dynamics' 235.00: the freight of 25.00 "
            "is missing"
        ],
    ),
    (
        "a discount moved from one line to another keeps the total",
        _dynamics(("90.00", "10.00"), ("100.00", "0")),
        [_line("1", "100"), _line("1", "100", discount_amount="10")],
        [
            "The lines differ: the discount on line 1 is missing; line 2 is 90.00 in Xero and "
            "100.00 in Dynamics"
        ],
    ),
    (
        "a line Dynamics does not have",
        _dynamics(("10.00", "0")),
        [_line("1", "10"), _line("1", "5")],
        [
            "Xero's amount before tax 15.00 differs from Dynamics' 10.00: Xero has a line 2 of "
            "5.00 that Dynamics does not"
        ],
    ),
    (
        "a missing line",
        _dynamics(("10.00", "0"), ("5.00", "0")),
        [_line("1", "10")],
        ["Xero's amount before tax 10.00 differs from Dynamics' 15.00: line 2 is missing in Xero"],
    ),
    (
        "a cent of rounding a line is within tolerance",
        _dynamics(("33.34", "0")),
        [_line("3", "11.11")],
        [],
    ),
    (
        "a note line carries no amount",
        _dynamics(("0", "0"), ("50.00", "0")),
        [xero.LineItem(description="Delivered Tuesday"), _line("1", "50")],
        [],
    ),
    (
        "a discount on an invoice without amounts",
        _dynamics(("0", "0"), discount="5.00"),
        [xero.LineItem(description="note")],
        ["The invoice discount of 5.00 has no line amount to be taken from"],
    ),
]


@pytest.mark.parametrize(
    ("dynamics", "lines", "expected"),
    [case[1:] for case in BEFORE_SENDING],
    ids=[case[0] for case in BEFORE_SENDING],
)
def test_before_sending(
    dynamics: DynamicsAmounts, lines: list[xero.LineItem], expected: list[str]
) -> None:
    invoice = xero.Invoice(line_items=lines, line_amount_types=xero.LineAmountTypes.EXCLUSIVE)
    assert reconcile(dynamics, invoice) == expected


AFTER_EXPORT = [
    (
        "tax written back makes both totals equal",
        _dynamics(("100.00", "0"), ("245.00", "55.00")),
        xero.LineAmountTypes.EXCLUSIVE,
        [_returned("100.00", "15.00"), _returned("245.00", "36.75")],
        ("51.75", "396.75"),
        ["15.00", "36.75"],
        [],
    ),
    (
        "Xero computed the line without its discount",
        _dynamics(("100.00", "0"), ("245.00", "55.00")),
        xero.LineAmountTypes.EXCLUSIVE,
        [_returned("100.00", "15.00"), _returned("300.00", "45.00")],
        ("60.00", "460.00"),
        ["15.00", "45.00"],
        ["Xero's total 460.00 differs from Dynamics' 405.00: the discount on line 2 is missing"],
    ),
    (
        "taxed freight has no Dynamics line to hold its tax",
        _dynamics(("100.00", "0"), freight="25.00"),
        xero.LineAmountTypes.EXCLUSIVE,
        [_returned("100.00", "15.00"), _returned("25.00", "3.75")],
        ("18.75", "143.75"),
        ["15.00"],
        [
            "Xero's total 143.75 differs from Dynamics' 140.00: Xero's tax 18.75 differs from "
            "Dynamics' 15.00 (3.75 of it is on a line Dynamics has no line for, such as freight)"
        ],
    ),
    (
        "untaxed freight",
        _dynamics(("100.00", "0"), freight="25.00"),
        xero.LineAmountTypes.EXCLUSIVE,
        [_returned("100.00", "15.00"), _returned("25.00", "0")],
        ("15.00", "140.00"),
        ["15.00"],
        [],
    ),
    (
        "inclusive amounts already hold the tax",
        _dynamics(("115.00", "0")),
        xero.LineAmountTypes.INCLUSIVE,
        [_returned("115.00", "15.00")],
        ("15.00", "115.00"),
        ["0"],
        [],
    ),
    (
        "no tax",
        _dynamics(("5310.00", "0")),
        xero.LineAmountTypes.NO_TAX,
        [_returned("5310.00", "0")],
        ("0", "5310.00"),
        ["0"],
        [],
    ),
]


@pytest.mark.parametrize(
    ("dynamics", "amount_types", "lines", "totals", "written", "expected"),
    [case[1:] for case in AFTER_EXPORT],
    ids=[case[0] for case in AFTER_EXPORT],
)
def test_after_export(
    dynamics: DynamicsAmounts,
    amount_types: xero.LineAmountTypes,
    lines: list[xero.LineItem],
    totals: tuple[str, str],
    written: list[str],
    expected: list[str],
) -> None:
    invoice = xero.Invoice(
        line_items=lines, line_amount_types=amount_types, total_tax=D(totals[0]), total=D(totals[1])
    )
    assert reconcile(dynamics, invoice, written_tax=[D(t) for t in written]) == expected


@pytest.mark.parametrize(
    ("discount", "amounts", "shares"),
    [
        ("0", ["10", "20"], ["0", "0"]),
        ("20.00", ["100.00", "200.00"], ["6.67", "13.33"]),
        ("1.00", ["1.00", "1.00", "1.00"], ["0.34", "0.33", "0.33"]),
        ("10.00", ["0", "3.00", "7.00"], ["0.00", "3.00", "7.00"]),
        ("0.05", ["33.33", "33.33", "33.34"], ["0.02", "0.02", "0.01"]),
        ("5.00", ["100.00", "-20.00"], ["6.25", "-1.25"]),
    ],
)
def test_spread_adds_up_to_the_discount(
    discount: str, amounts: list[str], shares: list[str]
) -> None:
    result = spread(D(discount), [D(a) for a in amounts])
    assert result == [D(s) for s in shares]
    assert result is not None
    assert sum(result) == D(discount)


def test_spread_without_amounts() -> None:
    assert spread(D("5"), [D(0), D(0)]) is None


def test_tax_changes_name_both_amounts() -> None:
    lines = [_returned("100.00", "15.00"), _returned("50.00", "7.50")]
    assert tax_changes([D("15.00"), D("0")], lines) == [
        "Line 2's tax was 0.00 in Dynamics; Xero calculated 7.50, now written to the Dynamics line"
    ]
    assert tax_changes([None, None], lines) == []
