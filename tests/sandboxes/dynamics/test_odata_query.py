"""OData queries: $select, $filter, $orderby, $top, $count, $expand, paging, annotations."""

from __future__ import annotations

from typing import Any

from .conftest import Sandbox

Dv = tuple[Sandbox, dict[str, str]]


def _values(
    sandbox: Sandbox, headers: dict[str, str], query: str, **extra: str
) -> list[dict[str, Any]]:
    response = sandbox.http.get(f"{sandbox.api()}/{query}", headers={**headers, **extra})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["value"]
    return rows


def test_select_returns_only_selected_plus_key(dv: Dv) -> None:
    sandbox, headers = dv
    row = _values(sandbox, headers, "accounts?$select=name&$top=1")[0]
    assert set(row) == {"@odata.etag", "name", "accountid"}


def test_filters(dv: Dv) -> None:
    sandbox, headers = dv

    def numbers(q: str) -> list[str]:
        return sorted(
            r["invoicenumber"]
            for r in _values(sandbox, headers, f"invoices?$select=invoicenumber&$filter={q}")
        )

    assert numbers("statecode eq 2") == ["INV-1005", "INV-1006"]
    assert numbers("statecode eq 2 and statuscode eq 100002") == ["INV-1006"]
    assert numbers("statecode eq 3 or (statecode eq 2 and statuscode ne 100002)") == [
        "INV-1005",
        "INV-1007",
    ]
    assert numbers("not (statecode eq 0)") == ["INV-1005", "INV-1006", "INV-1007"]
    assert numbers("_pricelevelid_value eq null") == ["INV-1004"]
    assert numbers("totalamount gt 5000") == ["INV-1008"]
    assert numbers("contains(name,'PAID')") == ["INV-1005", "INV-1006"]
    assert numbers("startswith(invoicenumber,'INV-100') and endswith(invoicenumber,'8')") == [
        "INV-1008"
    ]
    today = sandbox.clock.now().date().isoformat()
    assert "INV-1003" not in numbers(f"datedelivered le {today}")
    assert numbers(f"datedelivered gt {today}") == ["INV-1003"]
    assert len(numbers(f"createdon le {sandbox.clock.now().strftime('%Y-%m-%dT%H:%M:%SZ')}")) == 8
    account = _values(sandbox, headers, "accounts?$select=name&$filter=name eq 'fabrikam ltd'")[0]
    assert numbers(f"_customerid_value eq {account['accountid']}") == ["INV-1003", "INV-1007"]


def test_orderby_top_count(dv: Dv) -> None:
    sandbox, headers = dv
    response = sandbox.http.get(
        f"{sandbox.api()}/invoices?$select=invoicenumber,totalamount"
        "&$orderby=totalamount desc&$top=3&$count=true",
        headers=headers,
    ).json()
    amounts = [r["totalamount"] for r in response["value"]]
    assert amounts == sorted(amounts, reverse=True)
    assert len(amounts) == 3
    assert response["@odata.count"] == 8


def test_expand_single_and_collection_with_nested_options(dv: Dv) -> None:
    sandbox, headers = dv
    row = _values(
        sandbox,
        headers,
        "invoices?$select=name&$filter=invoicenumber eq 'INV-1001'"
        "&$expand=invoice_details($select=productdescription,quantity,lineitemnumber;"
        "$filter=quantity gt 0;$orderby=lineitemnumber desc;$top=2),"
        "customerid_account($select=name),pricelevelid($select=name)",
    )[0]
    assert row["customerid_account"]["name"] == "Contoso Pharmaceuticals (NZ)"
    assert row["pricelevelid"]["name"] == "Retail NZD"
    lines = row["invoice_details"]
    assert [line["lineitemnumber"] for line in lines] == [3, 2]
    assert set(lines[0]) == {
        "@odata.etag",
        "productdescription",
        "quantity",
        "lineitemnumber",
        "invoicedetailid",
    }
    contact_invoice = _values(
        sandbox,
        headers,
        "invoices?$filter=invoicenumber eq 'INV-1002'"
        "&$expand=customerid_contact($select=fullname),customerid_account($select=name)",
    )[0]
    assert contact_invoice["customerid_contact"]["fullname"] == "Yvonne McKay"
    assert contact_invoice["customerid_account"] is None
    bad = sandbox.http.get(f"{sandbox.api()}/invoices?$expand=Invoice_Details", headers=headers)
    assert bad.status_code == 400


