"""The standard tables that describe customisations, as far as solutions need them: solution,
publisher, systemform, savedquery and role, readable through the Web API like any table
(their entity references on Microsoft Learn: "solution", "publisher", "systemform",
"savedquery", "role"). Their rows are written by `solutions.py` when a solution is imported."""

from __future__ import annotations

from .metadata import Attribute, AttributeType, Entity, Option
from .store.schema import Schema

T = AttributeType
# formxml, fetchxml and layoutxml are Memo columns of up to 1,073,741,823 characters.
_XML_LENGTH = 1_073_741_823


def _table(
    schema: Schema,
    logical: str,
    entity_set: str,
    primary_id: str,
    primary_name: str,
    type_code: int,
    schema_name: str,
) -> Entity:
    entity = schema.add_entity(
        Entity(
            logical_name=logical,
            schema_name=schema_name,
            entity_set_name=entity_set,
            primary_id=primary_id,
            primary_name=primary_name,
            object_type_code=type_code,
            ownership="OrganizationOwned",
        )
    )
    entity.add(
        Attribute(primary_id, T.UNIQUEIDENTIFIER, is_primary_id=True, valid_for_update=False)
    )
    entity.add(Attribute(primary_name, T.STRING, max_length=256, is_primary_name=True))
    entity.add(Attribute("createdon", T.DATETIME, valid_for_create=False, valid_for_update=False))
    entity.add(Attribute("modifiedon", T.DATETIME, valid_for_create=False, valid_for_update=False))
    return entity


def _managed(entity: Entity) -> None:
    entity.add(
        Attribute("ismanaged", T.BOOLEAN, options=[Option(0, "Unmanaged"), Option(1, "Managed")])
    )
    entity.add(Attribute("solutionid", T.UNIQUEIDENTIFIER))


def add_solution_tables(schema: Schema) -> None:
    publisher = _table(
        schema, "publisher", "publishers", "publisherid", "friendlyname", 7101, "Publisher"
    )
    publisher.add(Attribute("uniquename", T.STRING, max_length=256))
    publisher.add(Attribute("customizationprefix", T.STRING, max_length=8))
    publisher.add(Attribute("customizationoptionvalueprefix", T.INTEGER))

    solution = _table(
        schema, "solution", "solutions", "solutionid", "friendlyname", 7100, "Solution"
    )
    solution.add(Attribute("uniquename", T.STRING, max_length=65))
    solution.add(Attribute("version", T.STRING, max_length=256))
    solution.add(
        Attribute("ismanaged", T.BOOLEAN, options=[Option(0, "Unmanaged"), Option(1, "Managed")])
    )
    solution.add(Attribute("description", T.MEMO, max_length=2000))
    solution.add(Attribute("installedon", T.DATETIME))
    solution.add(Attribute("publisherid", T.UNIQUEIDENTIFIER))

    form = _table(schema, "systemform", "systemforms", "formid", "name", 1030, "SystemForm")
    form.add(Attribute("objecttypecode", T.STRING, max_length=64))
    form.add(Attribute("type", T.PICKLIST, options=[Option(2, "Main")]))
    form.add(Attribute("formxml", T.MEMO, max_length=_XML_LENGTH))
    form.add(Attribute("description", T.MEMO, max_length=2000))
    _managed(form)

    view = _table(schema, "savedquery", "savedqueries", "savedqueryid", "name", 1039, "SavedQuery")
    view.add(Attribute("returnedtypecode", T.STRING, max_length=64))
    view.add(Attribute("querytype", T.INTEGER))
    view.add(Attribute("isdefault", T.BOOLEAN))
    view.add(Attribute("fetchxml", T.MEMO, max_length=_XML_LENGTH))
    view.add(Attribute("layoutxml", T.MEMO, max_length=_XML_LENGTH))
    view.add(Attribute("description", T.MEMO, max_length=2000))
    _managed(view)

    role = _table(schema, "role", "roles", "roleid", "name", 1036, "Role")
    role.add(Attribute("businessunitid", T.UNIQUEIDENTIFIER))
    _managed(role)
