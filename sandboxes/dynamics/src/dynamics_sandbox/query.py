"""Running OData queries over a table: filter, order, expand."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .errors import bad_request
from .metadata import Entity
from .odata.filter import Node, evaluate, properties
from .odata.options import QueryOptions
from .representation import Representation, property_attribute
from .store.engine import TableEngine
from .store.values import EntityRef, Record


def record_getter(entity: Entity, record: Record) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        return record.get(property_attribute(entity, name).logical_name)

    return get


def validate(entity: Entity, options: QueryOptions) -> None:
    """Reject unknown properties up front, as Dataverse does even when no row would match."""
    names = list(options.select or []) + [name for name, _ in options.orderby]
    if options.filter is not None:
        names += sorted(properties(options.filter))
    for name in names:
        property_attribute(entity, name)


def _sort_key(value: Any) -> tuple[int, Any]:
    # Nulls sort first in ascending order, as in SQL Server.
    if value is None:
        return (0, 0)
    if isinstance(value, EntityRef):
        return (1, str(value.id))
    if isinstance(value, str):
        return (1, value.lower())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, Decimal(str(value)))
    return (1, value)


def select_rows(
    entity: Entity, rows: list[Record], node: Node | None, orderby: list[tuple[str, bool]]
) -> list[Record]:
    if node is not None:
        rows = [r for r in rows if evaluate(node, record_getter(entity, r))]
    # Rows come in creation order; sorts are stable, so ties keep it and paging is stable.
    for name, descending in reversed(orderby):
        logical = property_attribute(entity, name).logical_name
        rows.sort(key=lambda r, n=logical: _sort_key(r.get(n)), reverse=descending)  # type: ignore[misc]
    return rows


class Expander:
    """Adds expanded navigation properties to serialized rows."""

    def __init__(
        self,
        engine: TableEngine,
        representation: Representation,
        can_read: Callable[[Entity], None],
    ) -> None:
        self.engine = engine
        self.representation = representation
        self.can_read = can_read

    def validate(self, entity: Entity, options: QueryOptions) -> None:
        validate(entity, options)
        for item in options.expand:
            target = self._target(entity, item.nav)
            self.can_read(target)
            validate(target, item.options)

    def _target(self, entity: Entity, nav: str) -> Entity:
        schema = self.engine.schema
        single = schema.single_nav(entity, nav)
        if single is not None:
            return schema.entity(single.referenced_entity)
        collection = schema.collection_nav(entity, nav)
        if collection is not None:
            return schema.entity(collection.referencing_entity)
        raise bad_request(
            f"Could not find a property named '{nav}' on type "
            f"'Microsoft.Dynamics.CRM.{entity.logical_name}'."
        )

    def row(self, entity: Entity, record: Record, options: QueryOptions) -> dict[str, Any]:
        body = self.representation.row(entity, record, options.select)
        schema = self.engine.schema
        for item in options.expand:
            single = schema.single_nav(entity, item.nav)
            if single is not None:
                ref = record.get(single.referencing_attribute)
                target = schema.entity(single.referenced_entity)
                related = (
                    self.engine.find(target, ref.id)
                    if isinstance(ref, EntityRef) and ref.entity == target.logical_name
                    else None
                )
                body[item.nav] = (
                    None
                    if related is None
                    else self.representation.row(target, related, item.options.select)
                )
                continue
            collection = schema.collection_nav(entity, item.nav)
            assert collection is not None  # checked by validate()
            child = schema.entity(collection.referencing_entity)
            ref = EntityRef(entity.logical_name, record[entity.primary_id])
            children = [
                r for r in self.engine.rows(child) if r.get(collection.referencing_attribute) == ref
            ]
            children = select_rows(child, children, item.options.filter, item.options.orderby)
            if item.options.top is not None:
                children = children[: item.options.top]
            body[item.nav] = [
                self.representation.row(child, r, item.options.select) for r in children
            ]
        return body
