"""Random invoices priced by the sandbox equal an independent oracle's totals."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.money_oracle import RawInvoice, raw_invoices

from .conftest import Sandbox

EXAMPLES = 150


def _payload(invoice: RawInvoice, account: str, currency: str) -> dict[str, Any]:
    return {
        "name": "Generated",
        "customerid_account@odata.bind": f"/accounts({account})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency})",
        "discountpercentage": str(invoice.discount_percentage),
        "discountamount": str(invoice.discount_amount),
        "freightamount": str(invoice.freight),
        "invoice_details": [
            {
                "isproductoverridden": True,
                "productdescription": line.kind,
                "quantity": str(line.quantity),
                "priceperunit": str(line.price),
                "manualdiscountamount": str(line.manual_discount),
                "volumediscountamount": str(line.volume_discount),
                "tax": str(line.tax),
            }
            for line in invoice.lines
        ],
    }


def test_sandbox_totals_equal_the_oracle(sandbox: Sandbox) -> None:
    headers = sandbox.headers()
    api = sandbox.api()
    account = sandbox.http.get(f"{api}/accounts?$top=1", headers=headers).json()["value"][0]
    currencies = {
        row["isocurrencycode"]: row["transactioncurrencyid"]
        for row in sandbox.http.get(f"{api}/transactioncurrencies", headers=headers).json()["value"]
    }
    generated: list[RawInvoice] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=os.environ.get("CI") == "true",
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        generated.append(data.draw(raw_invoices()))

    collect()
    # One hand-over for all of them: the sandbox prices each on insert.
    response = sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/orgs/demo/records/invoice",
        json=[_payload(i, account["accountid"], currencies[i.currency]) for i in generated],
    )
    assert response.status_code == 201, response.text
    for invoice_id, invoice in zip(response.json()["ids"], generated, strict=True):
        row = sandbox.http.get(f"{api}/invoices({uuid.UUID(invoice_id)})", headers=headers).json()
        assert Decimal(str(row["totallineitemamount"])) == invoice.detail
        assert Decimal(str(row["totaldiscountamount"])) == invoice.discount
        assert Decimal(str(row["totalamountlessfreight"])) == invoice.detail - invoice.discount
        assert Decimal(str(row["totalamount"])) == invoice.total(), invoice
