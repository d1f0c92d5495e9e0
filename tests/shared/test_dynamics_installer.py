"""Installing the connector's solution into the Dynamics sandbox through the Web API, using
it, upgrading it without losing rows, and removing it."""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile
from collections.abc import AsyncIterator, Iterator

import pytest
from dxc_shared.clients.dataverse import DataverseClient, DataverseError
from dxc_shared.dynamics import schema, solution
from dxc_shared.dynamics.installer import (
    install,
    installed,
    missing_privileges,
    uninstall,
)
from dxc_shared.dynamics.solution.forms import FORMS, INVOICE_FORM
from dxc_shared.dynamics.solution.views import VIEWS

from tests.support.dynamics_sandbox import (
    RunningDynamicsSandbox,
    demo_user_dataverse,
    running_dynamics_sandbox,
)
from tests.support.solution_packages import edited_package, older_package


@pytest.fixture
def dynamics() -> Iterator[RunningDynamicsSandbox]:
    with running_dynamics_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(dynamics: RunningDynamicsSandbox) -> AsyncIterator[DataverseClient]:
    async with demo_user_dataverse(dynamics, http_timeout=30) as client:
        yield client


async def _invoice_columns(client: DataverseClient) -> set[str]:
    response = await client.request(
        "GET",
        "EntityDefinitions(LogicalName='invoice')/Attributes",
        operation="read_metadata",
        params={"$select": "LogicalName"},
    )
    assert response is not None
    return {row["LogicalName"] for row in response.json()["value"]}


async def test_install_then_upgrade_keeps_the_rows_and_uninstall_removes_them(
    client: DataverseClient,
) -> None:
    first = await install(client, older_package(without_column="dxc_PaymentState"))
    assert (first.action, first.version) == ("installed", "0.9.0.0")
    assert "dxc_paymentstate" not in await _invoice_columns(client)
    connector_id = await client.create(
        schema.CONNECTOR.entity_set, {"dxc_name": "Xero: Demo", "dxc_connectionid": "c-1"}
    )
    [invoice] = await client.query(
        "invoices", select=["invoiceid"], filter="invoicenumber eq 'INV-1001'"
    )
    invoice_id = invoice["invoiceid"]
    await client.update(
        "invoices",
        invoice_id,
        {
            "dxc_exportstatus": schema.ExportStatus.FAILED,
            **schema.INVOICE_CONNECTOR.bind(schema.CONNECTOR.entity_set, connector_id),
        },
    )
    await client.create(
        schema.SYNC_HISTORY.entity_set,
        {
            "dxc_name": "Failed",
            "dxc_outcome": schema.SyncOutcome.FAILED,
            "dxc_message": "Contact 'Acme Ltd' does not exist in Xero",
            **schema.HISTORY_INVOICE.bind("invoices", invoice_id),
            **schema.HISTORY_CONNECTOR.bind(schema.CONNECTOR.entity_set, connector_id),
        },
    )

    upgrade = await install(client)
    again = await install(client)

    assert (upgrade.action, upgrade.previous_version) == ("upgraded", "0.9.0.0")
    assert (again.action, again.version) == ("current", solution.VERSION)
    assert "dxc_paymentstate" in await _invoice_columns(client)
    [kept] = await client.query(
        "invoices", select=["dxc_exportstatus"], filter=f"invoiceid eq {invoice_id}"
    )
    assert kept["dxc_exportstatus"] == schema.ExportStatus.FAILED
    history = await client.query(schema.SYNC_HISTORY.entity_set, select=["dxc_message"])
    assert [h["dxc_message"] for h in history] == ["Contact 'Acme Ltd' does not exist in Xero"]

    assert await uninstall(client) is True
    assert await installed(client) is None
    assert "dxc_exportstatus" not in await _invoice_columns(client)
    with pytest.raises(DataverseError):
        await client.query(schema.SYNC_HISTORY.entity_set, select=["dxc_message"])
    assert await client.query("systemforms", select=["formid"], filter="solutionid ne null") == []
    assert await uninstall(client) is False


