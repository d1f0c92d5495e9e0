"""Reading a solution package (the zip `ImportSolution` receives) into what it defines, and
refusing a malformed one with Dataverse's error before anything is changed.

Sources (Microsoft Learn): "ImportSolution Action" (CustomizationFile: the compressed solution
file), "Solution component file reference" and "Solution file" (solution.xml,
customizations.xml and [Content_Types].xml at the root of the zip), and the import error codes
of "Web service error codes" (ImportCustomizationsBadZipFileError, ImportNonWellFormedFileError,
ImportXsdValidationError, ImportMissingRootComponentEntry)."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from typing import Any

from .errors import DataverseError

BAD_ZIP = "0x80048060"
NOT_WELL_FORMED = "0x80048013"
XSD_VALIDATION = "0x8004801a"
MISSING_ROOT_COMPONENT = "0x8004803a"
INVALID_PRIVILEGE = "0x80048058"
_REQUIRED_FILES = ("solution.xml", "customizations.xml", "[Content_Types].xml")
# customizations.xml attribute <Type> → AttributeMetadata type (the Web API's names).
_ATTRIBUTE_TYPES = {
    "nvarchar": "StringAttributeMetadata",
    "ntext": "MemoAttributeMetadata",
    "bit": "BooleanAttributeMetadata",
    "datetime": "DateTimeAttributeMetadata",
    "money": "MoneyAttributeMetadata",
    "decimal": "DecimalAttributeMetadata",
    "int": "IntegerAttributeMetadata",
    "picklist": "PicklistAttributeMetadata",
}
_ENTITY = "1"


def _error(status: int, code: str, message: str) -> DataverseError:
    return DataverseError(status, code, message)


def xsd_error(problem: str, where: str) -> DataverseError:
    return _error(
        400,
        XSD_VALIDATION,
        f"The import file is invalid. XSD validation failed with the following error: "
        f"'{problem}'. The validation failed at: '...{where} <<<<'.",
    )


def _label(node: ET.Element | None, fallback: str) -> str:
    """The first description of a ``LocalizedNames``/``displaynames``/``labels`` list."""
    if node is None:
        return fallback
    item = next(iter(node), None)
    return item.get("description", fallback) if item is not None else fallback


def _metadata_label(text: str) -> dict[str, Any]:
    return {"LocalizedLabels": [{"Label": text, "LanguageCode": 1033}]}


def _required(node: ET.Element, tag: str, where: str) -> str:
    found = node.findtext(tag)
    if not found:
        raise xsd_error(f"The element '{tag}' is missing or empty.", where)
    return found


@dataclass
class TableDefinition:
    schema_name: str
    standard: bool  # a shell: only the listed columns are the solution's
    metadata: dict[str, Any]  # EntityMetadata, as the Web API takes it
    columns: list[dict[str, Any]]  # AttributeMetadata of its own columns
    lookups: dict[str, str]  # lookup schema name → display name
    forms: list[dict[str, Any]] = field(default_factory=list)  # systemform rows
    views: list[dict[str, Any]] = field(default_factory=list)  # savedquery rows


@dataclass
class SolutionPackage:
    unique_name: str
    friendly_name: str
    description: str
    version: str
    managed: bool
    publisher: dict[str, Any]
    tables: list[TableDefinition]
    relationships: list[dict[str, Any]]  # OneToManyRelationshipMetadata
    roles: dict[uuid.UUID, tuple[str, set[str]]]  # id → (name, privileges)


def read(content: bytes) -> SolutionPackage:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = set(archive.namelist())
    except zipfile.BadZipFile:
        names, archive = set(), None
    if archive is None or not all(name in names for name in _REQUIRED_FILES):
        raise _error(
            400,
            BAD_ZIP,
            "The solution file is invalid. The compressed file must contain the following "
            "files at its root: solution.xml, customizations.xml, and [Content_Types].xml. "
            "Customization files exported from previous versions of Microsoft Dynamics 365 "
            "are not supported.",
        )
    try:
        manifest_root = ET.fromstring(archive.read("solution.xml"))
        customizations = ET.fromstring(archive.read("customizations.xml"))
    except ET.ParseError as error:
        raise _error(
            400,
            NOT_WELL_FORMED,
            f"Invalid customization file. This file is not well formed. {error}",
        ) from None
    manifest = manifest_root.find("SolutionManifest")
    if manifest_root.tag != "ImportExportXml" or manifest is None:
        raise xsd_error("The element 'SolutionManifest' is missing.", "solution.xml")
    return _package(manifest, customizations)


def _package(manifest: ET.Element, customizations: ET.Element) -> SolutionPackage:
    version = _required(manifest, "Version", "SolutionManifest")
    if (
        not all(part.isdigit() for part in version.split("."))
        or not 2 <= version.count(".") + 1 <= 4
    ):
        raise xsd_error(f"The value '{version}' is not a valid solution version.", "Version")
    publisher = manifest.find("Publisher")
    if publisher is None:
        raise xsd_error("The element 'Publisher' is missing.", "SolutionManifest")
    roots = manifest.find("RootComponents")
    root_tables = {
        str(c.get("schemaName", "")).lower()
        for c in (roots if roots is not None else [])
        if c.get("type") == _ENTITY
    }
    tables = [_table(entity) for entity in customizations.findall("Entities/Entity")]
    for table in tables:
        if table.schema_name.lower() not in root_tables:
            raise _error(
                400,
                MISSING_ROOT_COMPONENT,
                f"The import has failed because component {table.schema_name} of type 1 is not "
                "declared in the solution file as a root component. To fix this, import again "
                "using the XML file that was generated when you exported the solution.",
            )
    lookups = {name: label for t in tables for name, label in t.lookups.items()}
    return SolutionPackage(
        unique_name=_required(manifest, "UniqueName", "SolutionManifest"),
        friendly_name=_label(manifest.find("LocalizedNames"), manifest.findtext("UniqueName", "")),
        description=_label(manifest.find("Descriptions"), ""),
        version=version,
        managed=manifest.findtext("Managed") == "1",
        publisher={
            "uniquename": _required(publisher, "UniqueName", "Publisher"),
            "friendlyname": _label(publisher.find("LocalizedNames"), ""),
            "customizationprefix": publisher.findtext("CustomizationPrefix"),
            "customizationoptionvalueprefix": int(
                publisher.findtext("CustomizationOptionValuePrefix") or 0
            ),
        },
        tables=tables,
        relationships=[
            _relationship(r, lookups)
            for r in customizations.findall("EntityRelationships/EntityRelationship")
        ],
        roles=_roles(customizations),
    )


def _table(entity: ET.Element) -> TableDefinition:
    info = entity.find("EntityInfo/entity")
    if info is None:
        raise xsd_error("The element 'EntityInfo/entity' is missing.", "Entity")
    schema_name = info.get("Name") or ""
    columns: list[dict[str, Any]] = []
    lookups: dict[str, str] = {}
    for attribute in info.findall("attributes/attribute"):
        kind = _required(attribute, "Type", f"attribute {attribute.get('PhysicalName')}")
        name = attribute.get("PhysicalName") or ""
        display = _label(attribute.find("displaynames"), name)
        if kind == "lookup":
            lookups[name] = display
        elif kind in _ATTRIBUTE_TYPES:
            columns.append(_column(attribute, kind, name, display))
        elif kind != "primarykey":
            raise xsd_error(f"The attribute type '{kind}' is not valid.", f"attribute {name}")
    metadata = {
        "SchemaName": schema_name,
        "EntitySetName": info.findtext("EntitySetName"),
        "DisplayName": _metadata_label(_label(info.find("LocalizedNames"), schema_name)),
        "DisplayCollectionName": _metadata_label(
            _label(info.find("LocalizedCollectionNames"), schema_name)
        ),
        "Description": _metadata_label(_label(info.find("Descriptions"), "")),
        "OwnershipType": info.findtext("OwnershipTypeMask") or "UserOwned",
        "ChangeTrackingEnabled": info.findtext("ChangeTrackingEnabled") == "1",
    }
    table = TableDefinition(schema_name, info.get("unmodified") == "1", metadata, columns, lookups)
    for form in entity.findall("FormXml/forms/systemform"):
        table.forms.append(_form(form))
    for view in entity.findall("SavedQueries/savedqueries/savedquery"):
        table.views.append(_view(view))
    return table


def _column(attribute: ET.Element, kind: str, name: str, display: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "@odata.type": f"Microsoft.Dynamics.CRM.{_ATTRIBUTE_TYPES[kind]}",
        "SchemaName": name,
        "DisplayName": _metadata_label(display),
        "Description": _metadata_label(_label(attribute.find("Descriptions"), display)),
        "IsPrimaryName": "PrimaryName" in (attribute.findtext("DisplayMask") or ""),
        "RequiredLevel": {
            "Value": "ApplicationRequired"
            if attribute.findtext("RequiredLevel") == "required"
            else "None"
        },
    }
    for tag, key in (("MaxLength", "MaxLength"), ("Precision", "Precision")):
        if attribute.findtext(tag):
            body[key] = int(attribute.findtext(tag) or 0)
    for tag in ("MinValue", "MaxValue"):
        if attribute.findtext(tag):
            body[tag] = int(attribute.findtext(tag) or 0)
    options = [
        {"Value": int(o.get("value", "0")), "Label": _metadata_label(_label(o.find("labels"), ""))}
        for o in attribute.findall("optionset/options/option")
    ]
    if kind == "picklist":
        if not options:
            raise xsd_error("A picklist attribute needs an optionset with options.", name)
        body["OptionSet"] = {"Options": options}
    if kind == "bit":
        labels = {o["Value"]: o["Label"] for o in options}
        body["OptionSet"] = {
            "TrueOption": {"Value": 1, "Label": labels.get(1, _metadata_label("Yes"))},
            "FalseOption": {"Value": 0, "Label": labels.get(0, _metadata_label("No"))},
        }
    if kind == "datetime":
        body["Format"] = "DateAndTime"
    return body


def _relationship(node: ET.Element, lookups: dict[str, str]) -> dict[str, Any]:
    name = node.get("Name") or ""
    lookup = _required(node, "ReferencingAttributeName", f"EntityRelationship {name}")
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
        "SchemaName": name,
        "ReferencedEntity": _required(node, "ReferencedEntityName", name).lower(),
        "ReferencingEntity": _required(node, "ReferencingEntityName", name).lower(),
        "CascadeConfiguration": {"Delete": node.findtext("CascadeDelete") or "RemoveLink"},
        "Lookup": {
            "SchemaName": lookup,
            "DisplayName": _metadata_label(lookups.get(lookup, lookup)),
        },
    }


def _guid(value: str | None, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value).strip("{}"))
    except ValueError:
        raise xsd_error(f"'{value}' is not a valid identifier.", where) from None


def _form(node: ET.Element) -> dict[str, Any]:
    form = node.find("form")
    if form is None:
        raise xsd_error("The element 'form' is missing.", "systemform")
    return {
        "formid": _guid(node.findtext("formid"), "systemform/formid"),
        "name": _label(node.find("LocalizedNames"), "Information"),
        "description": _label(node.find("Descriptions"), ""),
        "type": 2,
        "formxml": ET.tostring(form, encoding="unicode"),
    }


def _view(node: ET.Element) -> dict[str, Any]:
    fetch, layout = node.find("fetchxml/fetch"), node.find("layoutxml/grid")
    if fetch is None or layout is None:
        raise xsd_error("A savedquery needs its fetchxml and layoutxml.", "savedquery")
    return {
        "savedqueryid": _guid(node.findtext("savedqueryid"), "savedquery/savedqueryid"),
        "name": _label(node.find("LocalizedNames"), ""),
        "description": _label(node.find("Descriptions"), ""),
        "returnedtypecode": node.findtext("returnedtypecode"),
        "querytype": int(node.findtext("querytype") or 0),
        "isdefault": node.findtext("isdefault") == "1",
        "fetchxml": ET.tostring(fetch, encoding="unicode"),
        "layoutxml": ET.tostring(layout, encoding="unicode"),
    }


def _roles(customizations: ET.Element) -> dict[uuid.UUID, tuple[str, set[str]]]:
    return {
        _guid(role.get("id"), "Role"): (
            role.get("name") or "",
            {p.get("name") or "" for p in role.findall("RolePrivileges/RolePrivilege")},
        )
        for role in customizations.findall("Roles/Role")
    }
