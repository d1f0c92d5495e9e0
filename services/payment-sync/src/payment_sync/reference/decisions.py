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
from decimal import Decimal
from typing import Any, Generic, TypeVar

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
from dxc_shared.xero.documents import (
    Account,
    AccountStatus,
    BrandingTheme,
    TaxRate,
    TaxRateStatus,
    XeroDocument,
)

ACTIVE: JSON = {Common.STATE: RowState.ACTIVE.value, Common.STATUS: RowStatus.ACTIVE.value}
INACTIVE: JSON = {Common.STATE: RowState.INACTIVE.value, Common.STATUS: RowStatus.INACTIVE.value}


Element = TypeVar("Element", bound=XeroDocument)


@dataclass(frozen=True)
class Mirror(Generic[Element]):
    """How one Xero list maps onto one connector table."""

    table: schema.Table
    key_column: str
    document: type[Element]
    read: Callable[[XeroAccountingClient], Awaitable[list[Element]]]
    key: Callable[[Element], str | None]
    columns: Callable[[Element], JSON]
    offered: Callable[[Element], bool]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _tax_rate(rate: TaxRate) -> JSON:
    shown = rate.effective_rate if rate.effective_rate is not None else rate.display_tax_rate
    return {
        TaxRateColumns.NAME: rate.name,
        TaxRateColumns.TAX_TYPE: rate.tax_type,
        TaxRateColumns.RATE: _number(shown),
    }


def _account(account: Account) -> JSON:
    return {
        XeroAccountColumns.NAME: account.name,
        XeroAccountColumns.CODE: account.code,
        XeroAccountColumns.ACCOUNT_TYPE: account.type.value if account.type else None,
        XeroAccountColumns.TAX_TYPE: account.tax_type,
    }


def _theme(theme: BrandingTheme) -> JSON:
    return {
        BrandingThemeColumns.NAME: theme.name,
        BrandingThemeColumns.BRANDING_THEME_ID: (theme.branding_theme_id or "").lower(),
    }


# Each mirror maps its own document type; the tuple holds them side by side.
MIRRORS: tuple[Mirror[Any], ...] = (
    Mirror(
        schema.TAX_RATES,
        TaxRateColumns.TAX_TYPE,
        TaxRate,
        lambda xero: xero.tax_rates(),
        lambda rate: rate.tax_type,
        _tax_rate,
        lambda rate: rate.status in (None, TaxRateStatus.ACTIVE),
    ),
    Mirror(
        schema.ACCOUNTS,
        XeroAccountColumns.CODE,
        Account,
        lambda xero: xero.accounts(),
        lambda account: account.code,  # accounts without a code cannot be picked
        _account,
        lambda account: account.status in (None, AccountStatus.ACTIVE),
    ),
    Mirror(
        schema.BRANDING_THEMES,
        BrandingThemeColumns.BRANDING_THEME_ID,
        BrandingTheme,
        lambda xero: xero.branding_themes(),
        lambda theme: (theme.branding_theme_id or "").lower() or None,
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


def offered(mirror: Mirror[Element], elements: list[Element]) -> dict[str, JSON]:
    """The columns of each row Xero offers, by natural key."""
    rows: dict[str, JSON] = {}
    for element in elements:
        key = mirror.key(element)
        if key and mirror.offered(element):
            rows[key] = mirror.columns(element)
    return rows


def by_key(mirror: Mirror[Any], existing: list[JSON]) -> dict[str, JSON]:
    """The rows in Dynamics by natural key (the first of duplicates)."""
    rows: dict[str, JSON] = {}
    for found in existing:
        rows.setdefault(str(found.get(mirror.key_column) or ""), found)
    return rows


def plan_mirror(
    mirror: Mirror[Element], elements: list[Element], existing: list[JSON], connector_id: str
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
