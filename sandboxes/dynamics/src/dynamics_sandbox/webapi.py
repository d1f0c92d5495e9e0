"""The Dataverse Web API of one organisation (``{org url}/api/data/v9.2/``): its security
checks, paging, and the operations on tables and records. `dispatch` picks which module
answers a request; HTTP concerns (auth, limits, faults) live in the route."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from .api_messages import ApiRequest, ApiResponse
from .errors import (
    BAD_SYNTAX,
    INVALID_ARGUMENT,
    NOT_FOUND,
    PRIVILEGE_DENIED,
    DataverseError,
    bad_request,
    not_found,
)
from .identity import Principal
from .metadata import Entity
from .odata.filter import Compare, Literal, Property, evaluate, parse_filter
from .odata.options import (
    QueryOptions,
    annotation_filter,
    parse_options,
    split_top_level,
    unsupported_parameter,
)
from .paging import decode_skiptoken, encode_skiptoken, link, page_size
from .query import Expander, children, select_rows, validate
from .representation import Representation, etag, property_attribute
from .settings import DynamicsSandboxSettings
from .state import Organization
from .store.values import EntityRef, Record, parse_guid, to_json

# DuplicateRecordEntityKey: a second row with an alternate key's values.
DUPLICATE_KEY = "0x80060892"
PRIVILEGE_VERBS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo")
# Dataverse names most privileges after the table's schema name, with a few historic exceptions.
# Invoice lines have no privileges of their own: the invoice's govern them ("InvoiceDetail
# entity privileges: there are no specific privileges", Microsoft Learn).
_PRIVILEGE_TABLE_NAMES = {
    "systemuser": "User",
    "savedquery": "Query",
    "invoicedetail": "Invoice",
}


def privilege_name(verb: str, entity: Entity) -> str:
    return f"prv{verb}{_PRIVILEGE_TABLE_NAMES.get(entity.logical_name, entity.schema_name)}"


CUSTOMIZATION_PRIVILEGES = (
    "prvCreateEntity",
    "prvCreateAttribute",
    "prvCreateRelationship",
    "prvPublishCustomization",
    "prvDeleteEntity",
    "prvWriteEntity",
    "prvDeleteAttribute",
    "prvWriteAttribute",
    "prvImportCustomization",
)
# Needed to impersonate ("Impersonate another user using the Web API", Microsoft Learn).
ACT_ON_BEHALF = "prvActOnBehalfOfAnotherUser"


def _reference_url(request: ApiRequest) -> str:
    target = request.json().get("@odata.id")
    if not isinstance(target, str) or not target:
        raise bad_request("The request body must carry the related row's '@odata.id'.")
    return target


def _bound_id(entity: Entity, reference: str) -> uuid.UUID:
    """The row id in ``contacts(<id>)``, an absolute URL to it, or ``(<id>)``."""
    match = re.search(r"\(([^()]*)\)\s*$", unquote(reference))
    record_id = parse_guid(match.group(1).strip("'")) if match else None
    if record_id is None:
        raise bad_request(f"'{reference}' does not identify a row of '{entity.logical_name}'.")
    return record_id


class WebApi:
    def __init__(
        self,
        org: Organization,
        principal: Principal,
        api_url: str,
        settings: DynamicsSandboxSettings,
    ) -> None:
        self.org = org
        self.engine = org.engine
        self.schema = org.engine.schema
        self.principal = principal
        self.api_url = api_url
        self.settings = settings
        self.actor: EntityRef | None = org.systemuser_ref(principal.object_id)

    # --- security ---------------------------------------------------------------------------

    def acting_as(self, headers: dict[str, str]) -> WebApi:
        """This API acting as the user named by ``MSCRMCallerID`` (a systemuserid) or
        ``CallerObjectId`` (an Entra object id), with that user's privileges, if the caller
        holds prvActOnBehalfOfAnotherUser ("Impersonate another user using the Web API")."""
        caller_id, object_id = headers.get("mscrmcallerid"), headers.get("callerobjectid")
        if caller_id is None and object_id is None:
            return self
        if self.lacks(ACT_ON_BEHALF):
            raise self.privilege_denied(ACT_ON_BEHALF, None)
        raw = caller_id if caller_id is not None else object_id
        wanted = parse_guid(str(raw).strip("{}"))
        if wanted is None:
            raise bad_request(f"'{raw}' is not a valid user id.", INVALID_ARGUMENT)
        members = self.org.members
        target = (
            next((oid for oid, uid in members.items() if uid == wanted), None)
            if caller_id is not None
            else (wanted if wanted in members else None)
        )
        if target is None:
            raise not_found("systemuser", wanted)
        acting = copy.copy(self)
        acting.principal = replace(self.principal, object_id=target)
        acting.actor = self.org.systemuser_ref(target)
        return acting

    def privilege_denied(self, privilege: str, entity: Entity | None) -> DataverseError:
        target = (
            f" on OTC={entity.object_type_code} for entity '{entity.logical_name}'"
            if entity
            else ""
        )
        privilege_id = uuid.uuid5(uuid.NAMESPACE_URL, privilege)
        user_id = self.actor.id if self.actor else self.principal.object_id
        return DataverseError(
            403,
            PRIVILEGE_DENIED,
            f"Principal user (Id={user_id}, type=8, roleCount=1, privilegeCount="
            f"{len(self.privileges())}, accessMode=0), is missing {privilege} privilege "
            f"(Id={privilege_id}){target}.",
        )

    def lacks(self, privilege: str) -> bool:
        return self.org.lacks(self.principal.object_id, privilege)

    def require(self, verb: str, entity: Entity) -> None:
        privilege = privilege_name(verb, entity)
        if self.lacks(privilege):
            raise self.privilege_denied(privilege, entity)

    def require_binds(self, entity: Entity, payload: dict[str, Any]) -> None:
        """Setting a lookup needs Append on the row's table and AppendTo on the table it points
        at ("How record access is determined": Append, Append to, Microsoft Learn)."""
        for key, value in payload.items():
            if not key.endswith("@odata.bind") or value is None:
                continue
            relationship = self.schema.single_nav(entity, key.removesuffix("@odata.bind"))
            if relationship is None:
                continue  # the engine refuses an unknown navigation property
            self.require("Append", entity)
            self.require("AppendTo", self.schema.entity(relationship.referenced_entity))

    def require_customization(self, privilege: str) -> None:
        if self.lacks(privilege):
            raise self.privilege_denied(privilege, None)

    def all_privileges(self) -> list[str]:
        names = {
            privilege_name(verb, e): None
            for e in self.schema.entities.values()
            for verb in PRIVILEGE_VERBS
        }
        return [*names, *CUSTOMIZATION_PRIVILEGES, ACT_ON_BEHALF]

    def privileges(self) -> list[str]:
        return [n for n in self.all_privileges() if not self.lacks(n)]

    # --- resources ----------------------------------------------------------------------------

    def resource(
        self, request: ApiRequest, entity: Entity, key: str | None, rest: str
    ) -> ApiResponse:
        """A request to a table's collection (no `key`) or to one of its records."""
        if request.method != "GET":
            # Writes read $select/$expand (with return=representation) and $id ($ref) only.
            extra = [k for k in request.query if k not in ("$select", "$expand", "$id")]
            if extra:
                raise unsupported_parameter(extra[0])
        if key is None:
            return self._collection(request, entity, rest)
        record_id = parse_guid(key.strip("'"))
        if record_id is None:
            values = self._alternate_key(entity, key)
            found = self._find_by_key(entity, values)
            if found is None and (rest or request.method != "PATCH"):
                # "Use an alternate key to reference a record" (Microsoft Learn).
                raise DataverseError(
                    404,
                    NOT_FOUND,
                    "A record with the specified key values does not exist in "
                    f"{entity.logical_name} entity",
                )
            if found is None:  # an upsert by alternate key creates the row with its key values
                self.require("Create", entity)
                self.require_binds(entity, request.json())
                record = self.engine.create(entity, {**request.json(), **values}, actor=self.actor)
                return self._written(request, entity, record, created=True)
            record_id = found
        if rest:
            return self._record_member(request, entity, record_id, rest)
        if request.method == "GET":
            return self._retrieve(request, entity, record_id)
        if request.method == "PATCH":
            return self._upsert(request, entity, record_id)
        if request.method == "DELETE":
            return self._delete(request, entity, record_id)
        raise DataverseError(
            405, "0x80060888", f"The HTTP method {request.method} is not allowed here."
        )

    def _alternate_key(self, entity: Entity, key: str) -> dict[str, Any]:
        """``accountnumber='A1'`` or ``a=1,b='x'``: the values of a defined alternate key."""
        values: dict[str, Any] = {}
        for item in split_top_level(key, ","):
            name, sep, raw = item.partition("=")
            attribute = entity.attribute(name.strip())
            if not sep or attribute is None:
                raise bad_request(f"The key '{key}' is not valid for '{entity.logical_name}'.")
            literal = parse_filter(raw.strip())
            if not isinstance(literal, Literal):
                raise bad_request(f"The key value '{raw}' is not a literal.")
            values[attribute.logical_name] = literal.value
        if not any(sorted(k.attributes) == sorted(values) for k in entity.keys):
            raise bad_request(
                f"No alternate key defined on '{entity.logical_name}' consists of the columns "
                f"{', '.join(sorted(values))}."
            )
        return values

    def _find_by_key(
        self, entity: Entity, values: dict[str, Any], besides: uuid.UUID | None = None
    ) -> uuid.UUID | None:
        condition = [Compare("eq", Property(name), Literal(v)) for name, v in values.items()]
        for record in self.engine.rows(entity):
            if record[entity.primary_id] != besides and all(
                evaluate(c, record.get) for c in condition
            ):
                found: uuid.UUID = record[entity.primary_id]
                return found
        return None

    def _check_unique_keys(self, entity: Entity, record: Record) -> None:
        """An alternate key's values are unique among the table's rows."""
        for key in entity.keys:
            values = {name: record.get(name) for name in key.attributes}
            if any(v is None for v in values.values()):
                continue
            found = self._find_by_key(entity, values, besides=record[entity.primary_id])
            if found is not None:
                raise DataverseError(
                    412,
                    DUPLICATE_KEY,
                    f"A record that has the attribute values {', '.join(key.attributes)} "
                    f"already exists. The entity key {key.schema_name} requires that this set "
                    "of attributes contains unique values. Select unique values and try again.",
                )

    def service_document(self) -> ApiResponse:
        sets = sorted(e.entity_set_name for e in self.schema.entities.values())
        return ApiResponse(
            200,
            {
                "@odata.context": f"{self.api_url}/$metadata",
                "value": [{"name": s, "kind": "EntitySet", "url": s} for s in sets],
            },
        )

    def who_am_i(self) -> ApiResponse:
        if self.actor is None:
            raise self.not_a_member()
        return ApiResponse(
            200,
            {
                "@odata.context": f"{self.api_url}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": str(self.org.business_unit_id),
                "UserId": str(self.actor.id),
                "OrganizationId": str(self.org.id),
            },
        )

    def not_a_member(self) -> DataverseError:
        return DataverseError(403, "0x80072560", "The user is not a member of the organization.")

    # --- collections ------------------------------------------------------------------------

    def _collection(self, request: ApiRequest, entity: Entity, rest: str) -> ApiResponse:
        if rest == "$count" and request.method == "GET":
            return self._count(request, entity)
        if rest:
            return self._bulk_action(request, entity, rest)
        if request.method == "GET":
            return self._query(request, entity)
        if request.method == "POST":
            return self._create(request, entity)
        raise DataverseError(
            405, "0x80060888", f"The HTTP method {request.method} is not allowed here."
        )

    def representation(self, request: ApiRequest) -> tuple[Representation, dict[str, str]]:
        pattern = request.preferences.get("odata.include-annotations")
        applied = (
            {"Preference-Applied": f'odata.include-annotations="{pattern}"'} if pattern else {}
        )
        return Representation(self.engine, annotation_filter(pattern)), applied

    def expander(self, request: ApiRequest) -> tuple[Expander, dict[str, str]]:
        representation, applied = self.representation(request)
        return Expander(self.engine, representation, lambda e: self.require("Read", e)), applied

    def _query(self, request: ApiRequest, entity: Entity) -> ApiResponse:
        self.require("Read", entity)
        options = parse_options(request.query)
        expander, applied = self.expander(request)
        expander.validate(entity, options)
        rows = select_rows(
            self.engine, entity, self.engine.rows(entity), options.filter, options.orderby
        )
        return self.page(
            request, entity, rows, options, expander, applied, snapshot=self.engine.version
        )

    def _count(self, request: ApiRequest, entity: Entity) -> ApiResponse:
        """``GET accounts/$count`` (``$filter`` allowed): the number as plain text, at most
        5,000 ("Count number of rows", webapi/query/count-rows, Microsoft Learn)."""
        self.require("Read", entity)
        options = parse_options(request.query)
        if options.select or options.orderby or options.expand or options.top is not None:
            raise bad_request("Only $filter can be applied to /$count.")
        validate(self.schema, entity, options)
        rows = select_rows(self.engine, entity, self.engine.rows(entity), options.filter, [])
        count = str(min(len(rows), 5000)).encode()
        return ApiResponse(200, None, raw=count, content_type="text/plain")

    def page(
        self,
        request: ApiRequest,
        entity: Entity,
        rows: list[Record],
        options: QueryOptions,
        expander: Expander,
        applied: dict[str, str],
        *,
        snapshot: int,
        context_suffix: str = "",
        trailer: list[dict[str, Any]] | None = None,
        link_params: dict[str, str] | None = None,
    ) -> ApiResponse:
        """One page of `rows` (plus `trailer` items on the last page) with nextLink paging."""
        base = f"{self.api_url}/{entity.entity_set_name}"
        body: dict[str, Any] = {"@odata.context": self._context(entity, options) + context_suffix}
        if options.count:
            body["@odata.count"] = min(len(rows), 5000)
            if len(rows) > 5000:
                body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = True
        size, honoured = page_size(request.preferences, self.settings.max_page_size)
        page_number, offset = 1, 0
        if "$skiptoken" in request.query:
            page_number, offset, snapshot = decode_skiptoken(request.query["$skiptoken"])
        if options.top is not None:
            rows = rows[: options.top]
        window = rows[offset : offset + size]
        body["value"] = [expander.row(entity, r, options) for r in window]
        headers = dict(applied)
        if honoured:
            headers["Preference-Applied"] = ", ".join(
                filter(None, [headers.get("Preference-Applied"), f"odata.maxpagesize={size}"])
            )
        if offset + size < len(rows):
            cookie = encode_skiptoken(page_number + 1, offset + size, snapshot)
            params = request.query if link_params is None else link_params
            body["@odata.nextLink"] = link(base, params, {"$skiptoken": cookie})
        elif trailer is not None:
            body["value"].extend(trailer)
        return ApiResponse(200, body, headers)

    def _context(self, entity: Entity, options: QueryOptions) -> str:
        selected = f"({','.join(options.select)})" if options.select else ""
        return f"{self.api_url}/$metadata#{entity.entity_set_name}{selected}"

    def entity_id_url(self, entity: Entity, record_id: uuid.UUID) -> str:
        return f"{self.api_url}/{entity.entity_set_name}({record_id})"

    # --- single records ----------------------------------------------------------------------

    def _retrieve(self, request: ApiRequest, entity: Entity, record_id: uuid.UUID) -> ApiResponse:
        self.require("Read", entity)
        options = parse_options(request.query)
        expander, applied = self.expander(request)
        expander.validate(entity, options)
        record = self.engine.get(entity, record_id)
        body = {"@odata.context": self._context(entity, options) + "/$entity"}
        body.update(expander.row(entity, record, options))
        if request.headers.get("if-none-match") == etag(record):
            return ApiResponse(304, None, applied)
        return ApiResponse(200, body, applied)

    def _record_member(
        self, request: ApiRequest, entity: Entity, record_id: uuid.UUID, rest: str
    ) -> ApiResponse:
        if entity.logical_name == "systemuser" and rest.rstrip("()").endswith(
            "RetrieveUserPrivileges"
        ):
            return self._retrieve_user_privileges(record_id)
        if rest.endswith("/$ref"):
            return self._reference(request, entity, record_id, rest.removesuffix("/$ref"))
        segment, _, tail = rest.partition("/")
        if entity.attribute_by_odata_name(segment) is not None:
            return self._property(request, entity, record_id, segment, tail)
        collection = self.schema.collection_nav(entity, segment)
        if request.method != "GET" or collection is None or tail:
            raise bad_request(f"Resource not found for the segment '{rest}'.", "0x8006088a")
        self.require("Read", entity)
        record = self.engine.get(entity, record_id)
        child = self.schema.entity(collection.referencing_entity)
        self.require("Read", child)
        options = parse_options(request.query)
        expander, applied = self.expander(request)
        expander.validate(child, options)
        rows = select_rows(
            self.engine,
            child,
            children(self.engine, entity, record, segment),
            options.filter,
            options.orderby,
        )
        return self.page(
            request, child, rows, options, expander, applied, snapshot=self.engine.version
        )

    def _property(
        self, request: ApiRequest, entity: Entity, record_id: uuid.UUID, name: str, tail: str
    ) -> ApiResponse:
        """One column of one row: GET (``/$value`` for the raw value), PUT, DELETE.
        Source: "Retrieve a table row" (retrieve a single property value) and "Update and
        delete table rows" (update/delete a single property value), Microsoft Learn."""
        if tail not in ("", "$value") or (tail and request.method != "GET"):
            raise bad_request(f"Resource not found for the segment '{tail}'.", "0x8006088a")
        attribute = property_attribute(entity, name)
        if request.method == "GET":
            if request.query:
                raise unsupported_parameter(next(iter(request.query)))
            self.require("Read", entity)
            value = self.engine.get(entity, record_id).get(attribute.logical_name)
            if value is None:
                return ApiResponse(204)
            json_value = to_json(value.id if isinstance(value, EntityRef) else value)
            if tail == "$value":
                text = json_value if isinstance(json_value, str) else json.dumps(json_value)
                return ApiResponse(200, None, raw=text.encode(), content_type="text/plain")
            context = f"{self.api_url}/$metadata#{entity.entity_set_name}({record_id})/{name}"
            return ApiResponse(200, {"@odata.context": context, "value": json_value})
        if attribute.logical_name != name:
            raise bad_request(
                f"The lookup property '{name}' can't be written directly: use "
                f"'{attribute.logical_name}@odata.bind' or the navigation property's $ref."
            )
        if request.method == "PUT":
            body = request.json()
            if "value" not in body:
                raise bad_request("The request body must be an object with a 'value' property.")
            payload = {name: body["value"]}
        elif request.method == "DELETE":
            payload = {name: None}
        else:
            raise DataverseError(
                405, BAD_SYNTAX, f"The HTTP method {request.method} is not allowed here."
            )
        self.require("Write", entity)
        self.engine.update(entity, record_id, payload, actor=self.actor)
        return ApiResponse(204)

    def _reference(
        self, request: ApiRequest, entity: Entity, record_id: uuid.UUID, path: str
    ) -> ApiResponse:
        """Associate and disassociate with ``$ref`` ("Associate and disassociate table rows
        using the Web API", Microsoft Learn): PUT/DELETE on a single-valued navigation
        property, POST to a collection-valued one, DELETE ``collection(id)/$ref`` or
        ``collection/$ref?$id=...``."""
        match = re.fullmatch(r"([A-Za-z0-9_]+)(?:\((.*)\))?", path)
        if match is None:
            raise bad_request(f"Resource not found for the segment '{path}'.", "0x8006088a")
        nav, child_key = match.group(1), match.group(2)
        single = self.schema.single_nav(entity, nav)
        if single is not None and child_key is None:
            self.require("Write", entity)
            if request.method == "PUT":
                target = _reference_url(request)
                self.require("AppendTo", self.schema.entity(single.referenced_entity))
                self.engine.update(
                    entity, record_id, {f"{nav}@odata.bind": target}, actor=self.actor
                )
            elif request.method == "DELETE":
                self.engine.update(entity, record_id, {f"{nav}@odata.bind": None}, actor=self.actor)
            else:
                raise DataverseError(
                    405, BAD_SYNTAX, f"The HTTP method {request.method} is not allowed here."
                )
            return ApiResponse(204)
        collection = self.schema.collection_nav(entity, nav)
        if collection is None:
            raise bad_request(
                f"Could not find a property named '{nav}' on type "
                f"'Microsoft.Dynamics.CRM.{entity.logical_name}'."
            )
        child = self.schema.entity(collection.referencing_entity)
        parent_url = self.entity_id_url(entity, record_id)
        self.engine.get(entity, record_id)
        self.require("AppendTo", entity)
        self.require("Write", child)
        if request.method == "POST" and child_key is None:
            child_id = _bound_id(child, _reference_url(request))
            bind: str | None = parent_url
        elif request.method == "DELETE":
            raw = child_key if child_key is not None else request.query.get("$id", "")
            child_id = _bound_id(child, raw if child_key is None else f"({raw})")
            bind = None
        else:
            raise DataverseError(
                405, BAD_SYNTAX, f"The HTTP method {request.method} is not allowed here."
            )
        record = self.engine.get(child, child_id)
        owner = record.get(collection.referencing_attribute)
        if bind is None and owner != EntityRef(entity.logical_name, record_id):
            raise not_found(child.logical_name, child_id)
        self.engine.update(
            child, child_id, {f"{collection.referencing_nav}@odata.bind": bind}, actor=self.actor
        )
        return ApiResponse(204)

    def _retrieve_user_privileges(self, user_id: uuid.UUID) -> ApiResponse:
        self.engine.get(self.schema.entity("systemuser"), user_id)
        principal = next((oid for oid, uid in self.org.members.items() if uid == user_id), None)
        names = [
            n
            for n in self.all_privileges()
            if principal is None or not self.org.lacks(principal, n)
        ]
        return self.privileges_answer("RetrieveUserPrivilegesResponse", names)

    def privileges_answer(self, response_type: str, names: Iterable[str]) -> ApiResponse:
        """A `RolePrivileges` list as the privilege functions answer it (a user's, a role's)."""
        return ApiResponse(
            200,
            {
                "@odata.context": (
                    f"{self.api_url}/$metadata#Microsoft.Dynamics.CRM.{response_type}"
                ),
                "RolePrivileges": [
                    {
                        "Depth": "Global",
                        "PrivilegeId": str(uuid.uuid5(uuid.NAMESPACE_URL, n)),
                        "BusinessUnitId": str(self.org.business_unit_id),
                        "PrivilegeName": n,
                    }
                    for n in names
                ],
            },
        )

    def _written(
        self, request: ApiRequest, entity: Entity, record: Record, *, created: bool
    ) -> ApiResponse:
        """204 + OData-EntityId, or the row itself under ``Prefer: return=representation``."""
        location = self.entity_id_url(entity, record[entity.primary_id])
        if request.preferences.get("return") == "representation":
            options = parse_options(
                {k: v for k, v in request.query.items() if k in ("$select", "$expand")}
            )
            expander, applied = self.expander(request)
            expander.validate(entity, options)
            body = {"@odata.context": self._context(entity, options) + "/$entity"}
            body.update(expander.row(entity, record, options))
            preference = ", ".join(
                filter(None, [applied.get("Preference-Applied"), "return=representation"])
            )
            headers = {
                "Preference-Applied": preference,
                "OData-EntityId": location,
                "ETag": etag(record),
            }
            return ApiResponse(201 if created else 200, body, headers)
        return ApiResponse(204, None, {"OData-EntityId": location})

    def _create(self, request: ApiRequest, entity: Entity) -> ApiResponse:
        self.require("Create", entity)
        self.require_binds(entity, request.json())
        with self.engine.transaction():
            record = self.engine.create(entity, request.json(), actor=self.actor)
            self._check_unique_keys(entity, record)
        return self._written(request, entity, record, created=True)

    def _upsert(self, request: ApiRequest, entity: Entity, record_id: uuid.UUID) -> ApiResponse:
        existing = self.engine.find(entity, record_id)
        if_match, if_none_match = (
            request.headers.get("if-match"),
            request.headers.get("if-none-match"),
        )
        payload = request.json()
        if existing is None:
            if if_match is not None:
                raise not_found(entity.logical_name, record_id)
            self.require("Create", entity)
            self.require_binds(entity, payload)
            with self.engine.transaction():
                record = self.engine.create(entity, payload, actor=self.actor, record_id=record_id)
                self._check_unique_keys(entity, record)
            return self._written(request, entity, record, created=True)
        if if_none_match == "*":
            raise DataverseError(
                412, "0x80040237", "A record with matching key values already exists."
            )
        self._check_etag(if_match, existing)
        self.require("Write", entity)
        self.require_binds(entity, payload)
        with self.engine.transaction():
            record = self.engine.update(entity, record_id, payload, actor=self.actor)
            self._check_unique_keys(entity, record)
        return self._written(request, entity, record, created=False)

    def _check_etag(self, if_match: str | None, record: Record) -> None:
        if if_match not in (None, "*") and if_match != etag(record):
            raise DataverseError(
                412,
                "0x80060882",
                "The version of the existing record doesn't match the RowVersion property "
                "provided.",
            )

    def _delete(self, request: ApiRequest, entity: Entity, record_id: uuid.UUID) -> ApiResponse:
        self._check_etag(request.headers.get("if-match"), self.engine.get(entity, record_id))
        self.require("Delete", entity)
        self.engine.delete(entity, record_id, actor=self.actor)
        return ApiResponse(204)

    def _upsert_target(self, entity: Entity, target: dict[str, Any]) -> dict[str, Any]:
        """One UpsertMultiple target: ``@odata.id`` names the row by id or alternate key."""
        reference = str(target.get("@odata.id", ""))
        match = re.fullmatch(r"(?:.*/)?[A-Za-z0-9_]+\((.+)\)", reference)
        if match is None:
            raise bad_request("Each UpsertMultiple target needs its '@odata.id'.")
        key = match.group(1)
        values: dict[str, Any] = {}
        record_id = parse_guid(key.strip("'"))
        if record_id is None:
            values = self._alternate_key(entity, key)
            record_id = self._find_by_key(entity, values)
        payload = {k: v for k, v in target.items() if not k.startswith("@")}
        if record_id is not None and self.engine.find(entity, record_id) is not None:
            record = self.engine.update(entity, record_id, payload, actor=self.actor)
            created = False
        else:
            record = self.engine.create(
                entity, {**payload, **values}, actor=self.actor, record_id=record_id
            )
            created = True
        self._check_unique_keys(entity, record)
        return {
            "RecordCreated": created,
            "Target": {entity.primary_id: str(record[entity.primary_id])},
        }

    def _bulk_action(self, request: ApiRequest, entity: Entity, action: str) -> ApiResponse:
        """CreateMultiple / UpdateMultiple / UpsertMultiple: all targets in one transaction
        ("Use bulk operation messages", Microsoft Learn)."""
        name = action.removeprefix("Microsoft.Dynamics.CRM.")
        if request.method != "POST" or name not in (
            "CreateMultiple",
            "UpdateMultiple",
            "UpsertMultiple",
        ):
            raise bad_request(f"Resource not found for the segment '{action}'.", "0x8006088a")
        targets = request.json().get("Targets")
        if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
            raise bad_request("Targets must be a list of records.")
        self.require("Create" if name == "CreateMultiple" else "Write", entity)
        for target in targets:
            self.require_binds(entity, target)
        with self.engine.transaction():
            if name == "CreateMultiple":
                ids = [
                    str(self.engine.create(entity, t, actor=self.actor)[entity.primary_id])
                    for t in targets
                ]
                context = f"{self.api_url}/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
                return ApiResponse(200, {"@odata.context": context, "Ids": ids})
            if name == "UpsertMultiple":
                self.require("Write", entity)
                results = [self._upsert_target(entity, t) for t in targets]
                context = f"{self.api_url}/$metadata#Microsoft.Dynamics.CRM.UpsertMultipleResponse"
                return ApiResponse(200, {"@odata.context": context, "Results": results})
            for target in targets:
                record_id = parse_guid(str(target.get(entity.primary_id, "")))
                if record_id is None:
                    raise bad_request(f"Each target must carry its '{entity.primary_id}'.")
                self.engine.update(entity, record_id, target, actor=self.actor)
        return ApiResponse(204)
