"""How each Xero list maps onto a connector table in Dynamics, and what to write so the table
shows what Xero offers: pure decisions (Xero elements and the rows read in, the writes out).

Rows are upserted by their natural key (tax type, account code, branding theme id) under the
connection's connector record; a row Xero no longer offers (gone, or not ACTIVE) is
deactivated, never deleted, so invoice lines that point at it keep their lookup. A row that
comes back is reactivated.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dxc_shared.clients.dataverse import JSON, BatchOperation, changed_columns
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.dynamics import schema
from dxc_shared.dynamics.columns import (
    BrandingThemeColumns,
    Common,
    RowState,
    RowStatus,
    TaxRateColumns,
    XeroAccountColumns,
)

ACTIVE: JSON = {Common.STATE: RowState.ACTIVE.value, Common.STATUS: RowStatus.ACTIVE.value}
INACTIVE: JSON = {Common.STATE: RowState.INACTIVE.value, Common.STATUS: RowStatus.INACTIVE.value}


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
        TaxRateColumns.NAME: rate.get("Name"),
        TaxRateColumns.TAX_TYPE: rate.get("TaxType"),
        TaxRateColumns.RATE: rate.get("EffectiveRate", rate.get("DisplayTaxRate")),
    }


def _account(account: JSON) -> JSON:
    return {
        XeroAccountColumns.NAME: account.get("Name"),
        XeroAccountColumns.CODE: account.get("Code"),
        XeroAccountColumns.ACCOUNT_TYPE: account.get("Type"),
        XeroAccountColumns.TAX_TYPE: account.get("TaxType"),
    }


def _theme(theme: JSON) -> JSON:
    return {
        BrandingThemeColumns.NAME: theme.get("Name"),
        BrandingThemeColumns.BRANDING_THEME_ID: str(theme.get("BrandingThemeID", "")).lower(),
    }


MIRRORS: tuple[Mirror, ...] = (
    Mirror(
        schema.TAX_RATES,
        TaxRateColumns.TAX_TYPE,
        lambda xero: xero.tax_rates(),
        lambda rate: rate.get("TaxType"),
        _tax_rate,
        _active,
    ),
    Mirror(
        schema.ACCOUNTS,
        XeroAccountColumns.CODE,
        lambda xero: xero.accounts(),
        lambda account: account.get("Code"),  # accounts without a code cannot be picked
        _account,
        _active,
    ),
    Mirror(
        schema.BRANDING_THEMES,
        BrandingThemeColumns.BRANDING_THEME_ID,
        lambda xero: xero.branding_themes(),
        lambda theme: str(theme.get("BrandingThemeID") or "").lower() or None,
        _theme,
        lambda theme: True,
    ),
)


class RowAction(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class RowWrite:
    """One write to a mirrored table, as its own change set."""

    key: str
    action: RowAction
    operation: BatchOperation


def offered(mirror: Mirror, elements: list[JSON]) -> dict[str, JSON]:
    """The columns of each row Xero offers, by natural key."""
    rows: dict[str, JSON] = {}
    for element in elements:
        key = mirror.key(element)
        if key and mirror.offered(element):
            rows[key] = mirror.columns(element)
    return rows


def by_key(mirror: Mirror, existing: list[JSON]) -> dict[str, JSON]:
    """The rows in Dynamics by natural key (the first of duplicates)."""
    rows: dict[str, JSON] = {}
    for found in existing:
        rows.setdefault(str(found.get(mirror.key_column) or ""), found)
    return rows


def plan_mirror(
    mirror: Mirror, elements: list[JSON], existing: list[JSON], connector_id: str
) -> list[RowWrite]:
    """The writes that make the table of `mirror` (rows `existing`, under the connector row
    `connector_id`) show what Xero offers (`elements`)."""
    table = mirror.table
    wanted = offered(mirror, elements)
    rows = by_key(mirror, existing)
    writes: list[RowWrite] = []
    for key, columns in wanted.items():
        row = rows.get(key)
        if row is None:
            body = {**columns, **table.lookups[0].bind(schema.CONNECTOR.entity_set, connector_id)}
            operation = BatchOperation("POST", table.entity_set, body)
            writes.append(RowWrite(key, RowAction.CREATED, operation))
            continue
        changed = changed_columns(row, columns)
        if row.get(Common.STATE) != RowState.ACTIVE:
            changed |= ACTIVE
        if changed:
            operation = BatchOperation.patch(table.entity_set, str(row[table.primary_id]), changed)
            writes.append(RowWrite(key, RowAction.UPDATED, operation))
    for key, row in rows.items():
        if key not in wanted and row.get(Common.STATE) == RowState.ACTIVE:
            operation = BatchOperation.patch(table.entity_set, str(row[table.primary_id]), INACTIVE)
            writes.append(RowWrite(key, RowAction.DEACTIVATED, operation))
    return writes
