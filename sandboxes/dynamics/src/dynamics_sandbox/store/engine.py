"""The record store of one organisation: a generic, metadata-driven table engine.

Writes go through `create`/`update`/`delete`, which apply Dataverse's rules (types, lookups
via ``@odata.bind``, state models, table behaviours). Every write takes a new row version from
an organisation-wide counter, which gives ETags and change tracking for free. A journal of undo
steps lets a ``$batch`` change set roll back as one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any
from urllib.parse import unquote, urlparse

from sandbox_kit.clock import Clock

from ..errors import INVALID_ARGUMENT, DataverseError, bad_request, not_found
from ..metadata import Entity
from . import behaviours
from .schema import Schema
from .values import EntityRef, Record, coerce, parse_guid

SYSTEM_COLUMNS = frozenset({"createdon", "modifiedon", "versionnumber", "createdby", "modifiedby"})


@dataclass
class Tombstone:
    version: int
    id: uuid.UUID


@dataclass(frozen=True)
class ChangeEvent:
    """A committed Update or Delete, for the asynchronous post-operation steps registered on
    it (see `webhooks.py`)."""

    message: str  # "Update" or "Delete"
    entity: Entity
    record_id: uuid.UUID
    target: Record  # the columns the request set (empty for a Delete)
    image: Record  # the row after the operation (before it, for a Delete)
    actor: EntityRef | None


@dataclass
class TableEngine:
    schema: Schema
    clock: Clock
    records: dict[str, dict[uuid.UUID, Record]] = field(default_factory=dict)
    tombstones: dict[str, list[Tombstone]] = field(default_factory=dict)
    version: int = 1000
    # The organisation's base currency, the default for rows that carry money.
    base_currency: uuid.UUID | None = None
    # The organisation's default time zone, and users' own (by systemuser id): a date written
    # without a time to a UserLocal column is midnight in the writer's zone.
    time_zone: tzinfo = UTC
    user_time_zones: dict[uuid.UUID, tzinfo] = field(default_factory=dict)
    _journal: list[Callable[[], None]] | None = None
    # Told of each Update and Delete once its transaction commits (never of a rolled-back one).
    listener: Callable[[ChangeEvent], None] | None = None
    _events: list[ChangeEvent] = field(default_factory=list)

    # --- reading -----------------------------------------------------------------------

    def table(self, entity: Entity) -> dict[uuid.UUID, Record]:
        return self.records.setdefault(entity.logical_name, {})

    def find(self, entity: Entity, record_id: uuid.UUID) -> Record | None:
        return self.table(entity).get(record_id)

    def get(self, entity: Entity, record_id: uuid.UUID) -> Record:
        found = self.find(entity, record_id)
        if found is None:
            raise not_found(entity.logical_name, record_id)
        return found

    def rows(self, entity: Entity) -> list[Record]:
        return list(self.table(entity).values())

    def zone_of(self, actor: EntityRef | None) -> tzinfo:
        if actor is None:
            return self.time_zone
        return self.user_time_zones.get(actor.id, self.time_zone)

    def primary_name(self, ref: EntityRef) -> str | None:
        entity = self.schema.entities.get(ref.entity)
        row = self.find(entity, ref.id) if entity else None
        return row.get(entity.primary_name) if row and entity else None

    # --- transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested calls join the outer one)."""
        if self._journal is not None:
            yield
            return
        self._journal = []
        self._events = []
        try:
            yield
        except BaseException:
            for undo in reversed(self._journal):
                undo()
            raise
        finally:
            self._journal = None
        events, self._events = self._events, []
        if self.listener is not None:
            for event in events:
                self.listener(event)

    def _emit(self, event: ChangeEvent) -> None:
        if self.listener is not None:
            self._events.append(event)

    def _record_undo(self, undo: Callable[[], None]) -> None:
        if self._journal is not None:
            self._journal.append(undo)

    # --- low-level writes (no rules) -------------------------------------------------------

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def put(self, entity: Entity, record: Record) -> Record:
        """Store a full row under a fresh version, remembering how to undo it."""
        table = self.table(entity)
        record_id: uuid.UUID = record[entity.primary_id]
        previous = table.get(record_id)
        record["versionnumber"] = self.next_version()
        record["modifiedon"] = self.clock.now()
        table[record_id] = record

        def undo() -> None:
            if previous is None:
                table.pop(record_id, None)
            else:
                table[record_id] = previous

        self._record_undo(undo)
        return record

    def remove(self, entity: Entity, record_id: uuid.UUID) -> None:
        table = self.table(entity)
        previous = table.pop(record_id)
        tombstones = self.tombstones.setdefault(entity.logical_name, [])
        tombstones.append(Tombstone(self.next_version(), record_id))

        def undo() -> None:
            table[record_id] = previous
            tombstones.pop()

        self._record_undo(undo)

    # --- Dataverse writes ----------------------------------------------------------------

    def create(
        self,
        entity: Entity,
        payload: dict[str, Any],
        *,
        actor: EntityRef | None = None,
        record_id: uuid.UUID | None = None,
        trusted: bool = False,
    ) -> Record:
        """Create a row from a Web API payload. `trusted` (seeding) may set read-only columns."""
        with self.transaction():
            values, children = self._parse(
                entity, payload, creating=True, trusted=trusted, zone=self.zone_of(actor)
            )
            new_id = values.pop(entity.primary_id, None) or record_id or uuid.uuid4()
            if self.find(entity, new_id) is not None:
                raise DataverseError(
                    412, "0x80040237", "A record with matching key values already exists."
                )
            now = self.clock.now()
            record: Record = {entity.primary_id: new_id, "createdon": now}
            if actor is not None and "createdby" in entity.attributes:
                record.update(createdby=actor, modifiedby=actor, ownerid=actor)
            self._apply_state(entity, None, values)
            record.update(values)
            behaviours.before_write(self, entity, None, record, set(values))
            self.put(entity, record)
            for relationship, items in children:
                child_entity = self.schema.entity(relationship.referencing_entity)
                for item in items:
                    bind = f"{relationship.referencing_nav}@odata.bind"
                    self.create(
                        child_entity,
                        {**item, bind: f"/{entity.entity_set_name}({new_id})"},
                        actor=actor,
                        trusted=trusted,
                    )
            behaviours.after_write(self, entity, record)
            return record

    def update(
        self,
        entity: Entity,
        record_id: uuid.UUID,
        payload: dict[str, Any],
        *,
        actor: EntityRef | None = None,
        trusted: bool = False,
    ) -> Record:
        with self.transaction():
            current = self.get(entity, record_id)
            values, children = self._parse(
                entity, payload, creating=False, trusted=trusted, zone=self.zone_of(actor)
            )
            if children:
                raise bad_request(
                    "Deep update of collection-valued navigation properties is not supported."
                )
            values.pop(entity.primary_id, None)
            self._apply_state(entity, current, values)
            record = {**current, **values}
            if actor is not None and "modifiedby" in entity.attributes:
                record["modifiedby"] = actor
            behaviours.before_write(self, entity, current, record, set(values))
            self.put(entity, record)
            behaviours.after_write(self, entity, record)
            self._emit(ChangeEvent("Update", entity, record_id, values, dict(record), actor))
            return record

    def delete(
        self,
        entity: Entity,
        record_id: uuid.UUID,
        *,
        cascading: bool = False,
        actor: EntityRef | None = None,
    ) -> None:
        with self.transaction():
            record = self.get(entity, record_id)
            if not cascading:  # rules guard direct deletes; a parent's delete takes its children
                behaviours.check_delete(self, entity, record)
            ref = EntityRef(entity.logical_name, record_id)
            for relationship in self.schema.children_of(entity):
                child_entity = self.schema.entity(relationship.referencing_entity)
                attribute = relationship.referencing_attribute
                for child in self.rows(child_entity):
                    if child.get(attribute) != ref:
                        continue
                    if relationship.cascade_delete == "Cascade":
                        self.delete(child_entity, child[child_entity.primary_id], cascading=True)
                    elif child_entity.logical_name != entity.logical_name or child is not record:
                        self.put(child_entity, {**child, attribute: None})
            if self.find(entity, record_id) is not None:
                self.remove(entity, record_id)
            behaviours.after_delete(self, entity, record)
            self._emit(ChangeEvent("Delete", entity, record_id, {}, record, actor))

    # --- payload parsing -----------------------------------------------------------------

    def _parse(
        self,
        entity: Entity,
        payload: dict[str, Any],
        *,
        creating: bool,
        trusted: bool,
        zone: tzinfo,
    ) -> tuple[Record, list[tuple[Any, list[dict[str, Any]]]]]:
        values: Record = {}
        children: list[tuple[Any, list[dict[str, Any]]]] = []
        for key, raw in payload.items():
            if key.endswith("@odata.bind"):
                nav = key[: -len("@odata.bind")]
                relationship = self.schema.single_nav(entity, nav)
                if relationship is None:
                    raise bad_request(
                        f"An undeclared property '{nav}' which only has property annotations in "
                        "the payload but no property value was found in the payload. In OData, "
                        "only declared navigation properties and declared named streams can be "
                        "represented as properties without values."
                    )
                target = self.schema.entity(relationship.referenced_entity)
                values[relationship.referencing_attribute] = (
                    None if raw is None else self._resolve_bind(target, raw)
                )
                continue
            if key.startswith("@") or "@" in key:
                continue  # instance annotations such as @odata.type carry no data
            collection = self.schema.collection_nav(entity, key)
            if collection is not None and creating and isinstance(raw, list):
                children.append((collection, [item for item in raw if isinstance(item, dict)]))
                continue
            attribute = entity.attribute(key)
            if attribute is None:
                raise bad_request(
                    f"The property '{key}' does not exist on type "
                    f"'Microsoft.Dynamics.CRM.{entity.logical_name}'. Make sure to only use "
                    "property names that are defined by the type."
                )
            if not trusted and (
                key in SYSTEM_COLUMNS
                or (creating and not attribute.valid_for_create)
                or (not creating and not attribute.valid_for_update)
            ):
                continue  # Dataverse ignores columns that are read-only for the operation
            values[key] = coerce(entity, attribute, raw, zone)
        return values, children

    def _resolve_bind(self, target: Entity, raw: Any) -> EntityRef:
        """``/accounts(guid)``, ``accounts(guid)`` or an absolute URL → a checked reference."""
        text = unquote(urlparse(raw).path if isinstance(raw, str) and "://" in raw else str(raw))
        segment = text.rstrip("/").rsplit("/", 1)[-1]
        entity_set, _, rest = segment.partition("(")
        guid = parse_guid(rest.rstrip(")").strip("'"))
        if guid is None:
            raise bad_request(
                f"Invalid @odata.bind value '{raw}': expected '/{target.entity_set_name}(<id>)'."
            )
        bound = self.schema.entity_by_set(entity_set)
        if bound.logical_name != target.logical_name:
            raise bad_request(
                f"The entity set '{entity_set}' does not match the navigation property's target "
                f"'{target.entity_set_name}'."
            )
        if self.find(bound, guid) is None:
            raise not_found(bound.logical_name, guid)
        return EntityRef(bound.logical_name, guid)

    def _apply_state(self, entity: Entity, current: Record | None, values: Record) -> None:
        """statecode and statuscode travel together: default one from the other, reject mixes."""
        state_attr, status_attr = entity.attribute("statecode"), entity.attribute("statuscode")
        if state_attr is None or status_attr is None:
            return
        state = values.get("statecode")
        if state is None:
            state = current["statecode"] if current else state_attr.options[0].value
            if current is None:
                values["statecode"] = state
        status = values.get("statuscode")
        if status is None:
            if "statecode" in values and (
                current is None or values["statecode"] != current.get("statecode")
            ):
                option = state_attr.option(state)
                values["statuscode"] = option.default_status if option else None
            return
        status_option = status_attr.option(status)
        if status_option is not None and status_option.state not in (None, state):
            state_label = state_attr.option(state)
            raise DataverseError(
                400,
                INVALID_ARGUMENT,
                f"{status} is not a valid status code for state code "
                f"{entity.schema_name}State.{state_label.label if state_label else state} on "
                f"{entity.logical_name}.",
            )
