"""Reading and writing the connector record and its settings row in Dynamics 365."""

from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.clients.dataverse import BatchOperation, DataverseClient, odata_literal
from dxc_shared.dynamics.columns import ConnectorColumns, SettingsColumns
from dxc_shared.dynamics.schema import ConnectorStatus

from invoice_sync.connector.records import SETTINGS_COLUMNS, Connector, ConnectorSettings


async def find_connector(client: DataverseClient, connection_id: uuid.UUID) -> Connector | None:
    rows = await client.query(
        ConnectorColumns.ENTITY_SET,
        select=[ConnectorColumns.ID, ConnectorColumns.STATUS],
        filter=f"{ConnectorColumns.CONNECTION_ID} eq {odata_literal(str(connection_id))}",
        top=1,
    )
    if not rows:
        return None
    return Connector(str(rows[0][ConnectorColumns.ID]), rows[0].get(ConnectorColumns.STATUS))


async def read_settings(client: DataverseClient, connector: Connector) -> ConnectorSettings:
    rows = await client.query(
        SettingsColumns.ENTITY_SET,
        select=SETTINGS_COLUMNS,
        filter=f"{SettingsColumns.CONNECTOR} eq {connector.id}",
        top=1,
    )
    return ConnectorSettings.from_row(rows[0] if rows else None)


async def set_connector_status(
    client: DataverseClient, connector: Connector, status: ConnectorStatus, message: str | None
) -> None:
    await client.update(
        ConnectorColumns.ENTITY_SET,
        connector.id,
        {ConnectorColumns.STATUS: status.value, ConnectorColumns.STATUS_MESSAGE: message},
    )


def connector_synced_change_set(connector: Connector, now: datetime) -> list[BatchOperation]:
    return [
        BatchOperation.patch(
            ConnectorColumns.ENTITY_SET,
            connector.id,
            {
                ConnectorColumns.LAST_SYNC_ON: now.isoformat(),
                ConnectorColumns.STATUS: ConnectorStatus.ACTIVE.value,
                ConnectorColumns.STATUS_MESSAGE: None,
            },
        )
    ]
