"""The tables, columns and lookups of `dxc_shared.dynamics.schema` as customizations.xml's
``<Entities>`` and ``<EntityRelationships>`` (the shape Dataverse exports: "Solution component
file reference", Microsoft Learn)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dxc_shared.dynamics.schema import CHOICE_LABELS, TABLES, Column, Lookup, Table
from dxc_shared.dynamics.solution.xml import element, labels, text

# customizations.xml's attribute <Type> for each column kind.
ATTRIBUTE_TYPES = {
    "string": "nvarchar",
    "memo": "ntext",
    "boolean": "bit",
    "datetime": "datetime",
    "money": "money",
    "decimal": "decimal",
    "integer": "int",
    "choice": "picklist",
}
_FORMATS = {"string": "text", "memo": "TextArea", "datetime": "datetime", "integer": "none"}


def _names(attribute: ET.Element, display: str, description: str) -> None:
    attribute.append(labels("displaynames", "displayname", display))
    attribute.append(labels("Descriptions", "Description", description))


def _option_set(table: Table, column: Column) -> ET.Element | None:
    if column.kind == "boolean":
        options = {1: "Yes", 0: "No"}
        kind = "bit"
    elif column.choices is not None:
        options = dict(CHOICE_LABELS[column.choices])
        kind = "picklist"
    else:
        return None
    items = [
        element("option", {"value": str(value)}, labels("labels", "label", words))
        for value, words in options.items()
    ]
    return element(
        "optionset",
        {"Name": f"{table.logical_name}_{column.logical_name}"},
        text("OptionSetType", kind),
        text("IsGlobal", 0),
        labels("displaynames", "displayname", column.label),
        element("options", {}, *items),
    )


def column_element(table: Table, column: Column, *, primary: bool = False) -> ET.Element:
    attribute = element(
        "attribute",
        {"PhysicalName": column.schema_name},
        text("Type", ATTRIBUTE_TYPES[column.kind]),
        text("Name", column.logical_name),
        text("LogicalName", column.logical_name),
        text("RequiredLevel", "required" if primary else "none"),
        text(
            "DisplayMask",
            "PrimaryName|ValidForAdvancedFind|ValidForForm|ValidForGrid|RequiredForForm"
            if primary
            else "ValidForAdvancedFind|ValidForForm|ValidForGrid",
        ),
        text("IsCustomField", 1),
    )
    if column.kind in _FORMATS:
        attribute.append(text("Format", _FORMATS[column.kind]))
    if column.max_length:
        attribute.append(text("MaxLength", column.max_length))
    if column.kind in ("money", "decimal"):
        attribute.append(text("Precision", 2))
    if column.kind == "integer":
        attribute.extend([text("MinValue", 0), text("MaxValue", 3650)])
    if column.kind == "datetime":
        attribute.append(text("Behavior", 1))  # UserLocal
    option_set = _option_set(table, column)
    if option_set is not None:
        attribute.append(option_set)
    _names(attribute, column.label, column.description or column.label)
    return attribute


def lookup_element(lookup: Lookup) -> ET.Element:
    attribute = element(
        "attribute",
        {"PhysicalName": lookup.schema_name},
        text("Type", "lookup"),
        text("Name", lookup.logical_name),
        text("LogicalName", lookup.logical_name),
        text("RequiredLevel", "none"),
        text("DisplayMask", "ValidForAdvancedFind|ValidForForm|ValidForGrid"),
        text("IsCustomField", 1),
        text("LookupStyle", "single"),
        element("LookupTypes", {}, text("LookupType", lookup.target)),
    )
    _names(attribute, lookup.label, lookup.description)
    return attribute


def _entity_info(table: Table) -> ET.Element:
    attributes: list[ET.Element] = []
    if not table.standard:
        attributes.append(
            element(
                "attribute",
                {"PhysicalName": f"{table.schema_name}Id"},
                text("Type", "primarykey"),
                text("Name", table.primary_id),
                text("LogicalName", table.primary_id),
                text("RequiredLevel", "systemrequired"),
                text("IsCustomField", 0),
            )
        )
        attributes.append(column_element(table, table.primary_name, primary=True))
    attributes.extend(column_element(table, column) for column in table.columns)
    attributes.extend(lookup_element(lookup) for lookup in table.lookups)
    entity = element("entity", {"Name": table.schema_name}, element("attributes", {}, *attributes))
    if not table.standard:
        entity.extend(
            [
                labels("LocalizedNames", "LocalizedName", table.label),
                labels("LocalizedCollectionNames", "LocalizedCollectionName", table.plural_label),
                labels("Descriptions", "Description", table.description),
                text("EntitySetName", table.entity_set),
                text("OwnershipTypeMask", "UserOwned"),
                text("ChangeTrackingEnabled", 1),
                text("IsCustomizable", 1),
            ]
        )
    else:
        entity.set("unmodified", "1")
    return entity


def entity_element(table: Table, forms: ET.Element, views: ET.Element) -> ET.Element:
    name = element("Name", {"LocalizedName": table.label, "OriginalName": table.label})
    name.text = table.schema_name
    return element("Entity", {}, name, element("EntityInfo", {}, _entity_info(table)), forms, views)


def relationships_element() -> ET.Element:
    items = [
        element(
            "EntityRelationship",
            {"Name": lookup.relationship},
            text("EntityRelationshipType", "OneToMany"),
            text("IsCustomizable", 1),
            text("ReferencingEntityName", table.schema_name),
            text("ReferencedEntityName", _schema_name(lookup.target)),
            text("CascadeDelete", "RemoveLink"),
            text("ReferencingAttributeName", lookup.schema_name),
            text("RelationshipDescription", lookup.description),
        )
        for table in TABLES
        for lookup in table.lookups
    ]
    return element("EntityRelationships", {}, *items)


def _schema_name(logical_name: str) -> str:
    return next(t.schema_name for t in TABLES if t.logical_name == logical_name)
