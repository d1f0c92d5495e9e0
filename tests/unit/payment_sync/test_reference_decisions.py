"""The reference-data mirror's decisions: which connector rows to create, update, reactivate or
deactivate so Dynamics offers what Xero offers."""

from __future__ import annotations

from typing import Any

import pytest
from dxc_shared.clients.dataverse import JSON
from dxc_shared.dynamics.columns import (
    BrandingThemeColumns,
    Common,
    ConnectorColumns,
    RowState,
    RowStatus,
    TaxRateColumns,
    XeroAccountColumns,
)
from dxc_shared.xero.documents import TaxRate
from payment_sync.reference.decisions import (
    ACTIVE,
    INACTIVE,
    MIRRORS,
    Mirror,
    RowAction,
    by_key,
    offered,
    plan_mirror,
)

pytestmark = pytest.mark.unit

TAX_RATES, ACCOUNTS, THEMES = MIRRORS
CONNECTOR_ID = "c0000000-0000-4000-8000-000000000001"
NAME, TYPE, RATE = TaxRateColumns.NAME, TaxRateColumns.TAX_TYPE, TaxRateColumns.RATE


def rate(tax_type: str = "OUTPUT2", **fields: Any) -> TaxRate:
    return TaxRate.from_xero(
        {"Name": "GST on Income", "TaxType": tax_type, "EffectiveRate": 15.0, **fields}
    )


def rate_row(tax_type: str = "OUTPUT2", **columns: Any) -> JSON:
    return {
        TaxRateColumns.ID: f"row-{tax_type}",
        Common.STATE: RowState.ACTIVE.value,
        NAME: "GST on Income",
        TYPE: tax_type,
        RATE: 15.0,
        **columns,
    }


INACTIVE_ROW: JSON = {Common.STATE: RowState.INACTIVE.value}


@pytest.mark.parametrize(
    ("elements", "rows", "expected"),
    [
        pytest.param([rate()], [rate_row()], [], id="unchanged"),
        pytest.param([], [], [], id="nothing anywhere"),
        pytest.param([rate()], [], [("OUTPUT2", RowAction.CREATED, None)], id="new"),
        pytest.param(
            [rate(Name="GST 15%")],
            [rate_row()],
            [("OUTPUT2", RowAction.UPDATED, {NAME: "GST 15%"})],
            id="renamed: only the name",
        ),
        pytest.param(
            [rate(EffectiveRate=12.5)],
            [rate_row()],
            [("OUTPUT2", RowAction.UPDATED, {RATE: 12.5})],
            id="rate changed",
        ),
        pytest.param([rate(EffectiveRate=15)], [rate_row(**{RATE: "15.0000"})], [], id="15 is 15"),
        pytest.param(
            [rate()],
            [rate_row(**INACTIVE_ROW)],
            [("OUTPUT2", RowAction.UPDATED, ACTIVE)],
            id="offered again: reactivated",
        ),
        pytest.param(
            [rate(Name="Back")],
            [rate_row(**INACTIVE_ROW)],
            [("OUTPUT2", RowAction.UPDATED, {NAME: "Back", **ACTIVE})],
            id="offered again, changed: one update",
        ),
        pytest.param(
            [], [rate_row()], [("OUTPUT2", RowAction.DEACTIVATED, INACTIVE)], id="gone: deactivated"
        ),
        pytest.param([], [rate_row(**INACTIVE_ROW)], [], id="gone and already inactive"),
        pytest.param(
            [rate(Status="DELETED")],
            [rate_row()],
            [("OUTPUT2", RowAction.DEACTIVATED, INACTIVE)],
            id="no longer ACTIVE in Xero: deactivated",
        ),
        pytest.param([rate(Status="ARCHIVED")], [], [], id="archived and never mirrored"),
        pytest.param([rate(TaxType=None)], [], [], id="no tax type: no key, not mirrored"),
        pytest.param(
            [rate(), rate("INPUT2", Name="GST on Expenses")],
            [rate_row(), rate_row("NONE")],
            [
                ("INPUT2", RowAction.CREATED, None),
                ("NONE", RowAction.DEACTIVATED, INACTIVE),
            ],
            id="created and deactivated in one plan",
        ),
    ],
)
def test_tax_rates_are_mirrored(
    elements: list[TaxRate], rows: list[JSON], expected: list[tuple[str, RowAction, JSON | None]]
) -> None:
    writes = plan_mirror(TAX_RATES, elements, rows, CONNECTOR_ID)

    assert [(w.key, w.action) for w in writes] == [(key, action) for key, action, _ in expected]
    for write, (_, action, body) in zip(writes, expected, strict=True):
        if action is not RowAction.CREATED:
            assert write.operation.method == "PATCH"
            assert write.operation.body == body
            assert write.operation.headers == {"If-Match": "*"}


