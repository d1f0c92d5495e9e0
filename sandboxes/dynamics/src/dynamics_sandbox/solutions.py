"""Solutions: `ImportSolution` applies a package's tables, columns, lookups, forms, views and
security roles and records the solution; `DELETE solutions(id)` removes everything it added;
`RetrieveRolePrivilegesRole` lists a role's privileges.

Sources (Microsoft Learn): "ImportSolution Action" (a managed solution; no return value),
"ImportSolutionRequest.OverwriteUnmanagedCustomizations" (importing an installed managed
solution again, as a newer version, updates its components; rows are kept; components missing
from the new version stay), "Uninstall or delete a solution" (deleting a managed solution
deletes it and all its components),
"RetrieveRolePrivilegesRole Function" (RolePrivileges: Depth, PrivilegeId, BusinessUnitId,
PrivilegeName), and the "solution", "systemform", "savedquery" and "role" entity references."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from . import metadata_api
from .api_messages import ApiRequest, ApiResponse
from .errors import DataverseError, bad_request, not_found
from .metadata import Attribute, AttributeType, Entity, attribute_from_json, label_text
from .solution_package import INVALID_PRIVILEGE, SolutionPackage, TableDefinition, read
from .state import SolutionComponents
from .store.values import parse_guid
from .webapi import PRIVILEGE_VERBS, WebApi

SEGMENTS = frozenset({"ImportSolution", "RetrieveRolePrivilegesRole"})
IMPORT_PRIVILEGE = "prvImportCustomization"


def handle(api: WebApi, request: ApiRequest, name: str, key: str | None) -> ApiResponse:
    if name == "RetrieveRolePrivilegesRole":
        if request.method != "GET":
            raise DataverseError(405, "0x80060888", f"{name} is a function: use GET.")
        return _role_privileges(api, request, key or "")
    if request.method != "POST":
        raise DataverseError(405, "0x80060888", f"{name} is an action: use POST.")
    api.require_customization(IMPORT_PRIVILEGE)
    raw = request.json().get("CustomizationFile")
    if not isinstance(raw, str) or not raw:
        raise bad_request("The parameter 'CustomizationFile' is required.")
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("'CustomizationFile' is not valid base64 (Edm.Binary).") from None
    package = read(content)
    if not package.managed:
        raise bad_request(
            "Importing an unmanaged solution is not emulated by the sandbox: export it managed."
        )
    _import(api, package)
    return ApiResponse(204)


# --- import -----------------------------------------------------------------------------------


def _import(api: WebApi, package: SolutionPackage) -> None:
    solutions = api.schema.entity("solution")
    existing = next(
        (r for r in api.engine.rows(solutions) if r.get("uniquename") == package.unique_name),
        None,
    )
    solution_id: uuid.UUID = existing["solutionid"] if existing else uuid.uuid4()
    _check_privileges(api, package)  # before anything changes
    components = api.org.solution_components.setdefault(solution_id, SolutionComponents())
    with api.engine.transaction():
        for table in package.tables:
            _apply_table(api, table, components)
        for body in package.relationships:
            if body["SchemaName"] not in api.schema.relationships:
                metadata_api.create_relationship(api, body)
                components.relationships.add(body["SchemaName"])
        for table in package.tables:
            for form in table.forms:
                entity = api.schema.entity(table.schema_name.lower())
                _upsert(
                    api, "systemform", {**form, "objecttypecode": entity.logical_name}, solution_id
                )
                components.forms.add(form["formid"])
            for view in table.views:
                _upsert(api, "savedquery", view, solution_id)
                components.views.add(view["savedqueryid"])
        _apply_roles(api, package, components, solution_id)
        publisher_id = _upsert_publisher(api, package.publisher)
        values = {
            "uniquename": package.unique_name,
            "friendlyname": package.friendly_name,
            "description": package.description,
            "version": package.version,
            "ismanaged": package.managed,
            "installedon": api.engine.clock.now().isoformat(),
            "publisherid": str(publisher_id),
        }
        _write(api, solutions, solution_id, values)


def _apply_table(api: WebApi, table: TableDefinition, components: SolutionComponents) -> None:
    logical = table.schema_name.lower()
    entity = api.schema.entities.get(logical)
    if entity is None and table.standard:
        raise bad_request(f"The table '{table.schema_name}' does not exist in this organisation.")
    if entity is None:
        metadata_api.new_entity(api, {**table.metadata, "Attributes": table.columns})
        components.tables.add(logical)
        return
    if not table.standard:
        entity.display_name = label_text(table.metadata["DisplayName"], entity.display_name)
        entity.description = label_text(table.metadata["Description"], entity.description)
    for body in table.columns:
        column = str(body["SchemaName"]).lower()
        current = entity.attributes.get(column)
        if current is None:
            api.require_customization("prvCreateAttribute")
            api.schema.add_attribute(entity, attribute_from_json(body))
            if table.standard:
                components.columns.add((logical, column))
        else:
            current.display_name = label_text(body["DisplayName"], current.display_name)
            _add_options(current, attribute_from_json(body))


def _add_options(current: Attribute, imported: Attribute) -> None:
    """Choices a newer version adds to a choice column (an update never removes one)."""
    if current.type is not AttributeType.PICKLIST or imported.type is not AttributeType.PICKLIST:
        return
    known = {option.value for option in current.options}
    current.options.extend(o for o in imported.options if o.value not in known)


def _check_privileges(api: WebApi, package: SolutionPackage) -> None:
    """Every role privilege exists in the organisation, or with a table the package adds."""
    known = set(api.all_privileges()) | {
        f"prv{verb}{table.schema_name}" for table in package.tables for verb in PRIVILEGE_VERBS
    }
    for name, privileges in package.roles.values():
        unknown = sorted(privileges - known)
        if unknown:
            raise DataverseError(
                400,
                INVALID_PRIVILEGE,
                f"The privilege to be imported is invalid: {', '.join(unknown)} (role {name}).",
            )


def _apply_roles(
    api: WebApi, package: SolutionPackage, components: SolutionComponents, solution_id: uuid.UUID
) -> None:
    for role_id, (name, privileges) in package.roles.items():
        _upsert(
            api,
            "role",
            {"roleid": role_id, "name": name, "businessunitid": str(api.org.business_unit_id)},
            solution_id,
        )
        api.org.roles[role_id] = set(privileges)
        components.roles.add(role_id)


def _upsert_publisher(api: WebApi, values: dict[str, Any]) -> uuid.UUID:
    publishers = api.schema.entity("publisher")
    found = next(
        (r for r in api.engine.rows(publishers) if r.get("uniquename") == values["uniquename"]),
        None,
    )
    publisher_id: uuid.UUID = found["publisherid"] if found else uuid.uuid4()
    _write(api, publishers, publisher_id, values)
    return publisher_id


def _upsert(api: WebApi, table: str, row: dict[str, Any], solution_id: uuid.UUID) -> None:
    entity = api.schema.entity(table)
    row_id = row[entity.primary_id]
    values = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in row.items()}
    values.pop(entity.primary_id)
    _write(api, entity, row_id, {**values, "ismanaged": True, "solutionid": str(solution_id)})


def _write(api: WebApi, entity: Entity, row_id: uuid.UUID, values: dict[str, Any]) -> None:
    if api.engine.find(entity, row_id) is None:
        api.engine.create(entity, values, record_id=row_id, trusted=True)
    else:
        api.engine.update(entity, row_id, values, trusted=True)


# --- delete -----------------------------------------------------------------------------------


def delete(api: WebApi, key: str) -> ApiResponse:
    """Deleting a managed solution removes what it added, rows included."""
    api.require_customization(IMPORT_PRIVILEGE)
    solutions = api.schema.entity("solution")
    solution_id = parse_guid(key.strip("'"))
    if solution_id is None or api.engine.find(solutions, solution_id) is None:
        raise not_found("solution", solution_id or key)
    components = api.org.solution_components.pop(solution_id, SolutionComponents())
    schema, engine = api.schema, api.engine
    with engine.transaction():
        for table, ids in (("systemform", components.forms), ("savedquery", components.views)):
            for row_id in ids:
                if engine.find(schema.entity(table), row_id) is not None:
                    engine.remove(schema.entity(table), row_id)
        for role_id in components.roles:
            engine.remove(schema.entity("role"), role_id)
            api.org.roles.pop(role_id, None)
            for assigned in api.org.user_roles.values():
                assigned.discard(role_id)
        for name in components.relationships:
            relationship = schema.relationships.pop(name, None)
            if (
                relationship is not None
                and relationship.referencing_entity not in components.tables
            ):
                _drop_column(
                    api, relationship.referencing_entity, relationship.referencing_attribute
                )
        for table, column in components.columns:
            _drop_column(api, table, column)
        for table in components.tables:
            entity = schema.entities.pop(table)
            for name in [
                n
                for n, r in schema.relationships.items()
                if table in (r.referencing_entity, r.referenced_entity)
            ]:
                del schema.relationships[name]
            engine.table(entity).clear()
        engine.remove(solutions, solution_id)
    return ApiResponse(204)


def _drop_column(api: WebApi, table: str, column: str) -> None:
    entity = api.schema.entities.get(table)
    if entity is None:
        return
    entity.attributes.pop(column, None)
    for record in api.engine.table(entity).values():
        record.pop(column, None)


# --- roles ------------------------------------------------------------------------------------


def _role_privileges(api: WebApi, request: ApiRequest, key: str) -> ApiResponse:
    """``RetrieveRolePrivilegesRole(RoleId=<guid>)`` or ``(RoleId=@p)?@p=<guid>``."""
    name, _, raw = key.partition("=")
    if name.strip() != "RoleId":
        raise bad_request("The function RetrieveRolePrivilegesRole needs the parameter RoleId.")
    raw = raw.strip()
    if raw.startswith("@"):
        raw = request.query.get(raw, "")
    role_id = parse_guid(raw.strip("'"))
    roles = api.schema.entity("role")
    api.require("Read", roles)
    if role_id is None or api.engine.find(roles, role_id) is None:
        raise not_found("role", role_id or raw)
    privileges = sorted(api.org.roles.get(role_id, set()))
    return api.privileges_answer("RetrieveRolePrivilegesRoleResponse", privileges)
