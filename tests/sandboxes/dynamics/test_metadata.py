"""Metadata API: a client installs its own table, choice column and a lookup on invoice."""

from __future__ import annotations

from typing import Any

from .conftest import Sandbox

Dv = tuple[Sandbox, dict[str, str]]


def _label(text: str) -> dict[str, Any]:
    return {"LocalizedLabels": [{"Label": text, "LanguageCode": 1033}]}


CONNECTOR_TABLE = {
    "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata",
    "SchemaName": "dxc_Connector",
    "DisplayName": _label("Connector"),
    "DisplayCollectionName": _label("Connectors"),
    "OwnershipType": "UserOwned",
    "ChangeTrackingEnabled": True,
    "Attributes": [
        {
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
            "SchemaName": "dxc_Name",
            "IsPrimaryName": True,
            "MaxLength": 100,
            "DisplayName": _label("Name"),
        }
    ],
}
EXPORT_STATUS = {
    "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
    "SchemaName": "dxc_ExportStatus",
    "DisplayName": _label("Export status"),
    "OptionSet": {
        "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
        "IsGlobal": False,
        "OptionSetType": "Picklist",
        "Options": [
            {"Value": 100000000, "Label": _label("No")},
            {"Value": 100000001, "Label": _label("Yes")},
            {"Value": 100000002, "Label": _label("Failed")},
        ],
    },
}
LOOKUP = {
    "@odata.type": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
    "SchemaName": "dxc_connector_invoice",
    "ReferencedEntity": "dxc_connector",
    "ReferencedAttribute": "dxc_connectorid",
    "ReferencingEntity": "invoice",
    "CascadeConfiguration": {"Delete": "RemoveLink"},
    "Lookup": {
        "@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
        "AttributeType": "Lookup",
        "SchemaName": "dxc_ConnectorId",
        "DisplayName": _label("Connector"),
    },
}


def install(sandbox: Sandbox, headers: dict[str, str]) -> None:
    api = sandbox.api()
    table = sandbox.http.post(f"{api}/EntityDefinitions", json=CONNECTOR_TABLE, headers=headers)
    assert table.status_code == 204, table.text
    assert "/EntityDefinitions(" in table.headers["OData-EntityId"]
    column = sandbox.http.post(
        f"{api}/EntityDefinitions(LogicalName='invoice')/Attributes",
        json=EXPORT_STATUS,
        headers=headers,
    )
    assert column.status_code == 204, column.text
    relationship = sandbox.http.post(f"{api}/RelationshipDefinitions", json=LOOKUP, headers=headers)
    assert relationship.status_code == 204, relationship.text
    publish = sandbox.http.post(
        f"{api}/PublishXml",
        json={
            "ParameterXml": (
                "<importexportxml><entities><entity>invoice</entity></entities></importexportxml>"
            )
        },
        headers=headers,
    )
    assert publish.status_code == 204


def test_install_and_use_custom_table_choice_and_lookup(dv: Dv) -> None:
    sandbox, headers = dv
    install(sandbox, headers)
    api = sandbox.api()
    definition = sandbox.http.get(
        f"{api}/EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute"
        "&$filter=LogicalName eq 'dxc_connector'",
        headers=headers,
    ).json()["value"][0]
    assert definition["EntitySetName"] == "dxc_connectors"
    assert definition["PrimaryIdAttribute"] == "dxc_connectorid"
    assert definition["PrimaryNameAttribute"] == "dxc_name"
    connector = sandbox.http.post(
        f"{api}/dxc_connectors",
        json={"dxc_name": "Xero link"},
        headers={**headers, "Prefer": "return=representation"},
    ).json()
    invoice = sandbox.http.get(
        f"{api}/invoices?$select=invoiceid&$filter=invoicenumber eq 'INV-1001'", headers=headers
    ).json()["value"][0]
    update = {
        "dxc_exportstatus": 100000000,
        "dxc_ConnectorId@odata.bind": f"/dxc_connectors({connector['dxc_connectorid']})",
    }
    patched = sandbox.http.patch(
        f"{api}/invoices({invoice['invoiceid']})", json=update, headers=headers
    )
    assert patched.status_code == 204, patched.text
    lowercase = sandbox.http.patch(
        f"{api}/invoices({invoice['invoiceid']})",
        json={"dxc_connectorid@odata.bind": f"/dxc_connectors({connector['dxc_connectorid']})"},
        headers=headers,
    )
    assert lowercase.status_code == 400
    ready = sandbox.http.get(
        f"{api}/invoices?$select=invoicenumber,dxc_exportstatus,_dxc_connectorid_value"
        "&$filter=_dxc_connectorid_value ne null and dxc_exportstatus eq 100000000"
        "&$expand=dxc_ConnectorId($select=dxc_name)",
        headers={**headers, "Prefer": 'odata.include-annotations="*"'},
    ).json()["value"]
    assert [r["invoicenumber"] for r in ready] == ["INV-1001"]
    assert ready[0]["dxc_ConnectorId"]["dxc_name"] == "Xero link"
    assert ready[0]["dxc_exportstatus@OData.Community.Display.V1.FormattedValue"] == "No"
    children = sandbox.http.get(
        f"{api}/dxc_connectors({connector['dxc_connectorid']})?$expand=dxc_connector_invoice($select=invoicenumber)",
        headers=headers,
    ).json()
    assert [r["invoicenumber"] for r in children["dxc_connector_invoice"]] == ["INV-1001"]
    out_of_range = sandbox.http.patch(
        f"{api}/invoices({invoice['invoiceid']})", json={"dxc_exportstatus": 7}, headers=headers
    )
    assert out_of_range.status_code == 400


