"""Running OData queries over a table: filter, order, expand."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .errors import DataverseError, bad_request
from .metadata import Entity
from .odata.filter import Node, evaluate, lambdas, properties
from .odata.options import QueryOptions
from .representation import Representation, property_attribute
from .store.engine import TableEngine
from .store.schema import Schema
from .store.values import EntityRef, Record


def children(engine: TableEngine, entity: Entity, record: Record, nav: str) -> list[Record]:
    """The rows a collection-valued navigation property of `record` points at."""
    collection = engine.schema.collection_nav(entity, nav)
    if collection is None:
        raise _no_property(entity, nav)
    child = engine.schema.entity(collection.referencing_entity)
    ref = EntityRef(entity.logical_name, record[entity.primary_id])
    return [r for r in engine.rows(child) if r.get(collection.referencing_attribute) == ref]


def record_getter(engine: TableEngine, entity: Entity, record: Record) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        collection = engine.schema.collection_nav(entity, name)
        if collection is not None:  # a lambda operator's range
            child = engine.schema.entity(collection.referencing_entity)
            return [record_getter(engine, child, r) for r in children(engine, entity, record, name)]
        return record.get(property_attribute(entity, name).logical_name)

    return get


def _no_property(entity: Entity, name: str) -> DataverseError:
    return bad_request(
        f"Could not find a property named '{name}' on type "
        f"'Microsoft.Dynamics.CRM.{entity.logical_name}'."
    )


def _validate_filter(schema: Schema, entity: Entity, node: Node) -> None:
    for name in properties(node):
        property_attribute(entity, name)
    for found in lambdas(node):
        collection = schema.collection_nav(entity, found.nav)
        if collection is None:
            raise _no_property(entity, found.nav)
        if found.body is not None:
            child = schema.entity(collection.referencing_entity)
            prefix = f"{found.variable}/"
            for name in properties(found.body):
                if name.startswith(prefix):
                    property_attribute(child, name[len(prefix) :])
                else:
                    property_attribute(entity, name)


def validate(schema: Schema, entity: Entity, options: QueryOptions) -> None:
    """Reject unknown properties up front, as Dataverse does even when no row would match."""
    for name in list(options.select or []) + [name for name, _ in options.orderby]:
        property_attribute(entity, name)
    if options.filter is not None:
        _validate_filter(schema, entity, options.filter)


def sort_key(value: Any) -> tuple[int, Any]:
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
    engine: TableEngine,
    entity: Entity,
    rows: list[Record],
    node: Node | None,
    orderby: list[tuple[str, bool]],
) -> list[Record]:
    if node is not None:
        now = engine.clock.now()
        rows = [r for r in rows if evaluate(node, record_getter(engine, entity, r), now)]
    # Rows come in creation order; sorts are stable, so ties keep it and paging is stable.
    for name, descending in reversed(orderby):
        logical = property_attribute(entity, name).logical_name
        rows.sort(key=lambda r, n=logical: sort_key(r.get(n)), reverse=descending)  # type: ignore[misc]
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
        """Check the options and those nested in each ``$expand`` (any depth)."""
        schema = self.engine.schema
        validate(schema, entity, options)
        for item in options.expand:
            target = self._target(entity, item.nav)
            self.can_read(target)
            nested = item.options
            if schema.single_nav(entity, item.nav) is not None and (
                nested.filter is not None or nested.orderby or nested.top is not None
            ):
                # "Join tables using OData": only $select and $expand apply to a
                # single-valued navigation property.
                raise bad_request(
                    f"Only $select and $expand can be applied to the single-valued navigation "
                    f"property '{item.nav}'."
                )
            self.validate(target, nested)

    def _target(self, entity: Entity, nav: str) -> Entity:
        schema = self.engine.schema
        single = schema.single_nav(entity, nav)
        if single is not None:
            return schema.entity(single.referenced_entity)
        collection = schema.collection_nav(entity, nav)
        if collection is not None:
            return schema.entity(collection.referencing_entity)
        raise _no_property(entity, nav)

    def row(self, entity: Entity, record: Record, options: QueryOptions) -> dict[str, Any]:
        body = self.representation.row(entity, record, options.select)
        schema = self.engine.schema
        for item in options.expand:
            target = self._target(entity, item.nav)
            single = schema.single_nav(entity, item.nav)
            if single is not None:
                ref = record.get(single.referencing_attribute)
                related = (
                    self.engine.find(target, ref.id)
                    if isinstance(ref, EntityRef) and ref.entity == target.logical_name
                    else None
                )
                body[item.nav] = (
                    None if related is None else self.row(target, related, item.options)
                )
                continue
            rows = select_rows(
                self.engine,
                target,
                children(self.engine, entity, record, item.nav),
                item.options.filter,
                item.options.orderby,
            )
            if item.options.top is not None:
                rows = rows[: item.options.top]
            body[item.nav] = [self.row(target, r, item.options) for r in rows]
        return body
