"""Xero reference data mirrored into the connector's tables in Dynamics: tax rates (by tax
type), the chart of accounts (by code) and branding themes (by id), so Dynamics users pick
them per invoice line.

Rows are upserted by their natural key under the connection's connector record; a row Xero no
longer offers (gone, or not ACTIVE) is deactivated (statecode 1), never deleted, so invoice
lines that point at it keep their lookup. A row that comes back is reactivated.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dxc_shared.clients.dataverse import JSON, BatchOperation, DataverseClient, odata_literal
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.dynamics import schema
from dxc_shared.messages import SyncFailure

from payment_sync.dynamics import WriteOutcome, changed_columns, check_transient, patch
from payment_sync.metrics import REFERENCE_ROWS
from payment_sync.vendors import ConnectionUnusable

ACTIVE = {"statecode": 0, "statuscode": 1}
INACTIVE = {"statecode": 1, "statuscode": 2}


@dataclass(frozen=True)
class Mirror:
    """How one Xero list maps onto one connector table."""

    table: schema.Table
    key_column: str
    read: Callable[[XeroAccountingClient], Awaitable[list[JSON]]]
    key: Callable[[JSON], str | None]
    columns: Callable[[JSON], JSON]
    offered: Callable[[JSON], bool]


def _active(element: JSON) -> bool:
    return bool(element.get("Status", "ACTIVE") == "ACTIVE")


def _tax_rate(rate: JSON) -> JSON:
    return {
        "dxc_name": rate.get("Name"),
        "dxc_taxtype": rate.get("TaxType"),
        "dxc_rate": rate.get("EffectiveRate", rate.get("DisplayTaxRate")),
    }


def _account(account: JSON) -> JSON:
    return {
        "dxc_name": account.get("Name"),
        "dxc_code": account.get("Code"),
        "dxc_accounttype": account.get("Type"),
        "dxc_taxtype": account.get("TaxType"),
    }


def _theme(theme: JSON) -> JSON:
    return {
        "dxc_name": theme.get("Name"),
        "dxc_brandingthemeid": str(theme.get("BrandingThemeID", "")).lower(),
    }


MIRRORS: tuple[Mirror, ...] = (
    Mirror(
        schema.TAX_RATES,
        "dxc_taxtype",
        lambda xero: xero.tax_rates(),
        lambda rate: rate.get("TaxType"),
        _tax_rate,
        _active,
    ),
    Mirror(
        schema.ACCOUNTS,
        "dxc_code",
        lambda xero: xero.accounts(),
        lambda account: account.get("Code"),  # accounts without a code cannot be picked
        _account,
        _active,
    ),
    Mirror(
        schema.BRANDING_THEMES,
        "dxc_brandingthemeid",
        lambda xero: xero.branding_themes(),
        lambda theme: str(theme.get("BrandingThemeID") or "").lower() or None,
        _theme,
        lambda theme: True,
    ),
)


async def connector_row_id(dataverse: DataverseClient, connection_id: uuid.UUID) -> str:
    rows = await dataverse.query(
        schema.CONNECTOR.entity_set,
        select=[schema.CONNECTOR.primary_id],
        filter=f"dxc_connectionid eq {odata_literal(str(connection_id))}",
        top=1,
    )
    if not rows:
        raise ConnectionUnusable(
            "The Xero connector record of this connection is missing in Dynamics 365; "
            "reconnect Dynamics in the portal to create it again."
        )
    return str(rows[0][schema.CONNECTOR.primary_id])


async def mirror_reference_data(
    xero: XeroAccountingClient, dataverse: DataverseClient, connection_id: uuid.UUID
) -> WriteOutcome:
    connector_id = await connector_row_id(dataverse, connection_id)
    outcome = WriteOutcome()
    for mirror in MIRRORS:
        outcome.add(await _mirror(mirror, xero, dataverse, connector_id))
    return outcome


async def _mirror(
    mirror: Mirror, xero: XeroAccountingClient, dataverse: DataverseClient, connector_id: str
) -> WriteOutcome:
    table = mirror.table
    lookup = table.lookups[0]
    offered: dict[str, JSON] = {}
    for element in await mirror.read(xero):
        key = mirror.key(element)
        if key and mirror.offered(element):
            offered[key] = mirror.columns(element)
    existing = await dataverse.query(
        table.entity_set,
        select=[table.primary_id, "statecode", *mirror.columns({})],
        filter=f"{lookup.value_property} eq {connector_id}",
    )
    rows: dict[str, JSON] = {}
    for found in existing:
        rows.setdefault(str(found.get(mirror.key_column) or ""), found)

    change_sets: list[list[BatchOperation]] = []
    actions: list[tuple[str, str]] = []  # (key, action) per change set
    for key, columns in offered.items():
        row = rows.get(key)
        if row is None:
            body: dict[str, Any] = {
                **columns,
                **lookup.bind(schema.CONNECTOR.entity_set, connector_id),
            }
            change_sets.append([BatchOperation("POST", table.entity_set, body)])
            actions.append((key, "created"))
            continue
        changed = changed_columns(row, columns)
        if row.get("statecode") != 0:
            changed |= ACTIVE
        if changed:
            change_sets.append([patch(table.entity_set, str(row[table.primary_id]), changed)])
            actions.append((key, "updated"))
    for key, row in rows.items():
        if key not in offered and row.get("statecode") == 0:
            change_sets.append([patch(table.entity_set, str(row[table.primary_id]), INACTIVE)])
            actions.append((key, "deactivated"))
    if not change_sets:
        return WriteOutcome()
    results = await dataverse.batch(change_sets)
    check_transient(results)
    outcome = WriteOutcome()
    for (key, action), [result] in zip(actions, results, strict=True):
        if result.ok:
            outcome.succeeded += 1
            REFERENCE_ROWS.labels(table.logical_name, action).inc()
        else:
            outcome.failures.append(
                SyncFailure(
                    record_id=key,
                    message=f"{table.label} {key} could not be {action} in Dynamics: "
                    f"{result.error_message}",
                )
            )
    return outcome
