"""The Dataverse Web API of one organisation (``{org url}/api/data/v9.2/``): its security
checks, paging, and the operations on tables and records. `dispatch` picks which module
answers a request; HTTP concerns (auth, limits, faults) live in the route."""

from __future__ import annotations

import uuid
from typing import Any

from .api_messages import ApiRequest, ApiResponse
from .errors import PRIVILEGE_DENIED, DataverseError, bad_request, not_found
from .identity import Principal
from .metadata import Entity
from .odata.options import QueryOptions, annotation_filter, parse_options
from .paging import decode_skiptoken, encode_skiptoken, link, page_size
from .query import Expander, select_rows
from .representation import Representation, etag
from .settings import DynamicsSandboxSettings
from .state import Organization
from .store.values import EntityRef, Record, parse_guid

PRIVILEGE_VERBS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo")
# Dataverse names most privileges after the table's schema name, with a few historic exceptions.
_PRIVILEGE_TABLE_NAMES = {"systemuser": "User"}


def privilege_name(verb: str, entity: Entity) -> str:
    return f"prv{verb}{_PRIVILEGE_TABLE_NAMES.get(entity.logical_name, entity.schema_name)}"


CUSTOMIZATION_PRIVILEGES = (
    "prvCreateEntity",
    "prvCreateAttribute",
    "prvCreateRelationship",
    "prvPublishCustomization",
)


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

    def denied(self) -> set[str]:
        return self.org.denied.get(self.principal.object_id, set())

    def require(self, verb: str, entity: Entity) -> None:
        privilege = privilege_name(verb, entity)
        if privilege in self.denied():
            raise self.privilege_denied(privilege, entity)

    def require_customization(self, privilege: str) -> None:
        if privilege in self.denied():
            raise self.privilege_denied(privilege, None)

    def all_privileges(self) -> list[str]:
        names = [
            privilege_name(verb, e)
            for e in self.schema.entities.values()
            for verb in PRIVILEGE_VERBS
        ]
        return names + list(CUSTOMIZATION_PRIVILEGES)

    def privileges(self) -> list[str]:
        denied = self.denied()
        return [n for n in self.all_privileges() if n not in denied]

    # --- resources ----------------------------------------------------------------------------

    def resource(
        self, request: ApiRequest, entity: Entity, key: str | None, rest: str
    ) -> ApiResponse:
        """A request to a table's collection (no `key`) or to one of its records."""
        if key is None:
            return self._collection(request, entity, rest)
        record_id = parse_guid(key.strip("'"))
        if record_id is None:
            raise bad_request(
                f"The key '{key}' is not a record id; alternate keys are not defined on "
                f"'{entity.logical_name}'."
            )
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
        rows = select_rows(entity, self.engine.rows(entity), options.filter, options.orderby)
        return self.page(
            request, entity, rows, options, expander, applied, snapshot=self.engine.version
        )

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
        collection = self.schema.collection_nav(entity, rest)
        if request.method != "GET" or collection is None:
            raise bad_request(f"Resource not found for the segment '{rest}'.", "0x8006088a")
        self.require("Read", entity)
        record = self.engine.get(entity, record_id)
        child = self.schema.entity(collection.referencing_entity)
        self.require("Read", child)
        options = parse_options(request.query)
        expander, applied = self.expander(request)
        expander.validate(child, options)
        ref = EntityRef(entity.logical_name, record[entity.primary_id])
        rows = [
            r for r in self.engine.rows(child) if r.get(collection.referencing_attribute) == ref
        ]
        rows = select_rows(child, rows, options.filter, options.orderby)
        return self.page(
            request, child, rows, options, expander, applied, snapshot=self.engine.version
        )

    def _retrieve_user_privileges(self, user_id: uuid.UUID) -> ApiResponse:
        self.engine.get(self.schema.entity("systemuser"), user_id)
        principal = next((oid for oid, uid in self.org.members.items() if uid == user_id), None)
        denied = self.org.denied.get(principal, set()) if principal else set()
        names = [n for n in self.all_privileges() if n not in denied]
        return ApiResponse(
            200,
            {
                "@odata.context": (
                    f"{self.api_url}/$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse"
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
        record = self.engine.create(entity, request.json(), actor=self.actor)
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
            record = self.engine.create(entity, payload, actor=self.actor, record_id=record_id)
            return self._written(request, entity, record, created=True)
        if if_none_match == "*":
            raise DataverseError(
                412, "0x80040237", "A record with matching key values already exists."
            )
        self._check_etag(if_match, existing)
        self.require("Write", entity)
        record = self.engine.update(entity, record_id, payload, actor=self.actor)
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
        self.engine.delete(entity, record_id)
        return ApiResponse(204)

    def _bulk_action(self, request: ApiRequest, entity: Entity, action: str) -> ApiResponse:
        """CreateMultiple / UpdateMultiple: all targets in one transaction."""
        name = action.removeprefix("Microsoft.Dynamics.CRM.")
        if request.method != "POST" or name not in ("CreateMultiple", "UpdateMultiple"):
            raise bad_request(f"Resource not found for the segment '{action}'.", "0x8006088a")
        targets = request.json().get("Targets")
        if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
            raise bad_request("Targets must be a list of records.")
        self.require("Create" if name == "CreateMultiple" else "Write", entity)
        with self.engine.transaction():
            if name == "CreateMultiple":
                ids = [
                    str(self.engine.create(entity, t, actor=self.actor)[entity.primary_id])
                    for t in targets
                ]
                context = f"{self.api_url}/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
                return ApiResponse(200, {"@odata.context": context, "Ids": ids})
            for target in targets:
                record_id = parse_guid(str(target.get(entity.primary_id, "")))
                if record_id is None:
                    raise bad_request(f"Each target must carry its '{entity.primary_id}'.")
                self.engine.update(entity, record_id, target, actor=self.actor)
        return ApiResponse(204)