def test_picklist_options_readable_as_the_sdk_reads_them(dv: Dv) -> None:
    sandbox, headers = dv
    install(sandbox, headers)
    body = sandbox.http.get(
        f"{sandbox.api()}/EntityDefinitions(LogicalName='invoice')/Attributes/"
        "Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)",
        headers=headers,
    ).json()
    columns = {a["LogicalName"]: a for a in body["value"]}
    options = columns["dxc_exportstatus"]["OptionSet"]["Options"]
    assert [o["Label"]["LocalizedLabels"][0]["Label"] for o in options] == ["No", "Yes", "Failed"]
    single = sandbox.http.get(
        f"{sandbox.api()}/EntityDefinitions(LogicalName='invoice')/Attributes(LogicalName='statuscode')",
        headers=headers,
    ).json()
    assert {o["Value"] for o in single["OptionSet"]["Options"]} >= {100001, 100002, 100003}


def test_insert_option_value_adds_a_choice_to_an_existing_column(dv: Dv) -> None:
    sandbox, headers = dv
    install(sandbox, headers)

    def insert(**body: Any) -> Any:
        return sandbox.http.post(f"{sandbox.api()}/InsertOptionValue", json=body, headers=headers)

    column = {"EntityLogicalName": "invoice", "AttributeLogicalName": "dxc_exportstatus"}
    added = insert(**column, Value=100000003, Label=_label("Update in Xero"))
    assert (added.status_code, added.json()) == (200, {"NewOptionValue": 100000003})
    assert insert(**column, Label=_label("Next")).json() == {"NewOptionValue": 100000004}
    duplicate = insert(**column, Value=100000003, Label=_label("Again"))
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (400, "0x80044363")
    not_choice = insert(EntityLogicalName="invoice", AttributeLogicalName="name", Value=1)
    assert not_choice.status_code == 404
    read = sandbox.http.get(
        f"{sandbox.api()}/EntityDefinitions(LogicalName='invoice')/Attributes(LogicalName="
        "'dxc_exportstatus')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet",
        headers=headers,
    ).json()
    labels = [o["Label"]["LocalizedLabels"][0]["Label"] for o in read["OptionSet"]["Options"]]
    assert labels == ["No", "Yes", "Failed", "Update in Xero", "Next"]


def test_prefix_and_duplicates_are_enforced(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    install(sandbox, headers)
    no_prefix = {**CONNECTOR_TABLE, "SchemaName": "Connector"}
    assert (
        sandbox.http.post(f"{api}/EntityDefinitions", json=no_prefix, headers=headers).status_code
        == 400
    )
    long_prefix = {**CONNECTOR_TABLE, "SchemaName": "abcdefghi_Connector"}
    assert (
        sandbox.http.post(f"{api}/EntityDefinitions", json=long_prefix, headers=headers).status_code
        == 400
    )
    duplicate = sandbox.http.post(f"{api}/EntityDefinitions", json=CONNECTOR_TABLE, headers=headers)
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.json()["error"]["message"]
    again = sandbox.http.post(
        f"{api}/EntityDefinitions(LogicalName='invoice')/Attributes",
        json=EXPORT_STATUS,
        headers=headers,
    )
    assert again.status_code == 400
    assert (
        sandbox.http.post(
            f"{api}/RelationshipDefinitions", json=LOOKUP, headers=headers
        ).status_code
        == 400
    )


def test_custom_columns_of_every_type(dv: Dv) -> None:
    sandbox, headers = dv
    install(sandbox, headers)
    api = sandbox.api()
    columns: list[tuple[str, str, dict[str, Any]]] = [
        ("Memo", "dxc_Notes", {"MaxLength": 4000}),
        ("Integer", "dxc_Attempts", {"MinValue": 0, "MaxValue": 100}),
        ("Decimal", "dxc_Rate", {"Precision": 4}),
        ("Money", "dxc_AmountDue", {"Precision": 2}),
        (
            "Boolean",
            "dxc_Enabled",
            {
                "OptionSet": {
                    "TrueOption": {"Value": 1, "Label": _label("Yes")},
                    "FalseOption": {"Value": 0, "Label": _label("No")},
                }
            },
        ),
        ("DateTime", "dxc_ExportedOn", {"Format": "DateAndTime"}),
        ("String", "dxc_XeroNumber", {"MaxLength": 50}),
    ]
    for kind, name, extra in columns:
        body = {
            "@odata.type": f"Microsoft.Dynamics.CRM.{kind}AttributeMetadata",
            "SchemaName": name,
            **extra,
        }
        response = sandbox.http.post(
            f"{api}/EntityDefinitions(LogicalName='dxc_connector')/Attributes",
            json=body,
            headers=headers,
        )
        assert response.status_code == 204, (kind, response.text)
    row = {
        "dxc_name": "typed",
        "dxc_notes": "n",
        "dxc_attempts": 3,
        "dxc_rate": 0.125,
        "dxc_amountdue": 10.5,
        "dxc_enabled": True,
        "dxc_exportedon": "2025-03-03T09:00:00Z",
        "dxc_xeronumber": "INV-0001",
    }
    created = sandbox.http.post(
        f"{api}/dxc_connectors", json=row, headers={**headers, "Prefer": "return=representation"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["_transactioncurrencyid_value"]
    assert created.json()["dxc_exportedon"] == "2025-03-03T09:00:00Z"
    too_many = sandbox.http.post(
        f"{api}/dxc_connectors", json={"dxc_attempts": 101}, headers=headers
    )
    assert too_many.status_code == 400
