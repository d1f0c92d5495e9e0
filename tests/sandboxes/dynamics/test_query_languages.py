"""Nothing silently ignored: unknown parameters refused, fetchXml and SQL really filter,
boolean literals, lambda operators, query functions, /$count and $metadata."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from dynamics_sandbox import webapi

from .conftest import Sandbox

Dv = tuple[Sandbox, dict[str, str]]
NO_SUCH_COLUMN = "<fetch><entity name='invoice'><attribute name='nosuch'/></entity></fetch>"


def _get(sandbox: Sandbox, headers: dict[str, str], query: str, **extra: str) -> Any:
    return sandbox.http.get(f"{sandbox.api()}/{query}", headers={**headers, **extra})


def _numbers(sandbox: Sandbox, headers: dict[str, str], query: str) -> list[str]:
    response = _get(sandbox, headers, query)
    assert response.status_code == 200, response.text
    return sorted(r["invoicenumber"] for r in response.json()["value"])


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("accounts?$skip=2", "0x80060888", "The query parameter $skip is not supported"),
        ("accounts?utm_source=x", "0x0", "The query parameter utm_source is not supported"),
        ("accounts(00000000-0000-0000-0000-000000000001)/name?$top=1", "0x80060888", None),
        ("EntityDefinitions?$top=1", "0x80060888", "The query parameter $top is not supported"),
    ],
)
def test_unknown_query_parameters_are_refused(
    dv: Dv, query: str, code: str, message: str | None
) -> None:
    sandbox, headers = dv
    response = _get(sandbox, headers, query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    if message:
        assert response.json()["error"]["message"] == message


def test_writes_refuse_query_parameters_they_do_not_read(dv: Dv) -> None:
    sandbox, headers = dv
    response = sandbox.http.post(
        f"{sandbox.api()}/accounts?$filter=name eq 'x'", json={"name": "x"}, headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The query parameter $filter is not supported"


def test_boolean_and_null_literals(dv: Dv) -> None:
    sandbox, headers = dv
    overridden = _get(
        sandbox,
        headers,
        "invoicedetails?$select=isproductoverridden&$filter=isproductoverridden eq true",
    ).json()["value"]
    existing = _get(
        sandbox,
        headers,
        "invoicedetails?$select=isproductoverridden&$filter=isproductoverridden eq false",
    ).json()["value"]
    assert overridden
    assert existing
    assert all(r["isproductoverridden"] for r in overridden)
    assert not any(r["isproductoverridden"] for r in existing)
    mismatch = _get(sandbox, headers, "invoicedetails?$filter=isproductoverridden eq 1")
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["code"] == "0x80060888"


def test_lambda_operators(dv: Dv) -> None:
    sandbox, headers = dv
    base = "invoices?$select=invoicenumber&$filter="
    with_big_line = _numbers(sandbox, headers, base + "invoice_details/any(d:d/quantity gt 9)")
    every_line_big = _numbers(sandbox, headers, base + "invoice_details/all(d:d/quantity gt 9)")
    with_lines = _numbers(sandbox, headers, base + "invoice_details/any()")
    everything = _numbers(sandbox, headers, "invoices?$select=invoicenumber")
    assert set(every_line_big) <= set(everything)
    assert set(with_big_line) < set(with_lines) <= set(everything)
    unknown = _get(sandbox, headers, base + "invoice_details/any(d:d/nosuch eq 1)")
    assert unknown.status_code == 400


def test_query_functions(dv: Dv) -> None:
    sandbox, headers = dv
    base = "invoices?$select=invoicenumber&$filter=Microsoft.Dynamics.CRM."
    assert _numbers(
        sandbox,
        headers,
        base + "In(PropertyName='invoicenumber',PropertyValues=['INV-1001','INV-1003'])",
    ) == ["INV-1001", "INV-1003"]
    assert "INV-1001" not in _numbers(
        sandbox, headers, base + "NotIn(PropertyName='invoicenumber',PropertyValues=['INV-1001'])"
    )
    big = _numbers(sandbox, headers, "invoices?$select=invoicenumber&$filter=totalamount gt 5000")
    assert (
        _numbers(
            sandbox,
            headers,
            base + "Between(PropertyName='totalamount',PropertyValues=['5000.01','999999'])",
        )
        == big
    )
    assert len(_numbers(sandbox, headers, base + "Today(PropertyName='createdon')")) == 8
    assert _numbers(sandbox, headers, base + "Yesterday(PropertyName='createdon')") == []
    assert (
        len(
            _numbers(sandbox, headers, base + "LastXDays(PropertyName='createdon',PropertyValue=3)")
        )
        == 8
    )
    unknown = _get(sandbox, headers, base + "Nope(PropertyName='createdon')")
    assert unknown.status_code == 400
    assert "An unknown function with name 'Microsoft.Dynamics.CRM.Nope'" in unknown.text
    fiscal = _get(sandbox, headers, base + "ThisFiscalYear(PropertyName='createdon')")
    assert fiscal.status_code == 400


def test_parameter_aliases(dv: Dv) -> None:
    sandbox, headers = dv
    assert _numbers(
        sandbox,
        headers,
        "invoices?$select=invoicenumber&$filter=invoicenumber eq @p1&@p1='INV-1002'",
    ) == ["INV-1002"]


def test_fetch_xml_filters_orders_pages_and_joins(dv: Dv) -> None:
    sandbox, headers = dv
    fetch = (
        "<fetch count='2' {page}><entity name='invoice'><attribute name='invoicenumber'/>"
        "<attribute name='totalamount'/><order attribute='invoicenumber'/>"
        "<filter type='and'><condition attribute='statecode' operator='eq' value='0'/>"
        "<condition attribute='invoicenumber' operator='like' value='INV-%'/></filter>"
        "<link-entity name='account' from='accountid' to='customerid' alias='a'>"
        "<attribute name='name'/></link-entity></entity></fetch>"
    )
    prefer = (
        'odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,'
        'Microsoft.Dynamics.CRM.morerecords"'
    )
    first = _get(
        sandbox, headers, f"invoices?fetchXml={fetch.format(page='')}", Prefer=prefer
    ).json()
    assert len(first["value"]) == 2
    assert set(first["value"][0]) == {
        "@odata.etag",
        "invoicenumber",
        "totalamount",
        "invoiceid",
        "a.name",
    }
    assert first["@Microsoft.Dynamics.CRM.morerecords"] is True
    assert "pagingcookie=" in first["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"]
    second = _get(
        sandbox, headers, "invoices?fetchXml=" + fetch.format(page="page='2'"), Prefer=prefer
    ).json()
    numbers = [r["invoicenumber"] for r in first["value"] + second["value"]]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 4
    without_annotations = _get(
        sandbox, headers, f"invoices?fetchXml={fetch.format(page='')}"
    ).json()
    assert "@Microsoft.Dynamics.CRM.morerecords" not in without_annotations


def test_fetch_xml_refuses_what_it_does_not_emulate(dv: Dv) -> None:
    sandbox, headers = dv
    for fetch in (
        "<fetch aggregate='true'><entity name='invoice'>"
        "<attribute name='totalamount' aggregate='sum' alias='t'/></entity></fetch>",
        "<fetch><entity name='invoice'><filter>"
        "<condition attribute='name' operator='under' value='x'/></filter></entity></fetch>",
        NO_SUCH_COLUMN,
        "<fetch><entity name='account'/></fetch>",
        "<fetch",
    ):
        response = _get(sandbox, headers, f"invoices?fetchXml={fetch}")
        assert response.status_code == 400, fetch
        assert "error" in response.json()
    missing = _get(
        sandbox,
        headers,
        f"invoices?fetchXml={NO_SUCH_COLUMN}",
    )
    assert missing.json()["error"]["code"] == "0x80041103"


def test_sql_selects_only_matching_rows_and_columns(dv: Dv) -> None:
    sandbox, headers = dv
    sql = (
        "SELECT TOP 2 invoicenumber, totalamount FROM invoice "
        "WHERE statecode = 0 AND invoicenumber LIKE 'INV-%' ORDER BY invoicenumber DESC"
    )
    rows = _get(sandbox, headers, f"invoices?sql={sql}").json()["value"]
    assert len(rows) == 2
    assert set(rows[0]) == {"@odata.etag", "invoicenumber", "totalamount", "invoiceid"}
    assert rows[0]["invoicenumber"] > rows[1]["invoicenumber"]
    in_list = _get(
        sandbox,
        headers,
        "invoices?sql=SELECT invoicenumber FROM invoice i "
        "WHERE i.invoicenumber IN ('INV-1001', 'INV-1002')",
    ).json()["value"]
    assert sorted(r["invoicenumber"] for r in in_list) == ["INV-1001", "INV-1002"]
    for refused in (
        "SELECT * FROM invoice",
        "SELECT COUNT(invoiceid) FROM invoice",
        "SELECT name FROM invoice i JOIN account a ON a.accountid = i.customerid",
        "SELECT name FROM account",
    ):
        assert _get(sandbox, headers, f"invoices?sql={refused}").status_code == 400, refused


def test_count_segment_and_count_option(dv: Dv) -> None:
    sandbox, headers = dv
    total = _get(sandbox, headers, "invoices/$count")
    assert total.status_code == 200
    assert total.headers["content-type"].startswith("text/plain")
    assert total.text == "8"
    assert _get(sandbox, headers, "invoices/$count?$filter=statecode eq 2").text == "2"
    counted = _get(sandbox, headers, "invoices?$select=name&$count=true&$top=1").json()
    assert counted["@odata.count"] == 8
    assert len(counted["value"]) == 1


def test_nested_expand_options(dv: Dv) -> None:
    sandbox, headers = dv
    row = _get(
        sandbox,
        headers,
        "accounts?$select=name&$filter=name eq 'Fabrikam Ltd'&$expand=contact_customer_accounts("
        "$select=fullname;$orderby=fullname;$top=1;$expand=parentcustomerid_account($select=name))",
    ).json()["value"][0]
    contacts = row["contact_customer_accounts"]
    assert len(contacts) <= 1
    for contact in contacts:
        assert contact["parentcustomerid_account"]["name"] == "Fabrikam Ltd"
    refused = _get(sandbox, headers, "invoices?$expand=customerid_account($top=1)")
    assert refused.status_code == 400


def test_metadata_document_describes_every_table(dv: Dv) -> None:
    sandbox, headers = dv
    response = _get(sandbox, headers, "$metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    edm = "{http://docs.oasis-open.org/odata/ns/edm}"
    root = ET.fromstring(response.content)
    schema = root.find(f".//{edm}Schema")
    assert schema is not None
    assert schema.get("Namespace") == "Microsoft.Dynamics.CRM"
    types = {t.get("Name"): t for t in schema.findall(f"{edm}EntityType")}
    invoice = types["invoice"]
    key = invoice.find(f"{edm}Key/{edm}PropertyRef")
    assert key is not None
    assert key.get("Name") == "invoiceid"
    properties = {p.get("Name"): p.get("Type") for p in invoice.findall(f"{edm}Property")}
    assert properties["totalamount"] == "Edm.Decimal"
    assert properties["_customerid_value"] == "Edm.Guid"
    navs = {n.get("Name"): n.get("Type") for n in invoice.findall(f"{edm}NavigationProperty")}
    assert navs["invoice_details"] == "Collection(mscrm.invoicedetail)"
    assert navs["customerid_account"] == "mscrm.account"
    sets = {s.get("Name") for s in schema.findall(f"{edm}EntityContainer/{edm}EntitySet")}
    assert {"invoices", "accounts", "invoicedetails"} <= sets


def test_unexpected_errors_answer_in_dataverse_shape(
    dv: Dv, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, headers = dv

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(webapi.WebApi, "who_am_i", broken)
    response = _get(sandbox, headers, "WhoAmI")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "0x80040216"
