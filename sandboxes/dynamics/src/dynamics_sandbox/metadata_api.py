"""Metadata endpoints: EntityDefinitions, RelationshipDefinitions and publishing, so a client
can install its own tables, columns and lookups (also on standard tables) and then use them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .api_messages import ApiRequest, ApiResponse
from .errors import DataverseError, bad_request, segment_not_found
from .metadata import (
    Attribute,
    AttributeType,
    Entity,
    Option,
    Relationship,
    attribute_from_json,
    duplicate,
    label_text,
    pluralize,
    require_custom_schema_name,
)
from .odata.filter import evaluate
from .odata.options import QueryOptions, parse_options
from .standard_tables import add_system_columns
from .store.values import parse_guid
from .webapi import WebApi

SEGMENTS = frozenset(
    {"EntityDefinitions", "RelationshipDefinitions", "PublishXml", "PublishAllXml"}
)
_CAST_PREFIX = "Microsoft.Dynamics.CRM."


def handle(api: WebApi, request: ApiRequest, name: str, key: str | None, rest: str) -> ApiResponse:
    if name in ("PublishXml", "PublishAllXml"):
        if request.method != "POST":
            raise DataverseError(405, "0x80060888", f"{name} is an action: use POST.")
        api.require_customization("prvPublishCustomization")
        return ApiResponse(204)
    if name == "RelationshipDefinitions":
        return _relationships(api, request, key)
    if key is None:
        if request.method == "POST":
            return _create_entity(api, request)
        return _listing(
            api,
            request,
            "EntityDefinitions",
            [e.to_json() for e in api.schema.entities.values()],
            {
                "Attributes": lambda row: _attributes_json(
                    api.schema.entity(row["LogicalName"]), None, with_options=False
                )
            },
        )
    entity = _entity_by_key(api, key)
    if not rest:
        return _single(
            api,
            request,
            "EntityDefinitions",
            entity.to_json(),
            {"Attributes": lambda _row: _attributes_json(entity, None, with_options=False)},
        )
    segment, _, cast = rest.partition("/")
    if segment == "Attributes" and request.method == "POST":
        return _create_attribute(api, request, entity)
    if segment == "Attributes":
        type_filter = cast.removeprefix(_CAST_PREFIX) if cast else None
        expand_options = "OptionSet" in request.query.get("$expand", "")
        rows = _attributes_json(entity, type_filter, with_options=expand_options)
        return _listing(api, request, "EntityDefinitions/Attributes", rows, {"OptionSet": None})
    if segment.startswith("Attributes("):
        attribute_key = segment[len("Attributes(") : -1]
        attribute = _attribute_by_key(entity, attribute_key)
        return _single(
            api,
            request,
            "EntityDefinitions/Attributes",
            attribute.to_json(entity, with_options=True),
            {},
        )
    if segment in ("OneToManyRelationships", "ManyToOneRelationships"):
        side = "ReferencedEntity" if segment == "OneToManyRelationships" else "ReferencingEntity"
        rows = [r for r in _relationships_json(api) if r[side] == entity.logical_name]
        return _listing(api, request, f"EntityDefinitions/{segment}", rows, {})
    raise segment_not_found(segment)


# --- reading ----------------------------------------------------------------------------------

Expansions = dict[str, Callable[[dict[str, Any]], Any] | None]


def _options(request: ApiRequest, expansions: Expansions) -> QueryOptions:
    params = dict(request.query)
    expand = params.pop("$expand", "")
    for item in filter(None, (e.split("(")[0].strip() for e in expand.split(","))):
        if item not in expansions:
            raise bad_request(f"Could not find a property named '{item}' on the metadata type.")
    return parse_options(params)


def _shape(
    row: dict[str, Any], options: QueryOptions, request: ApiRequest, expansions: Expansions
) -> dict[str, Any]:
    expanded = {name for name in expansions if name in request.query.get("$expand", "")}
    shaped = {
        k: v
        for k, v in row.items()
        if options.select is None
        or k in options.select
        or k in expanded
        or k.startswith("@")
        or k == "MetadataId"
    }
    for name in expanded:
        produce = expansions[name]
        if produce is not None:
            shaped[name] = produce(row)
    return shaped


def _listing(
    api: WebApi,
    request: ApiRequest,
    context: str,
    rows: list[dict[str, Any]],
    expansions: Expansions,
) -> ApiResponse:
    options = _options(request, expansions)
    if options.filter is not None:
        node = options.filter
        rows = [r for r in rows if evaluate(node, r.get)]
    return ApiResponse(
        200,
        {
            "@odata.context": f"{api.api_url}/$metadata#{context}",
            "value": [_shape(r, options, request, expansions) for r in rows],
        },
    )


def _single(
    api: WebApi, request: ApiRequest, context: str, row: dict[str, Any], expansions: Expansions
) -> ApiResponse:
    options = _options(request, expansions)
    body = {"@odata.context": f"{api.api_url}/$metadata#{context}/$entity"}
    body.update(_shape(row, options, request, expansions))
    return ApiResponse(200, body)


def _attributes_json(
    entity: Entity, type_filter: str | None, *, with_options: bool
) -> list[dict[str, Any]]:
    rows = [a.to_json(entity, with_options=with_options) for a in entity.attributes.values()]
    if type_filter:
        rows = [r for r in rows if r["@odata.type"] == f"#{_CAST_PREFIX}{type_filter}"]
    return rows


def _relationships_json(api: WebApi) -> list[dict[str, Any]]:
    return [
        r.to_json(api.schema.entity(r.referenced_entity).primary_id)
        for r in api.schema.relationships.values()
    ]


def _key_value(key: str, name: str) -> str | None:
    prefix = f"{name}="
    return key[len(prefix) :].strip("'") if key.startswith(prefix) else None


def _entity_by_key(api: WebApi, key: str) -> Entity:
    logical = _key_value(key, "LogicalName")
    guid = parse_guid(key)
    for entity in api.schema.entities.values():
        if entity.logical_name == logical or entity.metadata_id == guid:
            return entity
    raise DataverseError(404, "0x80040217", f"Could not find an entity with {key}.")


def _attribute_by_key(entity: Entity, key: str) -> Attribute:
    logical = _key_value(key, "LogicalName")
    guid = parse_guid(key)
    for attribute in entity.attributes.values():
        if attribute.logical_name == logical or attribute.metadata_id == guid:
            return attribute
    raise DataverseError(
        404,
        "0x80040217",
        f"Could not find an attribute with {key} on entity '{entity.logical_name}'.",
    )


# --- creating ---------------------------------------------------------------------------------


def _created(api: WebApi, location: str) -> ApiResponse:
    return ApiResponse(204, None, {"OData-EntityId": f"{api.api_url}/{location}"})


def _create_entity(api: WebApi, request: ApiRequest) -> ApiResponse:
    api.require_customization("prvCreateEntity")
    body = request.json()
    schema_name = require_custom_schema_name(body.get("SchemaName"), "table")
    logical = schema_name.lower()
    attributes = [
        attribute_from_json(a) for a in body.get("Attributes") or [] if isinstance(a, dict)
    ]
    primary = [a for a in attributes if a.is_primary_name]
    if len(primary) != 1 or primary[0].type is not AttributeType.STRING:
        raise bad_request(
            "The table must be created with exactly one primary name column "
            "(a String with IsPrimaryName true)."
        )
    entity = Entity(
        logical_name=logical,
        entity_set_name=str(body.get("EntitySetName") or pluralize(logical)),
        primary_id=f"{logical}id",
        primary_name=primary[0].logical_name,
        schema_name=schema_name,
        display_name=label_text(body.get("DisplayName"), schema_name),
        display_collection_name=label_text(body.get("DisplayCollectionName"), ""),
        is_custom=True,
        change_tracking=bool(body.get("ChangeTrackingEnabled", False)),
        ownership=str(body.get("OwnershipType") or "UserOwned"),
    )
    if entity.logical_name in api.schema.entities:
        raise duplicate("table", schema_name)
    entity.add(
        Attribute(
            entity.primary_id,
            AttributeType.UNIQUEIDENTIFIER,
            schema_name=f"{schema_name}Id",
            is_primary_id=True,
            valid_for_update=False,
        )
    )
    entity.add(
        Attribute(
            "statecode",
            AttributeType.STATE,
            options=[
                Option(0, "Active", default_status=1),
                Option(1, "Inactive", default_status=2),
            ],
        )
    )
    entity.add(
        Attribute(
            "statuscode",
            AttributeType.STATUS,
            options=[Option(1, "Active", state=0), Option(2, "Inactive", state=1)],
        )
    )
    api.schema.add_entity(entity)
    add_system_columns(api.schema, entity)
    for attribute in attributes:
        api.schema.add_attribute(entity, attribute)
    return _created(api, f"EntityDefinitions({entity.metadata_id})")


def _create_attribute(api: WebApi, request: ApiRequest, entity: Entity) -> ApiResponse:
    api.require_customization("prvCreateAttribute")
    attribute = attribute_from_json(request.json())
    if attribute.is_primary_name:
        raise bad_request("A table has exactly one primary name column, created with the table.")
    api.schema.add_attribute(entity, attribute)
    return _created(
        api, f"EntityDefinitions({entity.metadata_id})/Attributes({attribute.metadata_id})"
    )


def _relationships(api: WebApi, request: ApiRequest, key: str | None) -> ApiResponse:
    if request.method == "POST" and key is None:
        return _create_relationship(api, request)
    rows = _relationships_json(api)
    if key is None:
        return _listing(api, request, "RelationshipDefinitions", rows, {})
    wanted = _key_value(key, "SchemaName") or key
    row = next((r for r in rows if wanted in (r["SchemaName"], r["MetadataId"])), None)
    if row is None:
        raise DataverseError(404, "0x80040217", f"Could not find a relationship with {key}.")
    return _single(api, request, "RelationshipDefinitions", row, {})


def _create_relationship(api: WebApi, request: ApiRequest) -> ApiResponse:
    api.require_customization("prvCreateRelationship")
    body = request.json()
    odata_type = str(body.get("@odata.type", "")).lstrip("#").removeprefix(_CAST_PREFIX)
    if odata_type != "OneToManyRelationshipMetadata":
        raise bad_request(
            "Only OneToManyRelationshipMetadata relationships are supported by this sandbox."
        )
    schema_name = require_custom_schema_name(body.get("SchemaName"), "relationship")
    lookup_body = body.get("Lookup")
    if not isinstance(lookup_body, dict):
        raise bad_request("A one-to-many relationship needs its Lookup attribute definition.")
    lookup_schema = require_custom_schema_name(lookup_body.get("SchemaName"), "lookup column")
    referenced = api.schema.entity(str(body.get("ReferencedEntity", "")))
    referencing = api.schema.entity(str(body.get("ReferencingEntity", "")))
    cascade = body.get("CascadeConfiguration")
    cascade_delete = cascade.get("Delete") if isinstance(cascade, dict) else None
    lookup = Attribute(
        lookup_schema.lower(),
        AttributeType.LOOKUP,
        schema_name=lookup_schema,
        display_name=label_text(lookup_body.get("DisplayName"), lookup_schema),
        targets=[referenced.logical_name],
        is_custom=True,
    )
    relationship = Relationship(
        schema_name=schema_name,
        referenced_entity=referenced.logical_name,
        referencing_entity=referencing.logical_name,
        referencing_attribute=lookup.logical_name,
        # Dataverse defaults: the relationship's and the lookup's schema names (case-sensitive).
        referenced_nav=str(body.get("ReferencedEntityNavigationPropertyName") or schema_name),
        referencing_nav=str(body.get("ReferencingEntityNavigationPropertyName") or lookup_schema),
        cascade_delete=str(cascade_delete or "RemoveLink"),
        is_custom=True,
    )
    if lookup.logical_name in referencing.attributes:
        raise duplicate("column", lookup_schema)
    api.schema.add_relationship(relationship, lookup)
    return _created(api, f"RelationshipDefinitions({relationship.metadata_id})")
