"""The "Xero Connector User" security role of the connector's solution: a Dynamics user holding
only that role can do everything an export needs (read invoices, customers, products; write
invoices and customers; create sync history pointing at invoices) and nothing else."""

from __future__ import annotations

import asyncio

import pytest
from dxc_shared.clients.dataverse import DataverseError
from dxc_shared.dynamics import solution
from dxc_shared.dynamics.installer import install, missing_privileges
from dxc_shared.dynamics.schema import CONNECTOR, ExportStatus, SyncOutcome

from tests.invoice_sync.conftest import World, WorldFactory

PRIVILEGE_DENIED = "0x80040220"


async def test_a_user_with_only_the_role_exports_and_may_do_nothing_more(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    ids = await world.invoice_ids()
    # Handed over by a sales user before the connector's user is limited to the role.
    await world.hand_over(ids["INV-1001"], ids["INV-1002"], ids["INV-1008"])
    await asyncio.to_thread(
        world.dynamics.admin,
        "PUT",
        f"orgs/{world.org}/roles/{world.dynamics.settings.demo_user}",
        json={"roles": [solution.ROLE_NAME]},
    )

    assert await missing_privileges(world.dataverse) == []
    run = await world.sync()

    assert run.error is None, run.error
    assert run.missing_privileges == []
    assert (run.succeeded, run.failed) == (3, 0), run.failures
    first = await world.invoice(ids["INV-1001"])
    assert first["dxc_exportstatus"] == ExportStatus.YES
    assert [r["dxc_outcome"] for r in await world.history(ids["INV-1001"])] == [SyncOutcome.SUCCESS]
    # Nothing it does not need: no deletes, no new standard rows, no customising.
    refused = [
        world.dataverse.request(
            "DELETE", f"invoices({ids['INV-1002']})", operation="delete_invoice"
        ),
        world.dataverse.create("accounts", {"name": "Not allowed Ltd"}),
        world.dataverse.request(
            "DELETE", f"{CONNECTOR.entity_set}({world.connector_id})", operation="delete_row"
        ),
        install(world.dataverse, solution.Package("9.0.0.0", solution.build().content)),
    ]
    for attempt in refused:
        with pytest.raises(DataverseError) as denied:
            await attempt
        assert denied.value.code == PRIVILEGE_DENIED
