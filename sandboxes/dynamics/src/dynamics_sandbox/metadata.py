"""Table metadata: entities, attributes, one-to-many relationships, as Dataverse describes them.

Everything the Web API does with records is driven by these definitions, so a table the
connector installs through ``POST EntityDefinitions`` behaves like a standard one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import INVALID_SCHEMA_NAME, METADATA_DUPLICATE, DataverseError, bad_request


class AttributeType(StrEnum):
    UNIQUEIDENTIFIER = "Uniqueidentifier"
    STRING = "String"
    MEMO = "Memo"
    INTEGER = "Integer"
    BIGINT = "BigInt"
    DECIMAL = "Decimal"
    DOUBLE = "Double"
    MONEY = "Money"
    BOOLEAN = "Boolean"
    DATETIME = "DateTime"
    PICKLIST = "Picklist"
    STATE = "State"
    STATUS = "Status"
    LOOKUP = "Lookup"
    CUSTOMER = "Customer"
    OWNER = "Owner"


LOOKUP_TYPES = frozenset({AttributeType.LOOKUP, AttributeType.CUSTOMER, AttributeType.OWNER})
CHOICE_TYPES = frozenset({AttributeType.PICKLIST, AttributeType.STATE, AttributeType.STATUS})
NUMBER_TYPES = frozenset(
    {
        AttributeType.INTEGER,
        AttributeType.BIGINT,
        AttributeType.DECIMAL,
        AttributeType.DOUBLE,
        AttributeType.MONEY,
    }
)

_METADATA_TYPE_NAMES: dict[AttributeType, str] = {
    AttributeType.UNIQUEIDENTIFIER: "UniqueIdentifierAttributeMetadata",
    AttributeType.STRING: "StringAttributeMetadata",
    AttributeType.MEMO: "MemoAttributeMetadata",
    AttributeType.INTEGER: "IntegerAttributeMetadata",
    AttributeType.BIGINT: "BigIntAttributeMetadata",
    AttributeType.DECIMAL: "DecimalAttributeMetadata",
    AttributeType.DOUBLE: "DoubleAttributeMetadata",
    AttributeType.MONEY: "MoneyAttributeMetadata",
    AttributeType.BOOLEAN: "BooleanAttributeMetadata",
    AttributeType.DATETIME: "DateTimeAttributeMetadata",
    AttributeType.PICKLIST: "PicklistAttributeMetadata",
    AttributeType.STATE: "StateAttributeMetadata",
    AttributeType.STATUS: "StatusAttributeMetadata",
    AttributeType.LOOKUP: "LookupAttributeMetadata",
    AttributeType.CUSTOMER: "LookupAttributeMetadata",
    AttributeType.OWNER: "LookupAttributeMetadata",
}
_TYPE_BY_METADATA_NAME = {
    name: kind
    for kind, name in _METADATA_TYPE_NAMES.items()
    if kind not in (AttributeType.CUSTOMER, AttributeType.OWNER)
}
CUSTOM_SCHEMA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,7}_[A-Za-z0-9_]+$")


@dataclass
class Option:
    value: int
    label: str
    # For Status options: the statecode they belong to. For State options: their default status.
    state: int | None = None
    default_status: int | None = None


@dataclass
class Attribute:
    logical_name: str
    type: AttributeType
    schema_name: str = ""
    display_name: str = ""
    targets: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    max_length: int | None = None
    precision: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    # Format DateOnly (else DateAndTime); the DateTimeBehavior is separate (see `behavior`).
    date_only: bool = False
    # DateTimeBehavior: UserLocal, DateOnly or TimeZoneIndependent; unset, it follows the format.
    datetime_behavior: str | None = None
    required: str = "None"
    valid_for_create: bool = True
    valid_for_update: bool = True
    # False for secrets written but never returned (e.g. serviceendpoint.authvalue).
    valid_for_read: bool = True
    is_custom: bool = False
    is_primary_id: bool = False
    is_primary_name: bool = False
    metadata_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if not self.schema_name:
            self.schema_name = _pascal(self.logical_name)
        if not self.display_name:
            self.display_name = self.schema_name

    def option(self, value: int) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    @property
    def behavior(self) -> str:
        return self.datetime_behavior or ("DateOnly" if self.date_only else "UserLocal")

    @property
    def odata_name(self) -> str:
        """Name of the property in Web API payloads: lookups appear as ``_x_value``."""
        return f"_{self.logical_name}_value" if self.type in LOOKUP_TYPES else self.logical_name

    def to_json(self, entity: Entity, *, with_options: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "@odata.type": f"#Microsoft.Dynamics.CRM.{_METADATA_TYPE_NAMES[self.type]}",
            "MetadataId": str(self.metadata_id),
            "LogicalName": self.logical_name,
            "SchemaName": self.schema_name,
            "EntityLogicalName": entity.logical_name,
            "AttributeType": self.type.value,
            "AttributeTypeName": {"Value": f"{self.type.value}Type"},
            "DisplayName": label(self.display_name),
            "IsCustomAttribute": self.is_custom,
            "IsPrimaryId": self.is_primary_id,
            "IsPrimaryName": self.is_primary_name,
            "IsValidForCreate": self.valid_for_create,
            "IsValidForUpdate": self.valid_for_update,
            "IsValidForRead": self.valid_for_read,
            "RequiredLevel": {"Value": self.required},
        }
        if self.max_length is not None:
            body["MaxLength"] = self.max_length
        if self.precision is not None:
            body["Precision"] = self.precision
        if self.min_value is not None:
            body["MinValue"] = self.min_value
            body["MaxValue"] = self.max_value
        if self.type is AttributeType.DATETIME:
            body["Format"] = "DateOnly" if self.date_only else "DateAndTime"
            body["DateTimeBehavior"] = {"Value": self.behavior}
        if self.type in LOOKUP_TYPES:
            body["Targets"] = list(self.targets)
        if with_options and (self.type in CHOICE_TYPES or self.type is AttributeType.BOOLEAN):
            body["OptionSet"] = self.option_set_json()
        return body

    def option_set_json(self) -> dict[str, Any]:
        if self.type is AttributeType.BOOLEAN:
            false, true = [*self.options, Option(0, "No"), Option(1, "Yes")][:2]
            return {
                "OptionSetType": "Boolean",
                "FalseOption": {"Value": 0, "Label": label(false.label)},
                "TrueOption": {"Value": 1, "Label": label(true.label)},
            }
        options = []
        for o in self.options:
            item: dict[str, Any] = {"Value": o.value, "Label": label(o.label)}
            if o.state is not None:
                item["State"] = o.state
            if o.default_status is not None:
                item["DefaultStatus"] = o.default_status
            options.append(item)
        return {"OptionSetType": self.type.value, "Options": options}


@dataclass
class Relationship:
    """A one-to-many relationship; the "many" side holds a lookup attribute."""

    schema_name: str
    referenced_entity: str
    referencing_entity: str
    referencing_attribute: str
    # Collection-valued navigation property on the referenced ("one") table.
    referenced_nav: str
    # Single-valued navigation property on the referencing ("many") table.
    referencing_nav: str
    cascade_delete: str = "RemoveLink"
    is_custom: bool = False
    metadata_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_json(self, referenced_attribute: str) -> dict[str, Any]:
        return {
            "@odata.type": "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
            "MetadataId": str(self.metadata_id),
            "SchemaName": self.schema_name,
            "RelationshipType": "OneToManyRelationship",
            "IsCustomRelationship": self.is_custom,
            "ReferencedEntity": self.referenced_entity,
            "ReferencedAttribute": referenced_attribute,
            "ReferencingEntity": self.referencing_entity,
            "ReferencingAttribute": self.referencing_attribute,
            "ReferencedEntityNavigationPropertyName": self.referenced_nav,
            "ReferencingEntityNavigationPropertyName": self.referencing_nav,
            "CascadeConfiguration": {"Delete": self.cascade_delete},
        }


@dataclass
class EntityKey:
    """An alternate key: columns whose values identify one row ("Define alternate keys to
    reference rows", Microsoft Learn)."""

    schema_name: str
    attributes: list[str]
    display_name: str = ""
    metadata_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_json(self, entity: Entity) -> dict[str, Any]:
        return {
            "@odata.type": "#Microsoft.Dynamics.CRM.EntityKeyMetadata",
            "MetadataId": str(self.metadata_id),
            "SchemaName": self.schema_name,
            "LogicalName": self.schema_name.lower(),
            "EntityLogicalName": entity.logical_name,
            "KeyAttributes": list(self.attributes),
            "DisplayName": label(self.display_name or self.schema_name),
            "EntityKeyIndexStatus": "Active",
            "IsManaged": False,
        }


@dataclass
class Entity:
    logical_name: str
    entity_set_name: str
    primary_id: str
    primary_name: str
    schema_name: str = ""
    display_name: str = ""
    display_collection_name: str = ""
    attributes: dict[str, Attribute] = field(default_factory=dict)
    is_custom: bool = False
    change_tracking: bool = True
    object_type_code: int = 10000
    ownership: str = "UserOwned"
    has_notes: bool = False
    has_activities: bool = False
    description: str = ""
    keys: list[EntityKey] = field(default_factory=list)
    metadata_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if not self.schema_name:
            self.schema_name = _pascal(self.logical_name)
        self.display_name = self.display_name or self.schema_name
        self.display_collection_name = self.display_collection_name or self.entity_set_name

    def add(self, attribute: Attribute) -> Attribute:
        self.attributes[attribute.logical_name] = attribute
        return attribute

    def attribute(self, name: str) -> Attribute | None:
        return self.attributes.get(name)

    def attribute_by_odata_name(self, name: str) -> Attribute | None:
        """Resolve a Web API property name (``name`` or ``_lookup_value``)."""
        if name.startswith("_") and name.endswith("_value"):
            found = self.attributes.get(name[1:-6])
            return found if found is not None and found.type in LOOKUP_TYPES else None
        found = self.attributes.get(name)
        return found if found is not None and found.type not in LOOKUP_TYPES else None

    def to_json(self) -> dict[str, Any]:
        return {
            "@odata.type": "#Microsoft.Dynamics.CRM.EntityMetadata",
            "MetadataId": str(self.metadata_id),
            "LogicalName": self.logical_name,
            "SchemaName": self.schema_name,
            "EntitySetName": self.entity_set_name,
            "LogicalCollectionName": self.entity_set_name,
            "CollectionSchemaName": _pascal(self.entity_set_name),
            "PrimaryIdAttribute": self.primary_id,
            "PrimaryNameAttribute": self.primary_name,
            "DisplayName": label(self.display_name),
            "DisplayCollectionName": label(self.display_collection_name),
            "IsCustomEntity": self.is_custom,
            "IsPrivate": False,
            "ChangeTrackingEnabled": self.change_tracking,
            "ObjectTypeCode": self.object_type_code,
            "OwnershipType": self.ownership,
            "IsActivity": False,
            # The common EntityMetadata properties (EntityMetadata EntityType, Web API
            # reference, Microsoft Learn). Standard tables ship in managed solutions; tables
            # created here are unmanaged customisations.
            "IsManaged": not self.is_custom,
            "HasNotes": self.has_notes,
            "HasActivities": self.has_activities,
            "Description": label(self.description),
            "CanChangeTrackingBeEnabled": _managed("canchangetrackingbeenabled", True),
            "IsAuditEnabled": _managed("canmodifyauditsettings", False),
            "IsCustomizable": _managed("iscustomizable", True),
            "IsRenameable": _managed("isrenameable", True),
            "CanCreateAttributes": _managed("cancreateattributes", True),
            "IsValidForAdvancedFind": True,
            "IsIntersect": False,
            "IsLogicalEntity": False,
            "IsBusinessProcessEnabled": False,
            "IsAvailableOffline": False,
            "IsValidForQueue": False,
            "IsEnabledForCharts": True,
            "IsReadOnlyInMobileClient": _managed("isreadonlyinmobileclient", False),
        }


def _managed(logical_name: str, value: bool) -> dict[str, Any]:
    """A BooleanManagedProperty: the value and whether a solution may change it."""
    return {"Value": value, "CanBeChanged": True, "ManagedPropertyLogicalName": logical_name}


def label(text: str) -> dict[str, Any]:
    localized = {"Label": text, "LanguageCode": 1033, "IsManaged": False}
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def label_text(value: Any, fallback: str) -> str:
    """Read the text of a Label complex value a client sent."""
    if isinstance(value, dict):
        user = value.get("UserLocalizedLabel")
        if isinstance(user, dict) and isinstance(user.get("Label"), str):
            return str(user["Label"])
        for item in value.get("LocalizedLabels") or []:
            if isinstance(item, dict) and isinstance(item.get("Label"), str):
                return str(item["Label"])
    return fallback


def _pascal(logical_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in logical_name.split("_"))


def pluralize(name: str) -> str:
    """Entity set names: Dataverse pluralises the logical name with English rules."""
    if re.search(r"(s|x|z|ch|sh)$", name):
        return name + "es"
    if re.search(r"[^aeiou]y$", name):
        return name[:-1] + "ies"
    return name + "s"


def require_custom_schema_name(schema_name: Any, what: str) -> str:
    if not isinstance(schema_name, str) or not schema_name:
        raise bad_request(f"SchemaName is required for the {what}.", INVALID_SCHEMA_NAME)
    if not CUSTOM_SCHEMA_NAME.match(schema_name):
        raise bad_request(
            f"Invalid schema name '{schema_name}' for the {what}: custom names must start with a "
            "publisher customization prefix of 2 to 8 letters or digits followed by '_'.",
            INVALID_SCHEMA_NAME,
        )
    return schema_name


def duplicate(what: str, name: str) -> DataverseError:
    return DataverseError(
        400, METADATA_DUPLICATE, f"A {what} with the specified name already exists: '{name}'."
    )


def attribute_from_json(body: dict[str, Any]) -> Attribute:
    """Build a custom column from an ``*AttributeMetadata`` payload."""
    odata_type = (
        str(body.get("@odata.type", "")).lstrip("#").removeprefix("Microsoft.Dynamics.CRM.")
    )
    # CreateEntities takes the Complex* variants of the same types.
    kind: AttributeType | None = _TYPE_BY_METADATA_NAME.get(odata_type.removeprefix("Complex"))
    if kind is None and isinstance(body.get("AttributeType"), str):
        kind = next((k for k in AttributeType if k.value == body["AttributeType"]), None)
    if kind is None or kind in (AttributeType.UNIQUEIDENTIFIER, AttributeType.STATE):
        raise bad_request(f"Unsupported or missing attribute type '{odata_type}'.")
    if kind in LOOKUP_TYPES:
        raise bad_request(
            "Lookup attributes are created with their relationship: POST RelationshipDefinitions."
        )
    schema_name = require_custom_schema_name(body.get("SchemaName"), "attribute")
    required = body.get("RequiredLevel")
    attribute = Attribute(
        logical_name=schema_name.lower(),
        type=kind,
        schema_name=schema_name,
        display_name=label_text(body.get("DisplayName"), schema_name),
        is_custom=True,
        is_primary_name=bool(body.get("IsPrimaryName", False)),
        required=str(required.get("Value", "None")) if isinstance(required, dict) else "None",
    )
    if kind in (AttributeType.STRING, AttributeType.MEMO):
        attribute.max_length = int(
            body.get("MaxLength") or (100 if kind is AttributeType.STRING else 2000)
        )
    if kind in NUMBER_TYPES:
        attribute.precision = body.get(
            "Precision", 2 if kind is not AttributeType.INTEGER else None
        )
        attribute.min_value = body.get("MinValue")
        attribute.max_value = body.get("MaxValue")
    if kind is AttributeType.DATETIME:
        behavior = body.get("DateTimeBehavior")
        behavior_value = behavior.get("Value") if isinstance(behavior, dict) else None
        attribute.date_only = body.get("Format") == "DateOnly" or behavior_value == "DateOnly"
        if behavior_value in ("UserLocal", "DateOnly", "TimeZoneIndependent"):
            attribute.datetime_behavior = behavior_value
    if kind in (AttributeType.PICKLIST, AttributeType.STATUS):
        attribute.options = _options_from_json(body.get("OptionSet"))
    if kind is AttributeType.BOOLEAN:
        option_set: dict[str, Any] = (
            body["OptionSet"] if isinstance(body.get("OptionSet"), dict) else {}
        )
        attribute.options = [
            Option(0, label_text((option_set.get("FalseOption") or {}).get("Label"), "No")),
            Option(1, label_text((option_set.get("TrueOption") or {}).get("Label"), "Yes")),
        ]
    return attribute


def _options_from_json(option_set: Any) -> list[Option]:
    if not isinstance(option_set, dict):
        raise bad_request("A choice column needs an OptionSet with Options.")
    options = []
    for i, item in enumerate(option_set.get("Options") or []):
        value = item.get("Value")
        options.append(
            Option(
                int(value) if value is not None else 100_000_000 + i,
                label_text(item.get("Label"), str(value)),
            )
        )
    if not options:
        raise bad_request("A choice column needs at least one option.")
    return options
