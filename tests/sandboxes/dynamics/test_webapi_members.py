"""Single properties, $ref, alternate keys, impersonation, and changing or deleting table and
column definitions."""

from __future__ import annotations

from typing import Any

from .conftest import Sandbox
from .test_metadata import CONNECTOR_TABLE, install

Dv = tuple[Sandbox, dict[str, str]]


def _create(sandbox: Sandbox, headers: dict[str, str], entity_set: str, body: Any) -> str:
    response = sandbox.http.post(f"{sandbox.api()}/{entity_set}", json=body, headers=headers)
    assert response.status_code == 204, response.text
    url: str = response.headers["OData-EntityId"]
    return url


def test_single_property_get_put_delete(dv: Dv) -> None:
    sandbox, headers = dv
    account = _create(sandbox, headers, "accounts", {"name": "Props Ltd", "telephone1": "1"})
    name = sandbox.http.get(f"{account}/name", headers=headers)
    assert name.status_code == 200
    assert name.json()["value"] == "Props Ltd"
    assert name.json()["@odata.context"].endswith("/name")
    raw = sandbox.http.get(f"{account}/name/$value", headers=headers)
    assert raw.text == "Props Ltd"
    assert raw.headers["content-type"].startswith("text/plain")
    put = sandbox.http.put(f"{account}/telephone1", json={"value": "2"}, headers=headers)
    assert put.status_code == 204
    assert sandbox.http.get(f"{account}/telephone1", headers=headers).json()["value"] == "2"
    assert sandbox.http.delete(f"{account}/telephone1", headers=headers).status_code == 204
    assert sandbox.http.get(f"{account}/telephone1", headers=headers).status_code == 204
    assert sandbox.http.get(f"{account}/nosuch", headers=headers).status_code == 400


def test_ref_associates_and_disassociates(dv: Dv) -> None:
    sandbox, headers = dv
    account = _create(sandbox, headers, "accounts", {"name": "Ref Co"})
    contact = _create(sandbox, headers, "contacts", {"lastname": "Referenced"})
    contact_id = contact.rsplit("(", 1)[1].rstrip(")")
    put = sandbox.http.put(
        f"{account}/primarycontactid/$ref", json={"@odata.id": contact}, headers=headers
    )
    assert put.status_code == 204
    assert sandbox.http.get(f"{account}/_primarycontactid_value", headers=headers).json()[
        "value"
    ] == (contact_id)
    assert (
        sandbox.http.delete(f"{account}/primarycontactid/$ref", headers=headers).status_code == 204
    )
    assert (
        sandbox.http.get(f"{account}/_primarycontactid_value", headers=headers).status_code == 204
    )
    post = sandbox.http.post(
        f"{account}/contact_customer_accounts/$ref", json={"@odata.id": contact}, headers=headers
    )
    assert post.status_code == 204
    children = sandbox.http.get(f"{account}/contact_customer_accounts", headers=headers).json()
    assert [c["contactid"] for c in children["value"]] == [contact_id]
    removed = sandbox.http.delete(
        f"{account}/contact_customer_accounts({contact_id})/$ref", headers=headers
    )
    assert removed.status_code == 204
    assert (
        sandbox.http.get(f"{account}/contact_customer_accounts", headers=headers).json()["value"]
        == []
    )