def test_demo_lines_cover_existing_write_in_and_note(dv: Dv) -> None:
    sandbox, headers = dv
    lines = _values(
        sandbox, headers, "invoices?$filter=invoicenumber eq 'INV-1001'&$expand=invoice_details"
    )[0]["invoice_details"]
    existing = [line for line in lines if not line["isproductoverridden"]]
    write_in = [line for line in lines if line["isproductoverridden"]]
    assert existing
    assert all(line["_productid_value"] for line in existing)
    assert any(
        line["quantity"] == 0 and line["priceperunit"] == 0 and line["productdescription"]
        for line in write_in
    )


def test_formatted_values_and_lookup_annotations(dv: Dv) -> None:
    sandbox, headers = dv
    row = _values(
        sandbox,
        headers,
        "invoices?$select=statecode,totalamount,_customerid_value,datedelivered"
        "&$filter=invoicenumber eq 'INV-1005'",
        Prefer='odata.include-annotations="OData.Community.Display.V1.FormattedValue"',
    )[0]
    assert row["statecode@OData.Community.Display.V1.FormattedValue"] == "Paid"
    assert row["totalamount@OData.Community.Display.V1.FormattedValue"].startswith("NZ$")
    assert (
        row["_customerid_value@OData.Community.Display.V1.FormattedValue"]
        == "Adventure Works Cycles"
    )
    assert "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname" not in row
    row = _values(
        sandbox,
        headers,
        "invoices?$select=_customerid_value&$top=1",
        Prefer='odata.include-annotations="*"',
    )[0]
    assert row["_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"


def test_paging_with_maxpagesize_and_next_link(dv: Dv) -> None:
    sandbox, headers = dv
    prefer = {**headers, "Prefer": "odata.maxpagesize=3"}
    response = sandbox.http.get(f"{sandbox.api()}/invoices?$select=invoicenumber", headers=prefer)
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=3"
    seen = []
    body = response.json()
    while True:
        seen += [r["invoicenumber"] for r in body["value"]]
        if "@odata.nextLink" not in body:
            break
        assert len(body["value"]) == 3
        body = sandbox.http.get(body["@odata.nextLink"], headers=prefer).json()
    assert len(seen) == len(set(seen)) == 8
    capped = sandbox.http.get(
        f"{sandbox.api()}/invoices?$select=name",
        headers={**headers, "Prefer": "odata.maxpagesize=9000"},
    )
    assert capped.headers["Preference-Applied"] == "odata.maxpagesize=5000"


def test_mounted_under_a_prefix_builds_prefixed_urls() -> None:
    import httpx
    from dynamics_sandbox.app import create_app
    from dynamics_sandbox.settings import DynamicsSandboxSettings
    from fastapi import FastAPI

    from tests.support.http_server import serve_in_thread

    outer = FastAPI()
    outer.mount(
        "/sandbox/dynamics",
        create_app(
            DynamicsSandboxSettings(token_signing_key="mounted-signing-key-0123456789abcdef")
        ),
    )
    with serve_in_thread(outer) as root, httpx.Client() as http:
        sandbox = Sandbox(f"{root}/sandbox/dynamics", outer.routes[-1].app, None, http)  # type: ignore[attr-defined,arg-type]
        headers = sandbox.headers(Prefer="odata.maxpagesize=1")
        body = http.get(f"{sandbox.api()}/accounts?$select=name", headers=headers).json()
        assert body["@odata.context"].startswith(
            f"{root}/sandbox/dynamics/orgs/demo/api/data/v9.2/$metadata#"
        )
        assert body["@odata.nextLink"].startswith(
            f"{root}/sandbox/dynamics/orgs/demo/api/data/v9.2/accounts?"
        )
        created = http.post(f"{sandbox.api()}/accounts", json={"name": "Mounted"}, headers=headers)
        assert created.headers["OData-EntityId"].startswith(f"{root}/sandbox/dynamics/orgs/demo/")