def test_a_new_row_is_created_under_the_connector_record() -> None:
    [write] = plan_mirror(TAX_RATES, [rate(EffectiveRate=None)], [], CONNECTOR_ID)

    assert (write.operation.method, write.operation.path) == ("POST", TaxRateColumns.ENTITY_SET)
    assert write.operation.body == {
        NAME: "GST on Income",
        TYPE: "OUTPUT2",
        RATE: None,
        "dxc_ConnectorId@odata.bind": f"/{ConnectorColumns.ENTITY_SET}({CONNECTOR_ID})",
    }


def test_the_display_rate_stands_in_for_a_missing_effective_rate() -> None:
    element = TaxRate.from_xero({"Name": "Zero", "TaxType": "ZERO", "DisplayTaxRate": 0.0})
    assert offered(TAX_RATES, [element]) == {"ZERO": {NAME: "Zero", TYPE: "ZERO", RATE: 0.0}}


@pytest.mark.parametrize(
    ("mirror", "element", "key"),
    [
        (ACCOUNTS, {"Code": "200", "Name": "Sales", "Type": "REVENUE"}, "200"),
        (ACCOUNTS, {"Name": "Bank without a code", "Type": "BANK"}, None),
        (ACCOUNTS, {"Code": "090", "Status": "ARCHIVED"}, None),
        (THEMES, {"BrandingThemeID": "ABCD-EF", "Name": "Standard"}, "abcd-ef"),
        (THEMES, {"Name": "No id"}, None),
        (TAX_RATES, {"TaxType": "EXEMPTOUTPUT", "Status": "ACTIVE"}, "EXEMPTOUTPUT"),
    ],
)
def test_what_xero_offers_is_keyed_by_its_natural_key(
    mirror: Mirror[Any], element: JSON, key: str | None
) -> None:
    assert list(offered(mirror, [mirror.document.from_xero(element)])) == ([key] if key else [])


def test_accounts_and_themes_map_their_columns() -> None:
    account = ACCOUNTS.document.from_xero(
        {"Code": "200", "Name": "Sales", "Type": "REVENUE", "TaxType": "OUTPUT2"}
    )
    theme = THEMES.document.from_xero({"BrandingThemeID": "ABCD-EF", "Name": "Standard"})

    assert offered(ACCOUNTS, [account])["200"] == {
        XeroAccountColumns.NAME: "Sales",
        XeroAccountColumns.CODE: "200",
        XeroAccountColumns.ACCOUNT_TYPE: "REVENUE",
        XeroAccountColumns.TAX_TYPE: "OUTPUT2",
    }
    assert offered(THEMES, [theme])["abcd-ef"] == {
        BrandingThemeColumns.NAME: "Standard",
        BrandingThemeColumns.BRANDING_THEME_ID: "abcd-ef",
    }


def test_of_duplicate_rows_the_first_is_kept() -> None:
    first, second = rate_row(), rate_row(**{TaxRateColumns.ID: "row-2"})
    assert by_key(TAX_RATES, [first, second]) == {"OUTPUT2": first}


def test_reference_rows_states_are_the_tables_active_and_inactive_codes() -> None:
    assert {Common.STATE: 0, Common.STATUS: RowStatus.ACTIVE.value} == ACTIVE
    assert INACTIVE == {Common.STATE: 1, Common.STATUS: 2}