def test_alternate_keys(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    undefined = sandbox.http.get(f"{api}/accounts(accountnumber='A1')", headers=headers)
    assert undefined.status_code == 400
    key = sandbox.http.post(
        f"{api}/EntityDefinitions(LogicalName='account')/Keys",
        json={"SchemaName": "new_AccountNumberKey", "KeyAttributes": ["accountnumber"]},
        headers=headers,
    )
    assert key.status_code == 204, key.text
    keys = sandbox.http.get(
        f"{api}/EntityDefinitions(LogicalName='account')/Keys", headers=headers
    ).json()["value"]
    assert keys[0]["KeyAttributes"] == ["accountnumber"]
    missing = sandbox.http.get(f"{api}/accounts(accountnumber='A1')", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == (
        "A record with the specified key values does not exist in account entity"
    )
    upserted = sandbox.http.patch(
        f"{api}/accounts(accountnumber='A1')", json={"name": "Keyed"}, headers=headers
    )
    assert upserted.status_code == 204
    found = sandbox.http.get(f"{api}/accounts(accountnumber='A1')?$select=name", headers=headers)
    assert found.json()["name"] == "Keyed"
    duplicate = sandbox.http.post(
        f"{api}/accounts", json={"name": "Twin", "accountnumber": "A1"}, headers=headers
    )
    assert duplicate.status_code == 412
    assert duplicate.json()["error"]["code"] == "0x80060892"


def test_impersonation_acts_as_the_named_user(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    other = sandbox.add_user("pat@contoso-demo.example", ["demo"])
    who = sandbox.http.get(
        f"{api}/WhoAmI", headers={**headers, "CallerObjectId": other["object_id"]}
    )
    assert who.status_code == 200, who.text
    me = sandbox.http.get(f"{api}/WhoAmI", headers=headers).json()["UserId"]
    assert who.json()["UserId"] != me
    by_user_id = sandbox.http.get(
        f"{api}/WhoAmI", headers={**headers, "MSCRMCallerID": who.json()["UserId"]}
    )
    assert by_user_id.json()["UserId"] == who.json()["UserId"]
    sandbox.http.put(
        f"{sandbox.base}/sandbox-admin/orgs/demo/privileges/pat@contoso-demo.example",
        json={"denied": ["prvReadAccount"]},
    )
    as_pat = sandbox.http.get(
        f"{api}/accounts?$top=1", headers={**headers, "CallerObjectId": other["object_id"]}
    )
    assert as_pat.status_code == 403
    batch_boundary = "batch_impersonated"
    part = (
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"GET {api}/WhoAmI HTTP/1.1\r\nMSCRMCallerID: {who.json()['UserId']}\r\n\r\n"
    )
    batch = sandbox.http.post(
        f"{api}/$batch",
        content=f"--{batch_boundary}\r\n{part}--{batch_boundary}--\r\n",
        headers={**headers, "Content-Type": f"multipart/mixed; boundary={batch_boundary}"},
    )
    assert who.json()["UserId"] in batch.text
    sandbox.http.put(
        f"{sandbox.base}/sandbox-admin/orgs/demo/privileges/{sandbox.settings.demo_user}",
        json={"denied": ["prvActOnBehalfOfAnotherUser"]},
    )
    refused = sandbox.http.get(
        f"{api}/WhoAmI", headers={**headers, "CallerObjectId": other["object_id"]}
    )
    assert refused.status_code == 403
    assert "prvActOnBehalfOfAnotherUser" in refused.json()["error"]["message"]


def test_table_and_column_definitions_update_and_delete(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    created = sandbox.http.post(f"{api}/EntityDefinitions", json=CONNECTOR_TABLE, headers=headers)
    assert created.status_code == 204, created.text
    table = created.headers["OData-EntityId"]
    column = sandbox.http.post(
        f"{table}/Attributes",
        json={
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
            "SchemaName": "dxc_Note",
            "MaxLength": 50,
            "DisplayName": {"LocalizedLabels": [{"Label": "Note", "LanguageCode": 1033}]},
        },
        headers=headers,
    )
    assert column.status_code == 204, column.text
    attribute = column.headers["OData-EntityId"]
    renamed = sandbox.http.put(
        attribute,
        json={
            "SchemaName": "dxc_Note",
            "MaxLength": 80,
            "DisplayName": {"LocalizedLabels": [{"Label": "Memo", "LanguageCode": 1033}]},
        },
        headers=headers,
    )
    assert renamed.status_code == 204
    body = sandbox.http.get(attribute, headers=headers).json()
    assert body["MaxLength"] == 80
    assert body["DisplayName"]["UserLocalizedLabel"]["Label"] == "Memo"
    assert sandbox.http.delete(attribute, headers=headers).status_code == 204
    assert sandbox.http.get(attribute, headers=headers).status_code == 404
    table_body = sandbox.http.get(table, headers=headers).json()
    for name in ("CanChangeTrackingBeEnabled", "IsManaged", "HasNotes", "HasActivities"):
        assert name in table_body
    assert table_body["IsManaged"] is False
    changed = sandbox.http.put(table, json={"HasNotes": True}, headers=headers)
    assert changed.status_code == 204
    assert sandbox.http.get(table, headers=headers).json()["HasNotes"] is True
    assert sandbox.http.delete(table, headers=headers).status_code == 204
    assert sandbox.http.get(table, headers=headers).status_code == 404
    standard = sandbox.http.delete(
        f"{api}/EntityDefinitions(LogicalName='account')", headers=headers
    )
    assert standard.status_code == 400
    assert sandbox.http.get(f"{api}/accounts?$top=1", headers=headers).status_code == 200


def test_custom_relationship_delete_removes_its_lookup(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    install(sandbox, headers)
    relationship = f"{api}/RelationshipDefinitions(SchemaName='dxc_connector_invoice')"
    # The table is referenced by the relationship: it cannot go first.
    table = f"{api}/EntityDefinitions(LogicalName='dxc_connector')"
    assert sandbox.http.delete(table, headers=headers).status_code == 400
    assert sandbox.http.delete(relationship, headers=headers).status_code == 204
    assert sandbox.http.get(relationship, headers=headers).status_code == 404
    lookup = sandbox.http.get(
        f"{api}/EntityDefinitions(LogicalName='invoice')/Attributes(LogicalName='dxc_connectorid')",
        headers=headers,
    )
    assert lookup.status_code == 404
    assert sandbox.http.delete(table, headers=headers).status_code == 204
    standard = sandbox.http.delete(
        f"{api}/RelationshipDefinitions(SchemaName='invoice_details')", headers=headers
    )
    assert standard.status_code == 400
    listing = sandbox.http.delete(
        f"{api}/EntityDefinitions(LogicalName='account')/Attributes", headers=headers
    )
    assert listing.status_code == 405
