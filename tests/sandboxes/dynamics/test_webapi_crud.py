"""Web API writes: create/update/upsert/delete, ETags, binds, errors, invoice rules."""

from __future__ import annotations

from typing import Any

from .conftest import Sandbox

Dv = tuple[Sandbox, dict[str, str]]


def _first(sandbox: Sandbox, headers: dict[str, str], query: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = sandbox.http.get(
        f"{sandbox.api()}/{query}", headers=headers
    ).json()["value"]
    return rows[0]


def test_create_answers_204_with_entity_id(dv: Dv) -> None:
    sandbox, headers = dv
    response = sandbox.http.post(
        f"{sandbox.api()}/accounts", json={"name": "Tailspin Toys"}, headers=headers
    )
    assert response.status_code == 204
    assert response.content == b""
    location = response.headers["OData-EntityId"]
    assert location.startswith(f"{sandbox.api()}/accounts(")
    row = sandbox.http.get(location, headers=headers).json()
    assert row["name"] == "Tailspin Toys"
    assert row["@odata.etag"].startswith('W/"')
    assert row["statecode"] == 0
    assert row["statuscode"] == 1


def test_return_representation(dv: Dv) -> None:
    sandbox, headers = dv
    response = sandbox.http.post(
        f"{sandbox.api()}/accounts?$select=name",
        json={"name": "Litware"},
        headers={**headers, "Prefer": "return=representation"},
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Litware"
    assert "return=representation" in response.headers["Preference-Applied"]


def test_update_upsert_etags_and_delete(dv: Dv) -> None:
    sandbox, headers = dv
    location = sandbox.http.post(
        f"{sandbox.api()}/accounts", json={"name": "A"}, headers=headers
    ).headers["OData-EntityId"]
    etag = sandbox.http.get(location, headers=headers).json()["@odata.etag"]
    assert (
        sandbox.http.patch(
            location, json={"name": "B"}, headers={**headers, "If-Match": etag}
        ).status_code
        == 204
    )
    stale = sandbox.http.patch(location, json={"name": "C"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "0x80060882"
    create_only = sandbox.http.patch(
        location, json={"name": "D"}, headers={**headers, "If-None-Match": "*"}
    )
    assert create_only.status_code == 412
    missing = f"{sandbox.api()}/accounts(00000000-0000-0000-0000-000000000001)"
    update_only = sandbox.http.patch(
        missing, json={"name": "E"}, headers={**headers, "If-Match": "*"}
    )
    assert update_only.status_code == 404
    assert update_only.json()["error"]["code"] == "0x80040217"
    upserted = sandbox.http.patch(missing, json={"name": "E"}, headers=headers)
    assert upserted.status_code == 204
    assert sandbox.http.get(missing, headers=headers).json()["name"] == "E"
    assert sandbox.http.delete(location, headers=headers).status_code == 204
    gone = sandbox.http.get(location, headers=headers)
    assert gone.status_code == 404
    assert gone.json() == {
        "error": {"code": "0x80040217", "message": gone.json()["error"]["message"]}
    }


def test_errors_have_dataverse_shape(dv: Dv) -> None:
    sandbox, headers = dv
    unknown = sandbox.http.post(f"{sandbox.api()}/accounts", json={"nmae": "x"}, headers=headers)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "0x80060888"
    assert "nmae" in unknown.json()["error"]["message"]
    wrong_type = sandbox.http.post(
        f"{sandbox.api()}/accounts", json={"creditlimit": "lots"}, headers=headers
    )
    assert wrong_type.status_code == 400
    assert sandbox.http.get(f"{sandbox.api()}/widgets", headers=headers).status_code == 404
    bad_filter = sandbox.http.get(f"{sandbox.api()}/accounts?$filter=name eq", headers=headers)
    assert bad_filter.status_code == 400
    assert sandbox.http.get(f"{sandbox.api()}/WhoAmI").status_code == 401


def test_bind_lookups_case_sensitive(dv: Dv) -> None:
    sandbox, headers = dv
    account = _first(sandbox, headers, "accounts?$select=name&$top=1")
    good = {"name": "Bound", "customerid_account@odata.bind": f"/accounts({account['accountid']})"}
    response = sandbox.http.post(
        f"{sandbox.api()}/invoices",
        json=good,
        headers={**headers, "Prefer": "return=representation"},
    )
    assert response.status_code == 201
    assert response.json()["_customerid_value"] == account["accountid"]
    bad = {"name": "Bound", "CustomerId_Account@odata.bind": f"/accounts({account['accountid']})"}
    error = sandbox.http.post(f"{sandbox.api()}/invoices", json=bad, headers=headers)
    assert error.status_code == 400
    assert "undeclared property 'CustomerId_Account'" in error.json()["error"]["message"]
    missing = {
        "name": "x",
        "customerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-000000000009)",
    }
    assert (
        sandbox.http.post(f"{sandbox.api()}/invoices", json=missing, headers=headers).status_code
        == 404
    )


def test_invoice_lines_totals_and_states(dv: Dv) -> None:
    sandbox, headers = dv
    account = _first(sandbox, headers, "accounts?$top=1")
    invoice = sandbox.http.post(
        f"{sandbox.api()}/invoices",
        json={"name": "New", "customerid_account@odata.bind": f"/accounts({account['accountid']})"},
        headers=headers,
    ).headers["OData-EntityId"]
    invoice_id = invoice.rsplit("(", 1)[1].rstrip(")")
    line = {
        "invoiceid@odata.bind": f"/invoices({invoice_id})",
        "isproductoverridden": True,
        "productdescription": "Write-in",
        "quantity": 2,
        "priceperunit": 50,
        "tax": 15,
    }
    assert (
        sandbox.http.post(f"{sandbox.api()}/invoicedetails", json=line, headers=headers).status_code
        == 204
    )
    row = sandbox.http.get(invoice, headers=headers).json()
    assert row["totallineitemamount"] == 100
    assert row["totaltax"] == 15
    assert row["totalamount"] == 115
    assert row["invoicenumber"].startswith("INV-")
    mismatch = sandbox.http.patch(invoice, json={"statuscode": 100001}, headers=headers)
    assert mismatch.status_code == 400
    paid = sandbox.http.patch(invoice, json={"statecode": 2, "statuscode": 100001}, headers=headers)
    assert paid.status_code == 204
    locked = sandbox.http.patch(invoice, json={"description": "late edit"}, headers=headers)
    assert locked.status_code == 400
    assert (
        sandbox.http.post(f"{sandbox.api()}/invoicedetails", json=line, headers=headers).status_code
        == 400
    )
    reopened = sandbox.http.patch(invoice, json={"statecode": 0, "statuscode": 1}, headers=headers)
    assert reopened.status_code == 204
    assert (
        sandbox.http.patch(invoice, json={"description": "ok now"}, headers=headers).status_code
        == 204
    )
    canceled = sandbox.http.patch(
        invoice, json={"statecode": 3}, headers={**headers, "Prefer": "return=representation"}
    )
    assert canceled.json()["statuscode"] == 100003


def test_delete_invoice_cascades_to_lines(dv: Dv) -> None:
    sandbox, headers = dv
    invoice = _first(
        sandbox,
        headers,
        "invoices?$filter=invoicenumber eq 'INV-1001'"
        "&$expand=invoice_details($select=invoicedetailid)",
    )
    assert (
        sandbox.http.delete(
            f"{sandbox.api()}/invoices({invoice['invoiceid']})", headers=headers
        ).status_code
        == 204
    )
    line_id = invoice["invoice_details"][0]["invoicedetailid"]
    assert (
        sandbox.http.get(f"{sandbox.api()}/invoicedetails({line_id})", headers=headers).status_code
        == 404
    )


def test_privileges_can_be_denied_and_listed(dv: Dv) -> None:
    sandbox, headers = dv
    sandbox.http.put(
        f"{sandbox.base}/sandbox-admin/orgs/demo/privileges/{sandbox.settings.demo_user}",
        json={"denied": ["prvWriteInvoice"]},
    )
    invoice = _first(sandbox, headers, "invoices?$filter=statecode eq 0&$top=1")
    denied = sandbox.http.patch(
        f"{sandbox.api()}/invoices({invoice['invoiceid']})",
        json={"description": "x"},
        headers=headers,
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "0x80040220"
    assert "prvWriteInvoice" in denied.json()["error"]["message"]
    user_id = sandbox.http.get(f"{sandbox.api()}/WhoAmI", headers=headers).json()["UserId"]
    privileges = sandbox.http.get(
        f"{sandbox.api()}/systemusers({user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()",
        headers=headers,
    ).json()["RolePrivileges"]
    names = {p["PrivilegeName"] for p in privileges}
    assert "prvReadInvoice" in names
    assert "prvWriteInvoice" not in names


def test_create_multiple(dv: Dv) -> None:
    sandbox, headers = dv
    response = sandbox.http.post(
        f"{sandbox.api()}/accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"name": "One"}, {"name": "Two"}]},
        headers=headers,
    )
    assert response.status_code == 200
    assert len(response.json()["Ids"]) == 2
