"""payment-sync as a Dynamics user holding only the solution's "Xero Connector User" role:
payments, balances and reference data come back as they do for an administrator."""

from __future__ import annotations

import asyncio

from dxc_shared.dynamics import schema, solution
from dxc_shared.messages import ReferenceDataRefreshRequested

from tests.payment_sync.conftest import Connection


async def test_a_user_with_only_the_role_brings_payments_balances_and_reference_data_back(
    connection: Connection,
) -> None:
    contact = connection.xero_contact("Contoso Pharmaceuticals")
    invoice = connection.xero_invoice(contact, 100)  # 115.00 with GST
    account = await connection.dynamics_account("Contoso Pharmaceuticals", contact)
    exported = await connection.exported_invoice(account, invoice)
    # Someone removed a mirrored tax rate in Dynamics: the next refresh creates it again.
    [zero_rated] = await connection.dataverse.query(
        schema.TAX_RATES.entity_set,
        select=[schema.TAX_RATES.primary_id],
        filter="dxc_taxtype eq 'ZERORATED'",
    )
    await connection.dataverse.request(
        "DELETE",
        f"{schema.TAX_RATES.entity_set}({zero_rated[schema.TAX_RATES.primary_id]})",
        operation="delete_row",
    )
    await asyncio.to_thread(
        connection.dynamics.admin,
        "PUT",
        f"orgs/demo/roles/{connection.dynamics.settings.demo_user}",
        json={"roles": [solution.ROLE_NAME]},
    )

    connection.xero_payment(invoice["InvoiceID"], 115)
    run = await connection.poll()

    assert (run.error, run.failed, run.missing_privileges) == (None, 0, []), run
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["dxc_xerostatus"], row["dxc_amountpaid"]) == (2, "PAID", 115.0)
    customer = await connection.dynamics_row(schema.ACCOUNT.entity_set, account)
    assert customer["dxc_outstandingbalance"] == 0.0

    done = len(connection.bus.runs_of(connection.connection_id, "reference-data"))
    await connection.bus.publish(
        ReferenceDataRefreshRequested(connection_id=connection.connection_id)
    )
    refreshed = await connection.bus.next_run(
        connection.connection_id, "reference-data", after=done
    )
    assert (refreshed.error, refreshed.succeeded, refreshed.failed) == (None, 1, 0), refreshed
    again = await connection.dataverse.query(
        schema.TAX_RATES.entity_set, select=["dxc_name"], filter="dxc_taxtype eq 'ZERORATED'"
    )
    assert len(again) == 1
