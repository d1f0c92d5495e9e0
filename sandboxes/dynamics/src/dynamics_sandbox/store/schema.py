"""The set of tables and relationships of one organisation, and the rules for extending it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import bad_request, segment_not_found
from ..metadata import (
    Attribute,
    AttributeType,
    Entity,
    Option,
    Relationship,
    duplicate,
)


@dataclass
class Schema:
    entities: dict[str, Entity] = field(default_factory=dict)
    relationships: dict[str, Relationship] = field(default_factory=dict)
    _next_type_code: int = 10_100

    def entity(self, logical_name: str) -> Entity:
        found = self.entities.get(logical_name)
        if found is None:
            raise bad_request(f"Could not find a table with LogicalName = '{logical_name}'.")
        return found

    def entity_by_set(self, entity_set: str) -> Entity:
        for entity in self.entities.values():
            if entity.entity_set_name == entity_set:
                return entity
        raise segment_not_found(entity_set)

    def single_nav(self, entity: Entity, nav: str) -> Relationship | None:
        """Single-valued navigation (lookup) from `entity`; names are case-sensitive."""
        return next(
            (
                r
                for r in self.relationships.values()
                if r.referencing_entity == entity.logical_name and r.referencing_nav == nav
            ),
            None,
        )

    def collection_nav(self, entity: Entity, nav: str) -> Relationship | None:
        return next(
            (
                r
                for r in self.relationships.values()
                if r.referenced_entity == entity.logical_name and r.referenced_nav == nav
            ),
            None,
        )

    def lookups_of(self, entity: Entity, attribute: str) -> list[Relationship]:
        return [
            r
            for r in self.relationships.values()
            if r.referencing_entity == entity.logical_name and r.referencing_attribute == attribute
        ]

    def children_of(self, entity: Entity) -> list[Relationship]:
        return [
            r for r in self.relationships.values() if r.referenced_entity == entity.logical_name
        ]

    # --- extension -----------------------------------------------------------------------

    def add_entity(self, entity: Entity) -> Entity:
        if entity.logical_name in self.entities:
            raise duplicate("table", entity.schema_name)
        if any(e.entity_set_name == entity.entity_set_name for e in self.entities.values()):
            raise duplicate("table", entity.entity_set_name)
        if entity.is_custom:
            entity.object_type_code = self._next_type_code
            self._next_type_code += 1
        self.entities[entity.logical_name] = entity
        return entity

    def add_attribute(self, entity: Entity, attribute: Attribute) -> Attribute:
        if attribute.logical_name in entity.attributes:
            raise duplicate("column", attribute.schema_name)
        entity.add(attribute)
        if attribute.type is AttributeType.MONEY:
            self._ensure_currency(entity)
        return attribute

    def add_relationship(self, relationship: Relationship, lookup: Attribute) -> Relationship:
        if relationship.schema_name in self.relationships:
            raise duplicate("relationship", relationship.schema_name)
        referencing = self.entity(relationship.referencing_entity)
        if relationship.referenced_entity not in self.entities:
            raise bad_request(
                f"Referenced table '{relationship.referenced_entity}' does not exist."
            )
        existing = referencing.attributes.get(lookup.logical_name)
        if existing is None:
            referencing.add(lookup)
        elif existing.type not in (AttributeType.LOOKUP, AttributeType.CUSTOMER):
            raise duplicate("column", lookup.schema_name)
        clash = self.single_nav(referencing, relationship.referencing_nav)
        if clash is not None:
            raise duplicate("navigation property", relationship.referencing_nav)
        self.relationships[relationship.schema_name] = relationship
        return relationship

    def _ensure_currency(self, entity: Entity) -> None:
        """Money columns need the row's currency, so Dataverse adds the lookup with the first."""
        if (
            "transactioncurrencyid" in entity.attributes
            or "transactioncurrency" not in self.entities
        ):
            return
        self.add_relationship(
            Relationship(
                schema_name=f"TransactionCurrency_{entity.schema_name}",
                referenced_entity="transactioncurrency",
                referencing_entity=entity.logical_name,
                referencing_attribute="transactioncurrencyid",
                referenced_nav=f"TransactionCurrency_{entity.schema_name}",
                referencing_nav="TransactionCurrencyId",
            ),
            Attribute(
                "transactioncurrencyid", AttributeType.LOOKUP, targets=["transactioncurrency"]
            ),
        )


def active_inactive(entity: Entity) -> None:
    """The state model most tables share: Active (1) / Inactive (2)."""
    entity.add(
        Attribute(
            "statecode",
            AttributeType.STATE,
            options=[
                Option(0, "Active", default_status=1),
                Option(1, "Inactive", default_status=2),
            ],
            required="SystemRequired",
        )
    )
    entity.add(
        Attribute(
            "statuscode",
            AttributeType.STATUS,
            options=[Option(1, "Active", state=0), Option(2, "Inactive", state=1)],
        )
    )