async def test_the_organisation_shows_the_forms_views_and_role(client: DataverseClient) -> None:
    await install(client)

    forms = await client.query("systemforms", select=["formid", "name", "objecttypecode"])
    ours = {f"{{{row['formid']}}}": row for row in forms}
    assert {form.id for form in FORMS} <= set(ours)
    assert ours[INVOICE_FORM.id]["objecttypecode"] == "invoice"
    views = await client.query("savedqueries", select=["savedqueryid", "name", "fetchxml"])
    by_id = {f"{{{row['savedqueryid']}}}": row for row in views}
    assert {v.name for v in VIEWS} == {by_id[v.id]["name"] for v in VIEWS}
    # Every view runs: its columns, filters and joins exist in the organisation.
    for view in VIEWS:
        response = await client.request(
            "GET",
            view.table.entity_set,
            operation="run_view",
            params={"fetchXml": by_id[view.id]["fetchxml"]},
        )
        assert response is not None
        assert response.status_code == 200, view.name
    [role] = await client.query(
        "roles", select=["roleid"], filter=f"name eq '{solution.ROLE_NAME}'"
    )
    response = await client.request(
        "GET",
        f"RetrieveRolePrivilegesRole(RoleId={role['roleid']})",
        operation="role_privileges",
    )
    assert response is not None
    held = {p["PrivilegeName"] for p in response.json()["RolePrivileges"]}
    assert held == set(schema.REQUIRED_PRIVILEGES)
    [record] = await client.query(
        "solutions", select=["version", "ismanaged"], filter="uniquename eq 'dxcXeroConnector'"
    )
    assert record == {**record, "version": solution.VERSION, "ismanaged": True}


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"solution.xml": b"<ImportExportXml/>"}, "0x80048060"),
        (
            {
                "solution.xml": b"<ImportExportXml><SolutionManifest>",
                "customizations.xml": b"<ImportExportXml/>",
                "[Content_Types].xml": b"<Types/>",
            },
            "0x80048013",
        ),
        (
            {
                "solution.xml": b"<ImportExportXml><SolutionManifest><UniqueName>x"
                b"</UniqueName></SolutionManifest></ImportExportXml>",
                "customizations.xml": b"<ImportExportXml/>",
                "[Content_Types].xml": b"<Types/>",
            },
            "0x8004801a",
        ),
    ],
)
async def test_a_malformed_package_is_refused_with_dataverses_error(
    client: DataverseClient, files: dict[str, bytes], code: str
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(DataverseError) as refused:
        await client.request(
            "POST",
            "ImportSolution",
            operation="import_solution",
            body={
                "CustomizationFile": base64.b64encode(buffer.getvalue()).decode(),
                "OverwriteUnmanagedCustomizations": True,
                "PublishWorkflows": False,
                "ImportJobId": "00000000-0000-0000-0000-000000000001",
            },
        )
    assert refused.value.code == code
    assert await installed(client) is None


async def test_a_role_naming_a_privilege_that_does_not_exist_is_refused_before_any_change(
    client: DataverseClient,
) -> None:
    typo = edited_package(
        solution.VERSION, lambda text: text.replace('"prvReadProduct"', '"prvReadProducts"')
    )
    with pytest.raises(DataverseError) as refused:
        await install(client, typo)
    assert refused.value.code == "0x80048058"
    assert "prvReadProducts" in refused.value.message
    assert await installed(client) is None
    assert "dxc_exportstatus" not in await _invoice_columns(client)


async def test_an_upgrade_adds_the_choices_added_since_the_installed_version(
    client: DataverseClient,
) -> None:
    """An organisation on a release from before "Update in Xero" gets that export status when
    the newer version is imported over it."""

    def without_update(text: str) -> str:
        start = text.index('<optionset Name="invoice_dxc_exportstatus">')
        option = text.index(f'<option value="{schema.ExportStatus.UPDATE.value}">', start)
        end = text.index("</option>", option) + len("</option>")
        return text[:option] + text[end:]

    await install(client, edited_package("0.9.0.0", without_update))
    [invoice] = await client.query(
        "invoices", select=["invoiceid"], filter="invoicenumber eq 'INV-1001'"
    )
    update_in_xero = {"dxc_exportstatus": schema.ExportStatus.UPDATE.value}
    with pytest.raises(DataverseError):
        await client.update("invoices", invoice["invoiceid"], update_in_xero)

    assert (await install(client)).action == "upgraded"

    await client.update("invoices", invoice["invoiceid"], update_in_xero)
    [row] = await client.query(
        "invoices", select=["dxc_exportstatus"], filter="invoicenumber eq 'INV-1001'"
    )
    assert row["dxc_exportstatus"] == schema.ExportStatus.UPDATE


async def test_an_organisation_set_up_through_the_metadata_api_is_taken_over_with_its_rows(
    client: DataverseClient,
) -> None:
    """Before the solution, Install created the columns one by one: importing the solution
    keeps such a column and its values, and adds what it lacks."""
    label = {"LocalizedLabels": [{"Label": "Xero export status", "LanguageCode": 1033}]}
    await client.request(
        "POST",
        "EntityDefinitions(LogicalName='invoice')/Attributes",
        operation="create_column",
        body={
            "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            "SchemaName": "dxc_ExportStatus",
            "DisplayName": label,
            "OptionSet": {
                "Options": [
                    {"Value": int(value), "Label": label}
                    for value in (schema.ExportStatus.NO, schema.ExportStatus.FAILED)
                ]
            },
        },
    )
    [invoice] = await client.query(
        "invoices", select=["invoiceid"], filter="invoicenumber eq 'INV-1001'"
    )
    await client.update(
        "invoices", invoice["invoiceid"], {"dxc_exportstatus": schema.ExportStatus.FAILED}
    )

    assert (await install(client)).action == "installed"

    await client.update("invoices", invoice["invoiceid"], {"dxc_xeroinvoicenumber": "INV-0042"})
    [row] = await client.query(
        "invoices",
        select=["dxc_exportstatus", "dxc_xeroinvoicenumber"],
        filter="invoicenumber eq 'INV-1001'",
    )
    assert row == {**row, "dxc_exportstatus": schema.ExportStatus.FAILED}
    assert row["dxc_xeroinvoicenumber"] == "INV-0042"
    await client.update(
        "invoices", invoice["invoiceid"], {"dxc_exportstatus": schema.ExportStatus.UPDATE}
    )


async def test_missing_privileges_are_said_in_words(
    client: DataverseClient, dynamics: RunningDynamicsSandbox
) -> None:
    await install(client)
    assert await missing_privileges(client) == []

    denied = {"denied": ["prvWriteInvoice", "prvCreatedxc_SyncHistory"]}
    await asyncio.to_thread(
        dynamics.admin, "PUT", f"orgs/demo/privileges/{dynamics.settings.demo_user}", json=denied
    )
    assert await missing_privileges(client) == [
        "update invoices and their lines",
        "create sync history",
    ]
