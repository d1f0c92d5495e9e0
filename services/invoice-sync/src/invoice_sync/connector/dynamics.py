"""Reading and writing the connector record and its settings row in Dynamics 365."""

from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.clients.dataverse import BatchOperation, DataverseClient, odata_literal
from dxc_shared.dynamics.schema import CONNECTOR, SETTINGS, SETTINGS_CONNECTOR, ConnectorStatus

from invoice_sync.connector.records import SETTINGS_COLUMN, Connector, ConnectorSettings
from invoice_sync.kit.dataverse import column, patch

_STATUS = column("dxc_Status")
_STATUS_MESSAGE = column("dxc_StatusMessage")


async def find_connector(client: DataverseClient, connection_id: uuid.UUID) -> Connector | None:
    rows = await client.query(
        CONNECTOR.entity_set,
        select=[CONNECTOR.primary_id, _STATUS],
        filter=f"{column('dxc_ConnectionId')} eq {odata_literal(str(connection_id))}",
        top=1,
    )
    if not rows:
        return None
    return Connector(str(rows[0][CONNECTOR.primary_id]), rows[0].get(_STATUS))


async def read_settings(client: DataverseClient, connector: Connector) -> ConnectorSettings:
    rows = await client.query(
        SETTINGS.entity_set,
        select=list(SETTINGS_COLUMN.values()),
        filter=f"{SETTINGS_CONNECTOR.value_property} eq {connector.id}",
        top=1,
    )
    return ConnectorSettings.from_row(rows[0] if rows else None)


async def set_connector_status(
    client: DataverseClient, connector: Connector, status: ConnectorStatus, message: str | None
) -> None:
    await client.update(
        CONNECTOR.entity_set, connector.id, {_STATUS: status.value, _STATUS_MESSAGE: message}
    )


def connector_synced_change_set(connector: Connector, now: datetime) -> list[BatchOperation]:
    return [
        patch(
            CONNECTOR.entity_set,
            connector.id,
            {
                column("dxc_LastSyncOn"): now.isoformat(),
                _STATUS: ConnectorStatus.ACTIVE.value,
                _STATUS_MESSAGE: None,
            },
        )
    ]
