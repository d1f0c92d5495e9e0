"""Install the connector's tables and columns into a Dynamics 365 organisation, idempotently,
through the Web API metadata endpoints; and check the signed-in user's privileges.

Order matters: custom tables (with their plain columns) first, then columns added to standard
tables, then the one-to-many relationships that create the lookups, then publish. What already
exists is skipped, so installing twice, or after an interrupted install, is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.dynamics.schema import (
    CHOICE_LABELS,
    REQUIRED_PRIVILEGES,
    TABLES,
    Column,
    Lookup,
    Table,
)

LANGUAGE = 1033
_METADATA_TYPES = {
    "string": "StringAttributeMetadata",
    "memo": "MemoAttributeMetadata",
    "boolean": "BooleanAttributeMetadata",
    "datetime": "DateTimeAttributeMetadata",
    "money": "MoneyAttributeMetadata",
    "decimal": "DecimalAttributeMetadata",
    "integer": "IntegerAttributeMetadata",
    "choice": "PicklistAttributeMetadata",
}


@dataclass
class InstallReport:
    created_tables: list[str] = field(default_factory=list)
    created_columns: list[str] = field(default_factory=list)
    created_lookups: list[str] = field(default_factory=list)
    created_options: list[str] = field(default_factory=list)  # new choices on existing columns

    @property
    def changed(self) -> bool:
        return bool(
            self.created_tables
            or self.created_columns
            or self.created_lookups
            or self.created_options
        )


def _label(text: str) -> dict[str, Any]:
    return {"LocalizedLabels": [{"Label": text, "LanguageCode": LANGUAGE}]}


def column_metadata(column: Column, *, primary: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "@odata.type": f"Microsoft.Dynamics.CRM.{_METADATA_TYPES[column.kind]}",
        "SchemaName": column.schema_name,
        "DisplayName": _label(column.label),
        "Description": _label(column.description or column.label),
        "RequiredLevel": {"Value": "ApplicationRequired" if primary else "None"},
    }
    if primary:
        body["IsPrimaryName"] = True
    if column.max_length:
        body["MaxLength"] = column.max_length
    if column.kind == "money" or column.kind == "decimal":
        body["Precision"] = 2
    if column.kind == "integer":
        body["Format"] = "None"
        body["MinValue"] = 0
        body["MaxValue"] = 3650
    if column.kind == "datetime":
        body["Format"] = "DateAndTime"
    if column.kind == "boolean":
        body["OptionSet"] = {
            "@odata.type": "Microsoft.Dynamics.CRM.BooleanOptionSetMetadata",
            "TrueOption": {"Value": 1, "Label": _label("Yes")},
            "FalseOption": {"Value": 0, "Label": _label("No")},
        }
    if column.choices is not None:
        body["OptionSet"] = {
            "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
            "IsGlobal": False,
            "OptionSetType": "Picklist",
            "Options": [
                {"Value": value, "Label": _label(label)}
                for value, label in CHOICE_LABELS[column.choices].items()
            ],
        }
    return body


def table_metadata(table: Table) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata",
        "SchemaName": table.schema_name,
        "EntitySetName": table.entity_set,
        "DisplayName": _label(table.label),
        "DisplayCollectionName": _label(table.plural_label),
        "Description": _label(f"dx-connector: {table.plural_label}"),
        "OwnershipType": "UserOwned",
        "HasActivities": False,
        "HasNotes": False,
        "ChangeTrackingEnabled": True,
        "Attributes": [
            column_metadata(table.primary_name, primary=True),
            *(column_metadata(column) for column in table.columns),
        ],
    }


def relationship_metadata(table: Table, lookup: Lookup) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
        "SchemaName": lookup.relationship,
        "ReferencedEntity": lookup.target,
        "ReferencedAttribute": f"{lookup.target}id",
        "ReferencingEntity": table.logical_name,
        "CascadeConfiguration": {"Delete": "RemoveLink"},
        "Lookup": {
            "@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
            "AttributeType": "Lookup",
            "SchemaName": lookup.schema_name,
            "DisplayName": _label(lookup.label),
            "RequiredLevel": {"Value": "None"},
        },
    }


async def install(client: DataverseClient) -> InstallReport:
    report = InstallReport()
    existing_tables = await _names(client, "EntityDefinitions", "LogicalName")
    for table in TABLES:
        if not table.standard and table.logical_name not in existing_tables:
            await client.request(
                "POST", "EntityDefinitions", operation="create_table", body=table_metadata(table)
            )
            report.created_tables.append(table.logical_name)
    for table in TABLES:
        await _install_columns(client, table, report)
    relationships = await _names(client, "RelationshipDefinitions", "SchemaName")
    for table in TABLES:
        for lookup in table.lookups:
            if lookup.relationship not in relationships:
                await client.request(
                    "POST",
                    "RelationshipDefinitions",
                    operation="create_relationship",
                    body=relationship_metadata(table, lookup),
                )
                report.created_lookups.append(f"{table.logical_name}.{lookup.logical_name}")
    if report.changed:
        entities = "".join(f"<entity>{table.logical_name}</entity>" for table in TABLES)
        parameter_xml = f"<importexportxml><entities>{entities}</entities></importexportxml>"
        await client.request(
            "POST", "PublishXml", operation="publish", body={"ParameterXml": parameter_xml}
        )
    return report


async def _install_columns(client: DataverseClient, table: Table, report: InstallReport) -> None:
    """The table's missing columns; on its existing choice columns, the choices added since
    they were installed (e.g. the export status's "Update in Xero")."""
    attributes_path = f"EntityDefinitions(LogicalName='{table.logical_name}')/Attributes"
    attributes = await _names(client, attributes_path, "LogicalName")
    for column in table.columns:
        if column.logical_name not in attributes:
            await client.request(
                "POST", attributes_path, operation="create_column", body=column_metadata(column)
            )
            report.created_columns.append(f"{table.logical_name}.{column.logical_name}")
        elif column.choices is not None:
            await _install_choices(client, table, column, report)


async def _install_choices(
    client: DataverseClient, table: Table, column: Column, report: InstallReport
) -> None:
    """Insert the column's choices Dynamics does not have yet (`InsertOptionValue`: Microsoft
    Learn, Web API reference, "InsertOptionValue Action"); an option is never removed."""
    assert column.choices is not None
    response = await client.request(
        "GET",
        f"EntityDefinitions(LogicalName='{table.logical_name}')/Attributes(LogicalName="
        f"'{column.logical_name}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        operation="read_metadata",
        params={"$select": "LogicalName", "$expand": "OptionSet"},
    )
    assert response is not None
    option_set = response.json().get("OptionSet") or {}
    existing = {option.get("Value") for option in option_set.get("Options") or []}
    for value, label in CHOICE_LABELS[column.choices].items():
        if value in existing:
            continue
        await client.request(
            "POST",
            "InsertOptionValue",
            operation="insert_option",
            body={
                "EntityLogicalName": table.logical_name,
                "AttributeLogicalName": column.logical_name,
                "Value": value,
                "Label": _label(label),
            },
        )
        report.created_options.append(f"{table.logical_name}.{column.logical_name}={value}")


async def missing_tables(client: DataverseClient) -> list[str]:
    """The connector's own tables that are not (yet) in the organisation."""
    existing = await _names(client, "EntityDefinitions", "LogicalName")
    return [t.logical_name for t in TABLES if not t.standard and t.logical_name not in existing]


async def missing_privileges(client: DataverseClient) -> list[str]:
    """What the signed-in user may not do that the connector needs, in words."""
    user_id = (await client.who_am_i())["UserId"]
    response = await client.request(
        "GET",
        f"systemusers({user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()",
        operation="retrieve_user_privileges",
    )
    assert response is not None
    held = {item["PrivilegeName"] for item in response.json().get("RolePrivileges", [])}
    return [words for name, words in REQUIRED_PRIVILEGES.items() if name not in held]


async def _names(client: DataverseClient, path: str, key: str) -> set[str]:
    response = await client.request("GET", path, operation="read_metadata", params={"$select": key})
    assert response is not None
    return {str(item[key]).lower() for item in response.json().get("value", [])}
