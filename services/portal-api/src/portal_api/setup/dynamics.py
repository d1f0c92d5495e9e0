"""The connector inside the customer's Dynamics 365 organisation: its solution (imported,
upgraded or removed through the Web API), the connector row that ties the organisation to this
connection, and the settings row users review there."""

from __future__ import annotations

import httpx
from dxc_shared.clients.dataverse import (
    DataverseClient,
    DataverseError,
    DataverseThrottled,
    DataverseUnavailable,
    odata_literal,
)
from dxc_shared.dynamics import installer
from dxc_shared.dynamics.schema import (
    CHOICE_LABELS,
    CONNECTOR,
    SETTINGS,
    SETTINGS_CONNECTOR,
    ConnectorStatus,
    DefaultInvoiceStatus,
)
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.connections.service import ConnectionState
from portal_api.context import PortalContext
from portal_api.kit.errors import Conflict, PortalError, UpstreamFailed
from portal_api.oauth.service import access_token
from portal_api.setup.schemas import DynamicsSettings, InstallOut

_CONNECTION_ID = "dxc_connectionid"
_SETTING_COLUMNS = {
    "use_xero_invoice_number": "dxc_usexeroinvoicenumber",
    "create_contacts": "dxc_createcontacts",
    "create_products": "dxc_createproducts",
    "default_invoice_status": "dxc_defaultinvoicestatus",
    "default_sales_account_code": "dxc_defaultsalesaccountcode",
    "default_purchase_account_code": "dxc_defaultpurchaseaccountcode",
    "create_credit_notes": "dxc_createcreditnotes",
}


def dataverse(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> DataverseClient:
    org_url = state.connection.dynamics_org_url
    if org_url is None:
        raise Conflict("Choose the Dynamics 365 organisation first.")
    token: str | None = None

    async def source() -> str:
        nonlocal token
        if token is None:
            token = await access_token(session, context, state, "dynamics", resource=org_url)
        return token

    return DataverseClient(context.http, org_url=org_url, access_token=source)


def dataverse_problem(error: Exception) -> PortalError:
    """What a person reads when Dynamics refuses or cannot answer."""
    if isinstance(error, DataverseError):
        return Conflict(f"Dynamics 365 refused the request: {error.message}")
    if isinstance(error, DataverseThrottled):
        return PortalError(
            429,
            "Dynamics 365 asked us to slow down. Try again in a minute.",
            headers={"Retry-After": str(int(error.retry_after))},
        )
    return UpstreamFailed("Dynamics 365 could not be reached. Try again shortly.")


DATAVERSE_ERRORS = (DataverseError, DataverseThrottled, DataverseUnavailable, httpx.HTTPError)


async def connector_id(client: DataverseClient, state: ConnectionState) -> str | None:
    rows = await client.query(
        CONNECTOR.entity_set,
        select=[CONNECTOR.primary_id],
        filter=f"{_CONNECTION_ID} eq {odata_literal(str(state.connection.id))}",
        top=1,
    )
    return str(rows[0][CONNECTOR.primary_id]) if rows else None


async def ensure_connector(client: DataverseClient, state: ConnectionState) -> str:
    """The connector row for this connection (invoices and settings point at it)."""
    existing = await connector_id(client, state)
    if existing is not None:
        return existing
    connection = state.connection
    organisation = connection.xero_tenant_name or connection.name
    return await client.create(
        CONNECTOR.entity_set,
        {
            "dxc_name": f"Xero: {organisation}"[:200],
            _CONNECTION_ID: str(connection.id),
            "dxc_xeroorganisation": organisation[:200],
            "dxc_status": int(ConnectorStatus.ACTIVE),
        },
    )


async def install(client: DataverseClient, state: ConnectionState) -> InstallOut:
    """Import the solution (or a newer version over the installed one), then tie the
    organisation to this connection and check the signed-in user's privileges."""
    report = await installer.install(client)
    await recognise(client, state, installed=True)
    return InstallOut(
        action=report.action,
        version=report.version,
        previous_version=report.previous_version,
        missing_privileges=state.connection.missing_privileges or [],
    )


async def recognise(client: DataverseClient, state: ConnectionState, *, installed: bool) -> None:
    """Record that the solution is in the organisation (imported here or by an administrator
    by hand): the connector row and the user's privileges."""
    connection = state.connection
    connection.tables_installed = installed
    if installed:
        connection.dynamics_connector_id = await ensure_connector(client, state)
        connection.missing_privileges = await installer.missing_privileges(client)


async def uninstall(client: DataverseClient, state: ConnectionState) -> bool:
    """Delete the solution: its tables, columns, forms, views and role, rows included."""
    removed = await installer.uninstall(client)
    state.connection.tables_installed = False
    state.connection.dynamics_connector_id = None
    return removed


async def read_settings(client: DataverseClient, connector: str) -> DynamicsSettings | None:
    rows = await client.query(
        SETTINGS.entity_set,
        select=list(_SETTING_COLUMNS.values()),
        filter=f"{SETTINGS_CONNECTOR.value_property} eq {connector}",
        top=1,
    )
    if not rows:
        return None
    row = rows[0]
    values = {name: row.get(column) for name, column in _SETTING_COLUMNS.items()}
    status = values["default_invoice_status"]
    labels = CHOICE_LABELS[DefaultInvoiceStatus]
    values["default_invoice_status"] = labels.get(status) if isinstance(status, int) else None
    return DynamicsSettings.model_validate(values)
