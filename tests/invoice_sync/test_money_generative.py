"""Random invoices through both sandboxes and the connector: existing, write-in and note lines,
fractional quantities, four-decimal prices, line and invoice discounts, freight, currencies,
taxed and untaxed lines, account and contact customers, New Zealand and US time zones. Each
ends the same in Xero and in Dynamics after write-back, or Failed with a message; amounts are
judged by an oracle computed from the raw fields (tests/support/money_oracle.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dxc_shared.dynamics.schema import (
    CONNECTOR,
    INVOICE_CONNECTOR,
    ExportStatus,
    LineAmountTypes,
    SyncOutcome,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.invoice_sync.conftest import World
from tests.support.money_oracle import RawInvoice, raw_invoices

EXAMPLES_PER_ZONE = 60  # two zones: 120 invoices, tax exclusive
EXAMPLES_PER_OTHER_MODE = 20  # and 40 more, tax inclusive and untaxed
CUSTOMERS = [
    ("account", "Fabrikam Ltd"),
    ("account", "Alpine Ski House"),
    ("contact", None),  # the first seeded contact
]
JSON = dict[str, Any]


def _generate(count: int) -> list[tuple[RawInvoice, int]]:
    drawn: list[tuple[RawInvoice, int]] = []

    @settings(
        max_examples=count,
        derandomize=os.environ.get("CI") == "true",
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(raw_invoices(), st.integers(0, len(CUSTOMERS) - 1))
    def collect(invoice: RawInvoice, customer: int) -> None:
        drawn.append((invoice, customer))

    collect()
    return drawn[:count]


async def _seed(world: World, drawn: list[tuple[RawInvoice, int]], delivered: str) -> list[str]:
    """All the invoices in one hand-over: created with their lines and the connector set."""
    currencies = await world.ids_of(
        "transactioncurrencies", "transactioncurrencyid", "isocurrencycode"
    )
    for code in {invoice.currency for invoice, _ in drawn} - currencies.keys():
        currencies[code] = world.seed(
            "transactioncurrency",
            [
                {
                    "currencyname": code,
                    "isocurrencycode": code,
                    "exchangerate": 1.0,
                    "currencyprecision": 2,
                }
            ],
        )[0]
    accounts = await world.ids_of("accounts", "accountid", "name")
    contacts = list((await world.ids_of("contacts", "contactid", "fullname")).values())
    products = list((await world.ids_of("products", "productid", "productnumber")).values())
    price_list = (await world.ids_of("pricelevels", "pricelevelid", "name"))["Retail NZD"]
    untaxed = await world.xero_reference_row("dxc_xerotaxrates", taxtype="NONE")
    payloads = []
    for number, (invoice, customer) in enumerate(drawn):
        kind, name = CUSTOMERS[customer]
        customer_ref = (
            f"/accounts({accounts[name]})"
            if kind == "account" and name
            else f"/contacts({contacts[0]})"
        )
        lines = []
        for index, line in enumerate(invoice.lines):
            detail: JSON = {
                "quantity": str(line.quantity),
                "priceperunit": str(line.price),
                "manualdiscountamount": str(line.manual_discount),
                "tax": str(line.tax),
                "transactioncurrencyid@odata.bind": (
                    f"/transactioncurrencies({currencies[invoice.currency]})"
                ),
            }
            if line.kind == "existing":
                detail["productid@odata.bind"] = f"/products({products[index % len(products)]})"
                detail["isproductoverridden"] = False
                detail["ispriceoverridden"] = True
                detail["volumediscountamount"] = str(line.volume_discount)
            else:
                detail["isproductoverridden"] = True
                detail["productdescription"] = (
                    "Note" if line.kind == "note" else f"Write-in {index}"
                )
            if not line.taxed:
                detail["dxc_TaxRateId@odata.bind"] = f"/dxc_xerotaxrates({untaxed})"
            lines.append(detail)
        payloads.append(
            {
                "invoicenumber": f"G-{number:04d}",
                "name": f"Generated {number}",
                "datedelivered": delivered,
                "discountpercentage": str(invoice.discount_percentage),
                "discountamount": str(invoice.discount_amount),
                "freightamount": str(invoice.freight),
                "transactioncurrencyid@odata.bind": (
                    f"/transactioncurrencies({currencies[invoice.currency]})"
                ),
                f"customerid_{kind}@odata.bind": customer_ref,
                "pricelevelid@odata.bind": f"/pricelevels({price_list})",
                **INVOICE_CONNECTOR.bind(CONNECTOR.entity_set, world.connector_id),
                "invoice_details": lines,
            }
        )
    return world.seed("invoice", payloads)


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("time_zone", "amounts", "examples"),
    [
        ("Pacific/Auckland", LineAmountTypes.EXCLUSIVE, EXAMPLES_PER_ZONE),
        ("America/New_York", LineAmountTypes.EXCLUSIVE, EXAMPLES_PER_ZONE),
        ("Pacific/Auckland", LineAmountTypes.INCLUSIVE, EXAMPLES_PER_OTHER_MODE),
        ("America/New_York", LineAmountTypes.NO_TAX, EXAMPLES_PER_OTHER_MODE),
    ],
    ids=["NZ exclusive", "US exclusive", "NZ inclusive", "US no tax"],
)
async def test_random_invoices_end_equal_or_failed_with_a_message(
    world_factory: Any, time_zone: str, amounts: LineAmountTypes, examples: int
) -> None:
    world: World = await world_factory(time_zone=time_zone)
    await world.settings(defaultinvoicestatus=100000002, lineamounttypes=amounts.value)
    drawn = _generate(examples)
    yesterday = (datetime.now(UTC).astimezone(ZoneInfo(time_zone)) - timedelta(days=1)).date()
    invoice_ids = await _seed(world, drawn, yesterday.isoformat())

    for _ in range(5):  # a run takes the ready invoices in pages
        run = await world.sync(within=120)
        if run.succeeded + run.failed == 0:
            break

    xero_by_reference = {i.reference: i for i in world.xero_invoices()}
    exported = 0
    for invoice_id, (raw, _) in zip(invoice_ids, drawn, strict=True):
        row = await world.invoice(invoice_id)
        number = row["invoicenumber"]
        status = row["dxc_exportstatus"]
        if status == ExportStatus.FAILED:
            history = await world.history(invoice_id)
            failed = [h for h in history if h["dxc_outcome"] == SyncOutcome.FAILED]
            assert failed, (number, history)
            assert failed[-1]["dxc_message"], (number, history)
            continue
        assert status == ExportStatus.YES, (number, row)
        exported += 1
        xero = xero_by_reference[number]
        lines = await world.dataverse.query(
            "invoicedetails",
            select=["tax", "lineitemnumber"],
            filter=f"_invoiceid_value eq {invoice_id}",
            orderby="lineitemnumber asc",
        )
        line_taxes = [_money(line["tax"] or 0) for line in lines]
        dynamics = (
            await world.dataverse.query(
                "invoices",
                select=["totaltax", "totalamount", "totalamountlessfreight"],
                filter=f"invoiceid eq {invoice_id}",
            )
        )[0]
        # Dynamics' own totals, after the tax written back, are the oracle's and Xero's.
        assert _money(dynamics["totalamount"]) == raw.total(line_taxes), number
        assert _money(dynamics["totalamount"]) == xero.total, number
        assert xero.date == yesterday, number
        xero_taxes = [line.tax_amount for line in xero.line_items][: len(line_taxes)]
        if amounts == LineAmountTypes.INCLUSIVE:
            # The Dynamics amounts hold Xero's tax: none is added on the Dynamics lines.
            assert xero.total == raw.pre_tax, number
            assert line_taxes == [0] * len(line_taxes), number
            continue
        assert _money(dynamics["totaltax"]) == xero.total_tax, number
        assert xero.sub_total == raw.pre_tax, number
        assert xero_taxes == line_taxes, number
        if amounts == LineAmountTypes.NO_TAX:
            assert xero.total_tax == 0, number
    assert exported >= len(drawn) * 0.9, f"only {exported} of {len(drawn)} exported"
