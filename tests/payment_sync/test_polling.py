"""The polling path: each payments job brings what changed in Xero since the cursor back to
Dynamics, through the bus, against both sandboxes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from dxc_shared.dynamics import schema

from tests.payment_sync.conftest import Connection, sample
from tests.support.polling import eventually_async


async def test_a_payment_in_xero_marks_the_dynamics_invoice_paid(connection: Connection) -> None:
    contact = connection.xero_contact("Contoso Pharmaceuticals")
    invoice = connection.xero_invoice(contact, 100)  # 115.00 with GST
    account = await connection.dynamics_account("Contoso Pharmaceuticals", contact)
    exported = await connection.exported_invoice(account, invoice)
    paid_before = sample("dxc_payment_sync_invoices_updated_total", {"change": "paid"})

    first = await connection.poll()
    assert (first.error, first.failed) == (None, 0)
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["dxc_xerostatus"], row["dxc_amountdue"]) == (
        0,
        "AUTHORISED",
        115.0,
    )
    assert row["dxc_xerototaltax"] == 15.0
    short_code = connection.xero.state.organisations[connection.tenant_id].short_code
    assert row["dxc_xerourl"].startswith(
        f"{connection.xero.base}/organisationlogin/default.aspx?shortcode="
    )
    opened = connection.xero.http.get(row["dxc_xerourl"])
    assert opened.status_code == 200
    assert invoice["InvoiceNumber"] in opened.text
    assert short_code.lstrip("!") in row["dxc_xerourl"]

    connection.xero_payment(invoice["InvoiceID"], 115)
    second = await connection.poll()

    assert (second.error, second.failed) == (None, 0), second
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["statuscode"]) == (2, 100001)  # Paid, Complete
    assert (row["dxc_xerostatus"], row["dxc_amountdue"]) == ("PAID", 0.0)
    assert sample("dxc_payment_sync_invoices_updated_total", {"change": "paid"}) == paid_before + 1


async def test_a_part_payment_updates_the_amount_due_only(connection: Connection) -> None:
    contact = connection.xero_contact("Fabrikam Ltd")
    invoice = connection.xero_invoice(contact, 200)  # 230.00 with GST
    account = await connection.dynamics_account("Fabrikam Ltd", contact)
    exported = await connection.exported_invoice(account, invoice)
    await connection.poll()

    connection.xero_payment(invoice["InvoiceID"], 30)
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0)
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["statuscode"]) == (0, 1)  # still Active, New
    assert (row["dxc_xerostatus"], row["dxc_amountdue"]) == ("AUTHORISED", 200.0)


async def test_balances_match_the_xero_contacts(connection: Connection) -> None:
    contact = connection.xero_contact("Northwind Traders")
    overdue = connection.xero_invoice(contact, 100, due="2025-02-15")  # before the sandbox's today
    current = connection.xero_invoice(contact, 300, due="2025-04-30")
    account = await connection.dynamics_account("Northwind Traders", contact)
    for invoice in (overdue, current):
        await connection.exported_invoice(account, invoice)
    connection.xero_payment(current["InvoiceID"], 45)

    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0)
    expected = connection.xero_contact_balances(contact)
    assert (expected["Outstanding"], expected["Overdue"]) == (415.0, 115.0)
    row = await connection.dynamics_row(schema.ACCOUNT.entity_set, account)
    assert (row["dxc_outstandingbalance"], row["dxc_overduebalance"]) == (
        expected["Outstanding"],
        expected["Overdue"],
    )


async def test_a_redelivered_job_writes_nothing_twice(connection: Connection) -> None:
    contact = connection.xero_contact("Litware Inc")
    invoice = connection.xero_invoice(contact, 50)
    account = await connection.dynamics_account("Litware Inc", contact)
    exported = await connection.exported_invoice(account, invoice)
    connection.xero_payment(invoice["InvoiceID"], 57.5)

    job_id = uuid.uuid4()
    first = await connection.poll(job_id)
    batches = await asyncio.to_thread(connection.dynamics_batches)
    again = await connection.poll(job_id)  # the same job, delivered again

    assert first.succeeded == 2  # the invoice (now Paid) and the account's balances
    assert (again.succeeded, again.failed, again.error) == (0, 0, None)
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["dxc_amountdue"]) == (2, 0.0)
    assert await asyncio.to_thread(connection.dynamics_batches) == batches


async def test_xero_faults_and_limits_never_reach_the_report(connection: Connection) -> None:
    contact = connection.xero_contact("Tailspin Toys")
    invoice = connection.xero_invoice(contact, 20)
    account = await connection.dynamics_account("Tailspin Toys", contact)
    exported = await connection.exported_invoice(account, invoice)
    connection.xero_payment(invoice["InvoiceID"], 23)
    for fault in (
        # Xero is down for the first read: the job fails and the bus tries it again.
        {"kind": "error", "status": 503, "path": "*/Invoices", "count": 1},
        # Then the minute limit: the client waits Retry-After out and carries on.
        {"kind": "throttle", "retry_after": 1, "path": "*/Organisation", "count": 1},
    ):
        added = connection.xero.admin(
            "POST", "faults", json={**fault, "organisation": connection.tenant_id}
        )
        assert added.status_code == 201, added.text

    run = await connection.poll()

    assert (run.error, run.failed, run.succeeded) == (None, 0, 2)
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert row["statecode"] == 2

    def statuses(path: str) -> list[int]:
        calls = connection.xero.admin(
            "GET", "calls", params={"tenant_id": connection.tenant_id, "path_contains": path}
        ).json()
        return [call["status"] for call in calls]

    assert statuses("/Invoices") == [503, 200]
    assert statuses("/Organisation") == [429, 200]


async def test_a_balance_that_falls_overdue_without_a_change_in_xero_is_refreshed(
    connection: Connection,
) -> None:
    contact = connection.xero_contact("Proseware")
    invoice = connection.xero_invoice(contact, 100, due="2025-03-20")
    account = await connection.dynamics_account("Proseware", contact)
    await connection.exported_invoice(account, invoice)
    await connection.poll()
    row = await connection.dynamics_row(schema.ACCOUNT.entity_set, account)
    assert (row["dxc_outstandingbalance"], row["dxc_overduebalance"]) == (115.0, 0.0)

    # The due date passes: Xero's overdue amount changes, but no UpdatedDateUTC does.
    organisation = connection.xero.state.organisations[connection.tenant_id]
    organisation.invoices[invoice["InvoiceID"]].due_date = date(2025, 3, 1)
    run = await connection.poll()

    assert (run.error, run.failed, run.succeeded) == (None, 0, 1)
    row = await connection.dynamics_row(schema.ACCOUNT.entity_set, account)
    assert (row["dxc_outstandingbalance"], row["dxc_overduebalance"]) == (115.0, 115.0)


async def test_a_payment_removed_in_xero_reopens_the_paid_invoice(connection: Connection) -> None:
    contact = connection.xero_contact("Coho Winery")
    invoice = connection.xero_invoice(contact, 10)
    account = await connection.dynamics_account("Coho Winery", contact)
    exported = await connection.exported_invoice(account, invoice)
    payment = connection.xero_payment(invoice["InvoiceID"], 11.5)
    await connection.poll()
    assert (await connection.dynamics_row(schema.INVOICE.entity_set, exported))["statecode"] == 2

    connection.xero.clock.advance(5)
    connection.xero_admin(
        "payments", "Payments", [{"PaymentID": payment["PaymentID"], "Status": "DELETED"}]
    )
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0)
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["statuscode"]) == (0, 1)  # Active again
    assert (row["dxc_xerostatus"], row["dxc_amountdue"]) == ("AUTHORISED", 11.5)


async def test_a_connection_xero_no_longer_lets_in_is_reported_not_retried(
    connection: Connection,
) -> None:
    # The user disconnects the app in Xero: the grant dies, token-broker cannot refresh it.
    connection.xero.admin("POST", f"organisations/{connection.tenant_id}/revoke-grants")

    run = await connection.poll()

    # The refused token went back to token-broker, whose refresh found the grant gone.
    assert run.error == (
        "The connection to Xero needs to be authorised again: The Xero authorisation has "
        "expired or was revoked. Connect to Xero again in the portal."
    )
    assert (run.succeeded, run.failed) == (0, 0)


async def test_an_invoice_another_worker_marks_paid_meanwhile_is_not_a_failure(
    connection: Connection,
) -> None:
    contact = connection.xero_contact("Contoso Pharmaceuticals")
    invoice = connection.xero_invoice(contact, 100)
    account = await connection.dynamics_account("Contoso Pharmaceuticals", contact)
    exported = await connection.exported_invoice(account, invoice)
    connection.xero_payment(invoice["InvoiceID"], 115)
    # This job's write-back waits a moment at Dynamics; meanwhile another worker (the webhook
    # path) writes the same payment and marks the invoice Paid, which makes it read-only.
    connection.dynamics.admin(
        "POST",
        "faults",
        json={"kind": "latency", "path": "*$batch", "latency_seconds": 5.0, "count": 1},
    ).raise_for_status()
    poll = asyncio.create_task(connection.poll())

    async def write_back_held() -> bool:
        faults = await asyncio.to_thread(connection.dynamics.admin, "GET", "faults")
        # Once the write-back has taken the fault, it waits at Dynamics.
        return not [f for f in faults.json() if f["path"] == "*$batch"]

    await eventually_async(write_back_held)
    await connection.dataverse.update(
        schema.INVOICE.entity_set, exported, {"dxc_xerostatus": "PAID", "dxc_amountdue": 0}
    )
    await connection.dataverse.update(
        schema.INVOICE.entity_set, exported, {"statecode": 2, "statuscode": 100001}
    )

    report = await poll

    assert (report.error, report.failed) == (None, 0), report
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["dxc_xerostatus"]) == (2, "PAID")
