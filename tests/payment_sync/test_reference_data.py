"""Reference data: Xero's tax rates, chart of accounts and branding themes mirrored into the
connector's tables in Dynamics on connect and on demand; removed ones deactivated, not
deleted."""

from __future__ import annotations

from dxc_shared.clients.dataverse import JSON
from dxc_shared.dynamics import schema
from dxc_shared.messages import ReferenceDataRefreshRequested

from tests.payment_sync.conftest import Connection, sample

ROWS = "dxc_payment_sync_reference_rows_total"


async def mirrored(connection: Connection, table: schema.Table, key: str) -> dict[str, JSON]:
    rows = await connection.dataverse.query(
        table.entity_set,
        select=[key, "dxc_name", "statecode"],
        filter=f"{table.lookups[0].value_property} eq {connection.connector_id}",
    )
    return {str(row[key]): row for row in rows}


async def refresh(connection: Connection) -> tuple[int, int]:
    """Ask for a refresh as portal-api does; returns the run's (succeeded, failed)."""
    done = len(connection.bus.runs_of(connection.connection_id, "reference-data"))
    await connection.bus.publish(
        ReferenceDataRefreshRequested(connection_id=connection.connection_id)
    )
    run = await connection.bus.next_run(connection.connection_id, "reference-data", after=done)
    assert run.error is None, run.error
    return run.succeeded, run.failed


async def test_reference_data_is_mirrored_on_connect(connection: Connection) -> None:
    organisation = connection.xero.state.organisations[connection.tenant_id]

    tax_rates = await mirrored(connection, schema.TAX_RATES, "dxc_taxtype")
    accounts = await mirrored(connection, schema.ACCOUNTS, "dxc_code")
    themes = await mirrored(connection, schema.BRANDING_THEMES, "dxc_brandingthemeid")

    assert set(tax_rates) == set(organisation.tax_rates)
    assert tax_rates["OUTPUT2"]["dxc_name"] == "15% GST on Income"
    assert set(accounts) == {account.code for account in organisation.accounts.values()}
    assert accounts["200"]["dxc_name"] == "Sales"
    assert set(themes) == set(organisation.branding_themes)
    rows = [*tax_rates.values(), *accounts.values(), *themes.values()]
    assert {row["statecode"] for row in rows} == {0}


async def test_a_removed_tax_rate_is_deactivated_and_a_renamed_account_updated(
    connection: Connection,
) -> None:
    organisation = connection.xero.state.organisations[connection.tenant_id]
    deactivated = sample(ROWS, {"table": "dxc_xerotaxrate", "action": "deactivated"})
    # A Xero user deletes a tax rate and renames an account (Xero keeps deleted rates, with
    # Status DELETED).
    organisation.tax_rates["ZERORATED"].status = "DELETED"
    sales = next(a for a in organisation.accounts.values() if a.code == "200")
    sales.name = "Sales - services"

    assert await refresh(connection) == (2, 0)

    tax_rates = await mirrored(connection, schema.TAX_RATES, "dxc_taxtype")
    assert tax_rates["ZERORATED"]["statecode"] == 1  # still there, inactive
    assert {key for key, row in tax_rates.items() if row["statecode"] == 0} == set(
        organisation.tax_rates
    ) - {"ZERORATED"}
    accounts = await mirrored(connection, schema.ACCOUNTS, "dxc_code")
    assert accounts["200"]["dxc_name"] == "Sales - services"
    assert sample(ROWS, {"table": "dxc_xerotaxrate", "action": "deactivated"}) == deactivated + 1

    assert await refresh(connection) == (0, 0)  # nothing changed: nothing written

    organisation.tax_rates["ZERORATED"].status = "ACTIVE"  # restored in Xero
    assert await refresh(connection) == (1, 0)
    tax_rates = await mirrored(connection, schema.TAX_RATES, "dxc_taxtype")
    assert tax_rates["ZERORATED"]["statecode"] == 0
    assert len(tax_rates) == len(organisation.tax_rates)  # reactivated, not created twice
