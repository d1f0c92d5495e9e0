"""Invoice pricing as Dynamics 365 Sales computes it, and date columns by DateTimeBehavior."""

from __future__ import annotations

from typing import Any

from .conftest import Sandbox

Dv = tuple[Sandbox, dict[str, str]]


def _invoice(sandbox: Sandbox, headers: dict[str, str], org: str = "demo", **columns: Any) -> str:
    account = sandbox.http.get(f"{sandbox.api(org)}/accounts?$top=1", headers=headers).json()[
        "value"
    ][0]
    response = sandbox.http.post(
        f"{sandbox.api(org)}/invoices",
        json={
            "name": "Priced",
            "customerid_account@odata.bind": f"/accounts({account['accountid']})",
            **columns,
        },
        headers=headers,
    )
    assert response.status_code == 204, response.text
    return response.headers["OData-EntityId"]


def _line(sandbox: Sandbox, headers: dict[str, str], invoice: str, **columns: Any) -> str:
    invoice_id = invoice.rsplit("(", 1)[1].rstrip(")")
    response = sandbox.http.post(
        f"{sandbox.api()}/invoicedetails",
        json={
            "invoiceid@odata.bind": f"/invoices({invoice_id})",
            "isproductoverridden": True,
            "productdescription": "Write-in",
            **columns,
        },
        headers=headers,
    )
    assert response.status_code == 204, response.text
    return response.headers["OData-EntityId"]


def test_line_amounts_discounts_and_rounding(dv: Dv) -> None:
    sandbox, headers = dv
    invoice = _invoice(sandbox, headers)
    line = _line(
        sandbox,
        headers,
        invoice,
        quantity=11,
        priceperunit=2108.3923,
        volumediscountamount=0.5,
        manualdiscountamount=10.005,
        tax=3.3333,
    )
    row = sandbox.http.get(line, headers=headers).json()
    assert row["priceperunit"] == 2108.3923  # the pricing precision keeps four decimals
    assert row["baseamount"] == 23186.82  # (2108.3923 - 0.50) x 11 = 23186.8153
    assert row["manualdiscountamount"] == 10.01  # rounded half away from zero
    assert row["tax"] == 3.33
    assert row["extendedamount"] == 23180.14  # 23186.82 - 10.01 + 3.33


def test_invoice_discount_percentage_amount_and_freight(dv: Dv) -> None:
    sandbox, headers = dv
    invoice = _invoice(sandbox, headers, discountpercentage=10, discountamount=20, freightamount=25)
    _line(sandbox, headers, invoice, quantity=3, priceperunit=19.99, manualdiscountamount=5)
    _line(sandbox, headers, invoice, quantity=1, priceperunit=100, tax=15)
    row = sandbox.http.get(invoice, headers=headers).json()
    assert row["totallineitemamount"] == 154.97  # 59.97 - 5 + 100
    assert row["totallineitemdiscountamount"] == 5
    assert row["totaldiscountamount"] == 35.50  # 15.497 -> 15.50, plus 20
    assert row["totalamountlessfreight"] == 119.47
    assert row["totaltax"] == 15
    assert row["totalamount"] == 159.47  # 119.47 + 25 + 15
    # Changing the invoice's own discount or freight recalculates its totals too.
    assert sandbox.http.patch(invoice, json={"freightamount": 0.005}, headers=headers).is_success
    row = sandbox.http.get(invoice, headers=headers).json()
    assert row["freightamount"] == 0.01
    assert row["totalamount"] == 134.48


def test_currency_precision_rounds_money(dv: Dv) -> None:
    sandbox, headers = dv
    currency = sandbox.http.post(
        f"{sandbox.api()}/transactioncurrencies",
        json={
            "currencyname": "Yen",
            "isocurrencycode": "JPY",
            "exchangerate": 90,
            "currencyprecision": 0,
        },
        headers=headers,
    ).headers["OData-EntityId"]
    currency_id = currency.rsplit("(", 1)[1].rstrip(")")
    invoice = _invoice(
        sandbox,
        headers,
        **{"transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency_id})"},
    )
    _line(sandbox, headers, invoice, quantity=3, priceperunit=33.5)
    row = sandbox.http.get(invoice, headers=headers).json()
    assert row["totallineitemamount"] == 101  # 100.5 rounded to whole yen


def test_date_only_user_local_columns_come_back_as_utc_moments(sandbox: Sandbox) -> None:
    sandbox.add_user("kiri@contoso-demo.example", ["demo"], time_zone="Pacific/Auckland")
    headers = sandbox.headers(user="kiri@contoso-demo.example")
    invoice = _invoice(sandbox, headers, datedelivered="2026-11-30", duedate="2026-12-30")
    row = sandbox.http.get(invoice, headers=headers).json()
    # Midnight in Auckland (UTC+13 in summer) is the previous day in UTC.
    assert row["datedelivered"] == "2026-11-29T11:00:00Z"
    assert row["duedate"] == "2026-12-29T11:00:00Z"
    # A moment written with its offset is stored as that moment.
    sandbox.http.patch(invoice, json={"datedelivered": "2026-12-01T12:00:00Z"}, headers=headers)
    assert sandbox.http.get(invoice, headers=headers).json()["datedelivered"] == (
        "2026-12-01T12:00:00Z"
    )
    metadata = sandbox.http.get(
        f"{sandbox.api()}/EntityDefinitions(LogicalName='invoice')/Attributes(LogicalName='datedelivered')",
        headers=headers,
    ).json()
    assert metadata["Format"] == "DateOnly"
    assert metadata["DateTimeBehavior"] == {"Value": "UserLocal"}


def test_users_without_a_zone_follow_the_organisation(sandbox: Sandbox) -> None:
    created = sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/orgs",
        json={"unique_name": "newyork", "time_zone": "America/New_York", "seed": "demo"},
    )
    assert created.status_code == 201, created.text
    sandbox.add_user("sam@contoso-demo.example", ["newyork"])
    headers = sandbox.headers("newyork", user="sam@contoso-demo.example")
    invoice = _invoice(sandbox, headers, "newyork", datedelivered="2026-11-30")
    assert sandbox.http.get(invoice, headers=headers).json()["datedelivered"] == (
        "2026-11-30T05:00:00Z"
    )
    unknown = sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/orgs", json={"unique_name": "x", "time_zone": "Mars/Base"}
    )
    assert unknown.status_code == 422
