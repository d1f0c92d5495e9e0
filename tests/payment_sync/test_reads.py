"""payment-sync reads from Xero only what changed: a page of up to 1,000 invoices changed since
the cursor (If-Modified-Since), then by id, 50 a request, only the notified invoices that read
did not return; counted in the Xero sandbox's call log."""

from __future__ import annotations

from typing import Any

from dxc_shared.messages import XeroChangesNotified

from tests.payment_sync.conftest import Connection


def invoice_reads(connection: Connection) -> list[dict[str, Any]]:
    calls = connection.xero.admin(
        "GET", "calls", params={"tenant_id": connection.tenant_id, "path_contains": "/Invoices"}
    ).json()
    return [call for call in calls if call["method"] == "GET"]


def kind(read: dict[str, Any]) -> str:
    if "IDs=" in read["query"]:
        return "ids"
    if "pageSize=1000" in read["query"]:
        return "changed since" if read["if_modified_since"] else "all"
    return "other"


async def test_polling_and_webhooks_read_only_what_changed(connection: Connection) -> None:
    contact = connection.xero_contact("Litware")
    line = {"Description": "Licence", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact},
        "Status": "AUTHORISED",
        "Date": "2025-02-01",
        "DueDate": "2025-03-31",
    }
    invoices = connection.xero_admin(
        "invoices", "Invoices", [{**body, "LineItems": [line]} for _ in range(150)]
    )
    account = await connection.dynamics_account("Litware", contact)
    for invoice in invoices[:55]:
        await connection.exported_invoice(account, invoice)

    # The first poll reads every invoice: 150, one request.
    first = await connection.poll()
    assert first.error is None
    assert [kind(read) for read in invoice_reads(connection)] == ["all"]

    # A payment later: the next poll asks only for what changed since.
    connection.xero_payment(invoices[0]["InvoiceID"], 4)
    second = await connection.poll()
    assert (second.error, second.failed) == (None, 0)
    assert [kind(read) for read in invoice_reads(connection)] == ["all", "changed since"]

    # Xero names 55 invoices that have not changed since (a late delivery): the read of what
    # changed does not return them, so they are read by id, 50 a request.
    runs = len(connection.bus.runs_of(connection.connection_id, "payments"))
    await connection.bus.publish(
        XeroChangesNotified(
            connection_id=connection.connection_id,
            tenant_id=connection.tenant_id,
            invoice_ids=[invoice["InvoiceID"] for invoice in invoices[:55]],
        )
    )
    run = await connection.bus.next_run(connection.connection_id, "payments", after=runs)
    assert (run.error, run.failed) == (None, 0)
    assert [kind(read) for read in invoice_reads(connection)] == [
        "all",
        "changed since",
        "changed since",
        "ids",
        "ids",
    ]
