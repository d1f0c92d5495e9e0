"""The Dynamics 365 reads of the reference-data mirror."""

from __future__ import annotations

import uuid
from typing import Any

from dxc_shared.clients.dataverse import JSON, DataverseClient, odata_literal
from dxc_shared.dynamics.columns import Common, ConnectorColumns
from dxc_shared.sync import RunBlocked

from payment_sync.reference.decisions import Mirror


async def connector_row_id(dataverse: DataverseClient, connection_id: uuid.UUID) -> str:
    """The id of the connection's connector record; `RunBlocked` when it is missing."""
    rows = await dataverse.query(
        ConnectorColumns.ENTITY_SET,
        select=[ConnectorColumns.ID],
        filter=f"{ConnectorColumns.CONNECTION_ID} eq {odata_literal(str(connection_id))}",
        top=1,
    )
    if not rows:
        raise RunBlocked(
            "The Xero connector record of this connection is missing in Dynamics 365; "
            "reconnect Dynamics in the portal to create it again."
        )
    return str(rows[0][ConnectorColumns.ID])


async def mirrored_rows(
    dataverse: DataverseClient, mirror: Mirror[Any], connector_id: str
) -> list[JSON]:
    """The rows of the mirror's table under the connector record, active or not."""
    table = mirror.table
    return await dataverse.query(
        table.entity_set,
        select=[table.primary_id, Common.STATE, *mirror.columns(mirror.document())],
        filter=f"{table.lookups[0].value_property} eq {connector_id}",
    )
