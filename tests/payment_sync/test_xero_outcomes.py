"""Dynamics follows Xero after every change (issue 16): fully credited, voided, a draft deleted,
part paid; after a cancellation in Dynamics too. Each through a payments job, against both
sandboxes."""

from __future__ import annotations

from dxc_shared.dynamics import schema
from dxc_shared.dynamics.schema import PaymentState, SyncOutcome

from tests.payment_sync.conftest import Connection

ACTIVE, PAID, CANCELED = (0, 1), (2, 100001), (3, 100003)  # statecode, statuscode


async def invoice_row(connection: Connection, invoice_id: str) -> dict[str, object]:
    row = await connection.dynamics_row(schema.INVOICE.entity_set, invoice_id)
    return {
        "state": (row["statecode"], row["statuscode"]),
        "xero_status": row["dxc_xerostatus"],
        "due": row["dxc_amountdue"],
        "paid": row["dxc_amountpaid"],
        "credited": row["dxc_amountcredited"],
        "payment": row["dxc_paymentstate"],
    }


async def test_a_fully_credited_invoice_is_paid_with_nothing_due(connection: Connection) -> None:
    contact = connection.xero_contact("Adventure Works")
    invoice = connection.xero_invoice(contact, 84)  # 96.60 with GST
    account = await connection.dynamics_account("Adventure Works", contact)
    exported = await connection.exported_invoice(account, invoice)
    await connection.poll()

    connection.xero_credit(invoice["InvoiceID"], contact, 96.60)
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0), run
    assert await invoice_row(connection, exported) == {
        "state": PAID,
        "xero_status": "PAID",
        "due": 0.0,
        "paid": 0.0,
        "credited": 96.6,
        "payment": PaymentState.PAID,
    }


async def test_credited_after_a_cancellation_in_dynamics_shows_paid_and_stays_canceled(
    connection: Connection,
) -> None:
    """What invoice-sync's cancellation does to an AUTHORISED invoice: the user cancels it in
    Dynamics, a credit note for the full amount is allocated to it in Xero."""
    contact = connection.xero_contact("Blue Yonder Airlines")
    invoice = connection.xero_invoice(contact, 84)
    account = await connection.dynamics_account("Blue Yonder Airlines", contact)
    exported = await connection.exported_invoice(account, invoice)
    await connection.poll()
    await connection.cancel_in_dynamics(exported)

    connection.xero_credit(invoice["InvoiceID"], contact, 96.60)
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0), run
    assert await invoice_row(connection, exported) == {
        "state": CANCELED,
        "xero_status": "PAID",
        "due": 0.0,
        "paid": 0.0,
        "credited": 96.6,
        "payment": PaymentState.PAID,
    }


async def test_a_voided_invoice_is_canceled_with_nothing_due_and_said_in_history(
    connection: Connection,
) -> None:
    contact = connection.xero_contact("Coho Winery")
    invoice = connection.xero_invoice(contact, 350)  # 402.50 with GST
    account = await connection.dynamics_account("Coho Winery", contact)
    exported = await connection.exported_invoice(account, invoice)
    await connection.poll()

    connection.xero_status(invoice["InvoiceID"], "VOIDED")
    run = await connection.poll()
    again = await connection.poll()

    assert (run.error, run.failed) == (None, 0), run
    assert await invoice_row(connection, exported) == {
        "state": CANCELED,
        "xero_status": "VOIDED",
        "due": 0.0,
        "paid": 0.0,
        "credited": 0.0,
        "payment": PaymentState.VOIDED_OR_DELETED,
    }
    assert (again.succeeded, again.failed) == (0, 0), "nothing written, nor said, twice"
    [history] = await connection.history_of(exported)
    assert history["dxc_outcome"] == SyncOutcome.INFORMATION
    assert history["_dxc_connectorid_value"] == connection.connector_id
    assert history["dxc_message"] == (
        f"Xero invoice {invoice['InvoiceNumber']} was voided in Xero, so this invoice is now "
        "Canceled in Dynamics 365 with nothing due."
    )


async def test_a_draft_deleted_in_xero_shows_deleted(connection: Connection) -> None:
    contact = connection.xero_contact("Lucerne Publishing")
    draft = connection.xero_invoice(contact, 50, status="DRAFT")
    account = await connection.dynamics_account("Lucerne Publishing", contact)
    exported = await connection.exported_invoice(account, draft)
    await connection.poll()

    connection.xero_status(draft["InvoiceID"], "DELETED")
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0), run
    row = await invoice_row(connection, exported)
    assert (row["state"], row["xero_status"], row["due"], row["payment"]) == (
        CANCELED,
        "DELETED",
        0.0,
        PaymentState.VOIDED_OR_DELETED,
    )
    [history] = await connection.history_of(exported)
    assert "was deleted in Xero" in history["dxc_message"]


async def test_a_draft_deleted_after_a_cancellation_in_dynamics_shows_deleted(
    connection: Connection,
) -> None:
    """What invoice-sync's cancellation does to a draft: deletes it in Xero."""
    contact = connection.xero_contact("Margie's Travel")
    draft = connection.xero_invoice(contact, 50, status="DRAFT")
    account = await connection.dynamics_account("Margie's Travel", contact)
    exported = await connection.exported_invoice(account, draft)
    await connection.poll()
    await connection.cancel_in_dynamics(exported)

    connection.xero_status(draft["InvoiceID"], "DELETED")
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0), run
    row = await invoice_row(connection, exported)
    assert (row["state"], row["xero_status"], row["due"]) == (CANCELED, "DELETED", 0.0)
    [history] = await connection.history_of(exported)
    assert "already Canceled in Dynamics 365" in history["dxc_message"]


async def test_a_part_paid_invoice_shows_part_paid_and_the_amount_paid(
    connection: Connection,
) -> None:
    contact = connection.xero_contact("Wide World Importers")
    invoice = connection.xero_invoice(contact, 200)  # 230.00 with GST
    account = await connection.dynamics_account("Wide World Importers", contact)
    exported = await connection.exported_invoice(account, invoice)
    await connection.poll()
    assert (await invoice_row(connection, exported))["payment"] == PaymentState.NOT_PAID

    connection.xero_payment(invoice["InvoiceID"], 30)
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0), run
    assert await invoice_row(connection, exported) == {
        "state": ACTIVE,
        "xero_status": "AUTHORISED",
        "due": 200.0,
        "paid": 30.0,
        "credited": 0.0,
        "payment": PaymentState.PART_PAID,
    }
    part_paid = await connection.dataverse.query(
        schema.INVOICE.entity_set,
        select=["invoiceid"],
        filter=f"dxc_paymentstate eq {PaymentState.PART_PAID.value} "
        f"and _dxc_connectorid_value eq {connection.connector_id}",
    )
    assert [row["invoiceid"] for row in part_paid] == [exported], "a view can filter on it"


async def test_a_part_credit_shows_the_amount_credited(connection: Connection) -> None:
    contact = connection.xero_contact("Trey Research")
    invoice = connection.xero_invoice(contact, 100)  # 115.00 with GST
    account = await connection.dynamics_account("Trey Research", contact)
    exported = await connection.exported_invoice(account, invoice)
    await connection.poll()

    connection.xero_credit(invoice["InvoiceID"], contact, 46)
    run = await connection.poll()

    assert (run.error, run.failed) == (None, 0), run
    assert await invoice_row(connection, exported) == {
        "state": ACTIVE,
        "xero_status": "AUTHORISED",
        "due": 69.0,
        "paid": 0.0,
        "credited": 46.0,
        "payment": PaymentState.NOT_PAID,
    }
