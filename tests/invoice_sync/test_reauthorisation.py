"""A lost Xero grant is written on the connector record in Dynamics, in words, whether a job
meets it or portal-api reports it (when no job will run until a person reconnects)."""

from __future__ import annotations

from dxc_shared.dynamics.schema import ConnectorStatus
from dxc_shared.messages import ConnectionChanged

from tests.invoice_sync.conftest import World, WorldFactory
from tests.support.polling import eventually_async

LOST = "The Xero authorisation has expired or was revoked. Connect to Xero again in the portal."


async def test_a_grant_revoked_in_xero_stops_the_run_and_says_so_in_dynamics(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("R-1")
    await world.hand_over(invoice_id)
    world.xero.admin("POST", f"organisations/{world.xero.tenant}/revoke-grants")

    run = await world.sync()

    # Xero refused the token before it expired: handed back to token-broker, whose refresh
    # found the grant gone (and told the portal, as its own tests show).
    assert run.error == f"The connection to Xero needs to be authorised again: {LOST}"
    connector = await world.connector()
    assert connector["dxc_status"] == ConnectorStatus.REAUTHORISATION_NEEDED.value
    assert connector["dxc_statusmessage"] == run.error
    assert world.xero_invoices() == []
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] is None  # retried once fixed


async def test_a_reauthorisation_reported_by_the_portal_reaches_the_connector_record(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.bus.publish(
        ConnectionChanged(
            profile=world.profile, syncable=False, reauthorisation_needed={"xero": LOST}
        )
    )

    async def written() -> bool:
        return bool(
            (await world.connector())["dxc_status"] == ConnectorStatus.REAUTHORISATION_NEEDED.value
        )

    await eventually_async(written)
    assert (await world.connector())["dxc_statusmessage"] == (
        f"The connection to Xero needs to be authorised again: {LOST}"
    )

    # Reconnected: the next run clears it.
    await world.bus.publish(ConnectionChanged(profile=world.profile, syncable=True))
    await world.sync()
    assert (await world.connector())["dxc_status"] == ConnectorStatus.ACTIVE.value
