"""Rows as the Web API shows them: ``@odata.etag``, ``_x_value`` lookups and annotations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .errors import bad_request
from .metadata import CHOICE_TYPES, Attribute, AttributeType, Entity
from .store.engine import TableEngine
from .store.values import EntityRef, Record, to_json

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
ASSOCIATED_NAV = "Microsoft.Dynamics.CRM.associatednavigationproperty"


def etag(record: Record) -> str:
    return f'W/"{record["versionnumber"]}"'


def property_attribute(entity: Entity, name: str) -> Attribute:
    """Resolve a Web API property name or answer Dataverse's 400."""
    attribute = entity.attribute_by_odata_name(name)
    if attribute is None:
        raise bad_request(
            f"Could not find a property named '{name}' on type "
            f"'Microsoft.Dynamics.CRM.{entity.logical_name}'."
        )
    return attribute


class Representation:
    def __init__(self, engine: TableEngine, wanted: Callable[[str], bool]) -> None:
        self.engine = engine
        self.wanted = wanted

    def row(self, entity: Entity, record: Record, select: list[str] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"@odata.etag": etag(record)}
        if select is None:
            attributes = list(entity.attributes.values())
        else:
            attributes = [property_attribute(entity, name) for name in select]
            primary = entity.attributes[entity.primary_id]
            if primary not in attributes:
                attributes.append(primary)
        for attribute in attributes:
            if attribute.valid_for_read:
                self._write(body, entity, record, attribute)
        return body

    def _write(
        self, body: dict[str, Any], entity: Entity, record: Record, attribute: Attribute
    ) -> None:
        name = attribute.odata_name
        value = record.get(attribute.logical_name)
        body[name] = to_json(value)
        if value is None:
            return
        if isinstance(value, EntityRef):
            if self.wanted(ASSOCIATED_NAV):
                navs = self.engine.schema.lookups_of(entity, attribute.logical_name)
                nav = next(
                    (r.referencing_nav for r in navs if r.referenced_entity == value.entity), None
                )
                body[f"{name}@{ASSOCIATED_NAV}"] = nav
            if self.wanted(LOOKUP_LOGICAL_NAME):
                body[f"{name}@{LOOKUP_LOGICAL_NAME}"] = value.entity
        if self.wanted(FORMATTED):
            formatted = self.formatted(record, attribute, value)
            if formatted is not None:
                body[f"{name}@{FORMATTED}"] = formatted

    def formatted(self, record: Record, attribute: Attribute, value: Any) -> str | None:
        if isinstance(value, EntityRef):
            return self.engine.primary_name(value)
        if attribute.type in CHOICE_TYPES or attribute.type is AttributeType.BOOLEAN:
            option = attribute.option(int(value))
            if option is None and attribute.type is AttributeType.BOOLEAN:
                return "Yes" if value else "No"
            return option.label if option else None
        if attribute.type is AttributeType.MONEY:
            return f"{self._currency_symbol(record)}{Decimal(value):,.2f}"
        if attribute.type in (AttributeType.DECIMAL, AttributeType.DOUBLE):
            return f"{Decimal(value):,.{attribute.precision or 2}f}"
        if attribute.type in (AttributeType.INTEGER, AttributeType.BIGINT):
            return f"{value:,}"
        if isinstance(value, datetime):
            return (
                f"{value.month}/{value.day}/{value.year} {value.strftime('%I:%M %p').lstrip('0')}"
            )
        if isinstance(value, date):
            return f"{value.month}/{value.day}/{value.year}"
        return None

    def _currency_symbol(self, record: Record) -> str:
        ref = record.get("transactioncurrencyid")
        if isinstance(ref, EntityRef):
            currency = self.engine.find(self.engine.schema.entity("transactioncurrency"), ref.id)
            if currency and currency.get("currencysymbol"):
                return str(currency["currencysymbol"])
        return "$"
