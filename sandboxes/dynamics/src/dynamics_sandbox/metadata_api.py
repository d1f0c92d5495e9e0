"""Metadata endpoints: EntityDefinitions, RelationshipDefinitions and publishing, so a client
can install its own tables, columns and lookups (also on standard tables) and then use them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .api_messages import ApiRequest, ApiResponse
from .errors import INVALID_ARGUMENT, DataverseError, bad_request, segment_not_found
from .metadata import (
    LOOKUP_TYPES,
    Attribute,
    AttributeType,
    Entity,
    EntityKey,
    Option,
    Relationship,
    attribute_from_json,
    duplicate,
    label_text,
    pluralize,
    require_custom_schema_name,
)
from .odata.filter import evaluate
from .odata.options import QueryOptions, parse_options, unsupported_parameter
from .standard_tables import add_system_columns
from .store.values import parse_guid
from .webapi import WebApi

SEGMENTS = frozenset(
    {
        "EntityDefinitions",
        "RelationshipDefinitions",
        "PublishXml",
        "PublishAllXml",
        "CreateEntities",
    }
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
    if name == "CreateEntities":
        return _create_entities(api, request)
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
    if not rest and request.method == "DELETE":
        return _delete_entity(api, entity)
    if not rest and request.method == "PUT":
        return _update_entity(api, request, entity)
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
        if request.method == "DELETE":
            return _delete_attribute(api, entity, attribute)
        if request.method == "PUT":
            return _update_attribute(api, request, entity, attribute)
        # A choice column's options come with `$expand=OptionSet` (Microsoft Learn, "Query
        # table definitions using the Web API": retrieve attributes).
        return _single(
            api,
            request,
            "EntityDefinitions/Attributes",
            attribute.to_json(entity, with_options=True),
            {"OptionSet": None},
        )
    if segment == "Keys" or segment.startswith("Keys("):
        return _keys(api, request, entity, segment)
    if segment in ("OneToManyRelationships", "ManyToOneRelationships"):
        side = "ReferencedEntity" if segment == "OneToManyRelationships" else "ReferencingEntity"
        rows = [r for r in _relationships_json(api) if r[side] == entity.logical_name]
        return _listing(api, request, f"EntityDefinitions/{segment}", rows, {})
    raise segment_not_found(segment)


# --- reading ----------------------------------------------------------------------------------

Expansions = dict[str, Callable[[dict[str, Any]], Any] | None]


def _options(request: ApiRequest, expansions: Expansions) -> QueryOptions:
    if request.method != "GET":
        raise DataverseError(
            405, "0x80060888", f"The HTTP method {request.method} is not allowed here."
        )
    params = dict(request.query)
    expand = params.pop("$expand", "")
    for item in filter(None, (e.split("(")[0].strip() for e in expand.split(","))):
        if item not in expansions:
            raise bad_request(f"Could not find a property named '{item}' on the metadata type.")
    # Definitions queries take $select, $filter and $expand only ("Query table definitions
    # using the Web API", Microsoft Learn).
    for name in ("$orderby", "$top", "$count", "$skiptoken", "$deltatoken"):
        if name in params:
            raise unsupported_parameter(name)
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
    entity = new_entity(api, request.json())
    return _created(api, f"EntityDefinitions({entity.metadata_id})")


def _create_entities(api: WebApi, request: ApiRequest) -> ApiResponse:
    """The CreateEntities action (ComplexEntityMetadata items, created in one transaction),
    which powerplatform-dataverse-client uses for ``tables.create``."""
    if request.method != "POST":
        raise DataverseError(405, "0x80060888", "CreateEntities is an action: use POST.")
    items = request.json().get("Entities")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request("Entities must be a list of ComplexEntityMetadata.")
    created: list[Entity] = []
    try:
        for item in items:
            created.append(new_entity(api, item))
    except DataverseError:
        for entity in created:
            del api.schema.entities[entity.logical_name]
        raise
    return ApiResponse(
        200,
        {
            "@odata.context": (
                f"{api.api_url}/$metadata#Microsoft.Dynamics.CRM.CreateEntitiesResponse"
            ),
            "EntityIds": [str(e.metadata_id) for e in created],
        },
    )


def new_entity(api: WebApi, body: dict[str, Any]) -> Entity:
    api.require_customization("prvCreateEntity")
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
        has_notes=bool(body.get("HasNotes", False)),
        has_activities=bool(body.get("HasActivities", False)),
        description=label_text(body.get("Description"), ""),
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
    return entity


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
    if request.method == "DELETE":
        return _delete_relationship(api, api.schema.relationships[row["SchemaName"]])
    return _single(api, request, "RelationshipDefinitions", row, {})


def _delete_relationship(api: WebApi, relationship: Relationship) -> ApiResponse:
    """Deleting a custom one-to-many relationship deletes its lookup column and the values."""
    api.require_customization("prvDeleteAttribute")
    if not relationship.is_custom:
        raise DataverseError(
            400,
            _CANNOT_DELETE,
            f"The relationship '{relationship.schema_name}' is not a custom relationship.",
        )
    del api.schema.relationships[relationship.schema_name]
    referencing = api.schema.entity(relationship.referencing_entity)
    column = relationship.referencing_attribute
    if not api.schema.lookups_of(referencing, column):
        referencing.attributes.pop(column, None)
        for record in api.engine.table(referencing).values():
            record.pop(column, None)
    return ApiResponse(204)


def _create_relationship(api: WebApi, request: ApiRequest) -> ApiResponse:
    relationship = create_relationship(api, request.json())
    return _created(api, f"RelationshipDefinitions({relationship.metadata_id})")


def create_relationship(api: WebApi, body: dict[str, Any]) -> Relationship:
    """A one-to-many relationship and its lookup column, from OneToManyRelationshipMetadata."""
    api.require_customization("prvCreateRelationship")
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
    return relationship


# --- changing and deleting ------------------------------------------------------------------
# Sources (Microsoft Learn): "Create and update table definitions using the Web API" (update
# with PUT of the whole definition; MSCRM.MergeLabels), "Create columns" / "Update a column",
# and "Delete tables" (only custom tables can be deleted, dependent components block it).

# Dataverse's exact code for these refusals is not documented; InvalidArgument (README).
_CANNOT_DELETE = INVALID_ARGUMENT


def _immutable(body: dict[str, Any], current: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in body and body[name] != current[name]:
            raise bad_request(f"The property '{name}' can't be changed once created.")


def _update_entity(api: WebApi, request: ApiRequest, entity: Entity) -> ApiResponse:
    api.require_customization("prvWriteEntity")
    body = request.json()
    _immutable(
        body,
        entity.to_json(),
        ("LogicalName", "SchemaName", "EntitySetName", "PrimaryIdAttribute", "OwnershipType"),
    )
    entity.display_name = label_text(body.get("DisplayName"), entity.display_name)
    entity.display_collection_name = label_text(
        body.get("DisplayCollectionName"), entity.display_collection_name
    )
    entity.description = label_text(body.get("Description"), entity.description)
    for prop, attr in (
        ("ChangeTrackingEnabled", "change_tracking"),
        ("HasNotes", "has_notes"),
        ("HasActivities", "has_activities"),
    ):
        if isinstance(body.get(prop), bool):
            setattr(entity, attr, body[prop])
    return ApiResponse(204)


def _delete_entity(api: WebApi, entity: Entity) -> ApiResponse:
    api.require_customization("prvDeleteEntity")
    if not entity.is_custom:
        raise DataverseError(
            400, _CANNOT_DELETE, f"The table '{entity.logical_name}' is not a custom table."
        )
    dependants = [
        r.schema_name
        for r in api.schema.relationships.values()
        if r.referenced_entity == entity.logical_name
        and r.referencing_entity != entity.logical_name
    ]
    if dependants:
        raise DataverseError(
            400,
            _CANNOT_DELETE,
            f"The table '{entity.logical_name}' cannot be deleted because other components "
            f"depend on it: {', '.join(sorted(dependants))}.",
        )
    for name in [
        n
        for n, r in api.schema.relationships.items()
        if r.referencing_entity == entity.logical_name
    ]:
        del api.schema.relationships[name]
    del api.schema.entities[entity.logical_name]
    api.engine.table(entity).clear()
    return ApiResponse(204)


def _update_attribute(
    api: WebApi, request: ApiRequest, entity: Entity, attribute: Attribute
) -> ApiResponse:
    api.require_customization("prvWriteAttribute")
    body = request.json()
    current = attribute.to_json(entity, with_options=False)
    _immutable(body, current, ("LogicalName", "SchemaName", "AttributeType"))
    attribute.display_name = label_text(body.get("DisplayName"), attribute.display_name)
    required = body.get("RequiredLevel")
    if isinstance(required, dict) and isinstance(required.get("Value"), str):
        attribute.required = required["Value"]
    if isinstance(body.get("MaxLength"), int) and attribute.max_length is not None:
        attribute.max_length = body["MaxLength"]
    return ApiResponse(204)


def _delete_attribute(api: WebApi, entity: Entity, attribute: Attribute) -> ApiResponse:
    api.require_customization("prvDeleteAttribute")
    if not attribute.is_custom:
        raise DataverseError(
            400,
            _CANNOT_DELETE,
            f"The column '{attribute.logical_name}' is not a custom column and can't be deleted.",
        )
    if attribute.type in LOOKUP_TYPES:
        raise DataverseError(
            400,
            _CANNOT_DELETE,
            f"The lookup column '{attribute.logical_name}' is deleted with its relationship.",
        )
    del entity.attributes[attribute.logical_name]
    for record in api.engine.table(entity).values():
        record.pop(attribute.logical_name, None)
    return ApiResponse(204)


def _keys(api: WebApi, request: ApiRequest, entity: Entity, segment: str) -> ApiResponse:
    """``EntityDefinitions(...)/Keys``: list, create (POST), read or delete one alternate key."""
    if segment == "Keys":
        if request.method == "POST":
            api.require_customization("prvWriteEntity")
            body = request.json()
            schema_name = require_custom_schema_name(body.get("SchemaName"), "key")
            columns = body.get("KeyAttributes")
            if not isinstance(columns, list) or not columns:
                raise bad_request("KeyAttributes must list the key's columns.")
            for name in columns:
                found = entity.attribute(str(name))
                if found is None:
                    raise bad_request(
                        f"The column '{name}' does not exist on '{entity.logical_name}'."
                    )
            if any(k.schema_name.lower() == schema_name.lower() for k in entity.keys):
                raise duplicate("key", schema_name)
            created = EntityKey(
                schema_name,
                [str(c) for c in columns],
                label_text(body.get("DisplayName"), schema_name),
            )
            entity.keys.append(created)
            return _created(
                api, f"EntityDefinitions({entity.metadata_id})/Keys({created.metadata_id})"
            )
        rows = [k.to_json(entity) for k in entity.keys]
        return _listing(api, request, "EntityDefinitions/Keys", rows, {})
    wanted = segment[len("Keys(") : -1]
    key_id = parse_guid(wanted)
    logical = _key_value(wanted, "LogicalName")
    key = next(
        (k for k in entity.keys if k.metadata_id == key_id or k.schema_name.lower() == logical),
        None,
    )
    if key is None:
        raise DataverseError(404, "0x80040217", f"Could not find a key with {wanted}.")
    if request.method == "DELETE":
        api.require_customization("prvWriteEntity")
        entity.keys.remove(key)
        return ApiResponse(204)
    return _single(api, request, "EntityDefinitions/Keys", key.to_json(entity), {})
