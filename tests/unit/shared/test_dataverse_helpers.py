"""DataverseClient's pure helpers (bulk filters, chunks, value comparison, PATCH operations)
and the typed Dynamics columns."""

from __future__ import annotations

from typing import Any

import pytest
from dxc_shared.clients.dataverse import (
    LOOKUP_CHUNK,
    BatchOperation,
    changed_columns,
    chunks,
    or_filter,
    same_value,
)
from dxc_shared.dynamics import schema
from dxc_shared.dynamics.columns import (
    AccountColumns,
    ConnectorColumns,
    ContactColumns,
    InvoiceColumns,
    InvoiceLineColumns,
    SettingsColumns,
    TaxRateColumns,
)

pytestmark = pytest.mark.unit

GUID = "8F6A0B52-1C3D-4E5F-9A7B-0C1D2E3F4A5B"


@pytest.mark.parametrize(
    ("column", "values", "guid", "expected"),
    [
        ("name", ["Contoso"], False, "name eq 'Contoso'"),
        ("name", ["O'Brien Ltd"], False, "name eq 'O''Brien Ltd'"),
        ("code", ["200", "210"], False, "code eq '200' or code eq '210'"),
        ("accountid", [GUID], True, f"accountid eq {GUID.lower()}"),
        ("accountid", ["{" + GUID + "}"], True, f"accountid eq {GUID.lower()}"),
        ("accountid", [GUID.replace("-", "")], True, f"accountid eq {GUID.lower()}"),
        ("name", [], False, ""),
    ],
)
def test_or_filter(column: str, values: list[str], guid: bool, expected: str) -> None:
    assert or_filter(column, values, guid=guid) == expected


def test_a_guid_filter_refuses_what_is_not_an_id() -> None:
    with pytest.raises(ValueError, match="badly formed"):
        or_filter("accountid", ["1 eq 1 or name"], guid=True)


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, []),
        (1, [1]),
        (LOOKUP_CHUNK, [LOOKUP_CHUNK]),
        (LOOKUP_CHUNK + 1, [LOOKUP_CHUNK, 1]),
        (120, [50, 50, 20]),
    ],
)
def test_chunks_keep_each_query_to_fifty_values(count: int, sizes: list[int]) -> None:
    values = [str(number) for number in range(count)]

    parts = list(chunks(values))

    assert [len(part) for part in parts] == sizes
    assert [value for part in parts for value in part] == values


@pytest.mark.parametrize(
    ("current", "wanted", "same"),
    [
        (115, 115.0, True),
        ("115.00", 115, True),
        (115.00004, 115, True),
        (115.0001, 115, False),
        (None, 0, False),
        ("n/a", 1, False),
        (0, False, True),  # booleans compare as they are: 0 == False
        (True, True, True),
        ("PAID", "PAID", True),
        ("paid", "PAID", False),
        (None, None, True),
        ("x", None, False),
    ],
)
def test_same_value(current: Any, wanted: Any, same: bool) -> None:
    assert same_value(current, wanted) is same


def test_changed_columns_are_those_that_differ_or_are_missing() -> None:
    row = {"a": 1.0, "b": "x", "c": None}
    wanted = {"a": 1, "b": "y", "c": None, "d": 2}

    assert changed_columns(row, wanted) == {"b": "y", "d": 2}


@pytest.mark.parametrize(
    ("if_match", "header"), [(None, "*"), ('W/"7"', 'W/"7"')], ids=["update only", "with ETag"]
)
def test_a_patch_never_creates_a_row(if_match: str | None, header: str) -> None:
    arguments = {} if if_match is None else {"if_match": if_match}

    operation = BatchOperation.patch("invoices", "d1", {"name": "x"}, **arguments)

    assert operation == BatchOperation("PATCH", "invoices(d1)", {"name": "x"}, {"If-Match": header})


@pytest.mark.parametrize(
    ("name", "logical"),
    [
        (InvoiceColumns.XERO_INVOICE_ID, "dxc_xeroinvoiceid"),
        (InvoiceColumns.AMOUNT_DUE, "dxc_amountdue"),
        (InvoiceColumns.CONNECTOR, "_dxc_connectorid_value"),
        (InvoiceColumns.ID, "invoiceid"),
        (InvoiceLineColumns.TAX_RATE, "_dxc_taxrateid_value"),
        (AccountColumns.XERO_CONTACT_ID, ContactColumns.XERO_CONTACT_ID),
        (AccountColumns.ID, "accountid"),
        (ConnectorColumns.CONNECTION_ID, "dxc_connectionid"),
        (SettingsColumns.CREATE_CREDIT_NOTES, "dxc_createcreditnotes"),
        (TaxRateColumns.NAME, "dxc_name"),
    ],
)
def test_column_names_are_the_schemas_logical_names(name: str, logical: str) -> None:
    assert name == logical


def test_a_column_the_schema_does_not_declare_fails_at_once() -> None:
    with pytest.raises(KeyError, match="dxc_XeroInvoiceID"):
        schema.INVOICE.column("dxc_XeroInvoiceID")
    with pytest.raises(KeyError):
        schema.ACCOUNT.column("dxc_Name")  # a standard table's name is not the connector's
