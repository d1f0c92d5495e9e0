"""Record values: how Web API JSON maps to stored Python values and back."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import (
    INVALID_ARGUMENT,
    MAX_LENGTH_EXCEEDED,
    PICKLIST_OUT_OF_RANGE,
    DataverseError,
    bad_request,
)
from ..metadata import CHOICE_TYPES, LOOKUP_TYPES, Attribute, AttributeType, Entity

Record = dict[str, Any]

T = AttributeType
EDM_TYPES: dict[AttributeType, str] = {
    T.UNIQUEIDENTIFIER: "Edm.Guid",
    T.STRING: "Edm.String",
    T.MEMO: "Edm.String",
    T.INTEGER: "Edm.Int32",
    T.BIGINT: "Edm.Int64",
    T.DECIMAL: "Edm.Decimal",
    T.DOUBLE: "Edm.Double",
    T.MONEY: "Edm.Decimal",
    T.BOOLEAN: "Edm.Boolean",
    T.DATETIME: "Edm.DateTimeOffset",
    T.PICKLIST: "Edm.Int32",
    T.STATE: "Edm.Int32",
    T.STATUS: "Edm.Int32",
}
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class EntityRef:
    """The value of a lookup column: which table and which row."""

    entity: str
    id: uuid.UUID


def edm_type(attribute: Attribute) -> str:
    """The OData primitive type of a column's Web API property (lookups: their ``_x_value``)."""
    if attribute.type in LOOKUP_TYPES:
        return "Edm.Guid"
    # Only DateOnly behaviour is a plain date; a UserLocal column of DateOnly format is a moment.
    return (
        "Edm.Date"
        if attribute.behavior == "DateOnly"
        else EDM_TYPES.get(attribute.type, "Edm.String")
    )


def parse_guid(text: str) -> uuid.UUID | None:
    return uuid.UUID(text) if GUID.match(text) else None


def parse_datetime(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _conversion_error(raw: Any, attribute: Attribute) -> DataverseError:
    edm = edm_type(attribute)
    return bad_request(f"Cannot convert the literal '{raw}' to the expected type '{edm}'.")


def _moment(text: str, behavior: str, zone: tzinfo) -> datetime | None:
    """A date-time column's stored UTC moment. A date alone means its midnight: in the writing
    user's time zone for UserLocal (what the Dynamics form stores when a user picks a date),
    as written for TimeZoneIndependent."""
    if len(text) == 10:
        day = parse_date(text)
        if day is None:
            return None
        local = datetime.combine(day, time(), tzinfo=zone if behavior == "UserLocal" else UTC)
        return local.astimezone(UTC)
    if behavior == "TimeZoneIndependent":
        # Stored as written: the offset, if any, is dropped rather than converted.
        text = re.sub(r"(Z|[+-]\d{2}:\d{2})$", "", text)
    return parse_datetime(text)


def coerce(entity: Entity, attribute: Attribute, raw: Any, zone: tzinfo = UTC) -> Any:
    """Validate a JSON value for `attribute` and convert it to its stored form (`zone`: the
    writing user's time zone)."""
    if raw is None:
        return None
    kind = attribute.type
    if kind in LOOKUP_TYPES:
        raise bad_request(
            "A 'PrimitiveValue' node with non-null value was found when trying to read the value "
            f"of the navigation property '{attribute.logical_name}'; use "
            f"'{attribute.logical_name}@odata.bind' to set a lookup."
        )
    if kind in (T.STRING, T.MEMO):
        if not isinstance(raw, str):
            raise _conversion_error(raw, attribute)
        if attribute.max_length is not None and len(raw) > attribute.max_length:
            raise DataverseError(
                400,
                MAX_LENGTH_EXCEEDED,
                f"A validation error occurred. The length of the '{attribute.logical_name}' "
                f"attribute of the '{entity.logical_name}' entity exceeded the maximum allowed "
                f"length of '{attribute.max_length}'.",
            )
        return raw
    if kind is T.BOOLEAN:
        if not isinstance(raw, bool):
            raise _conversion_error(raw, attribute)
        return raw
    if kind in (T.INTEGER, T.BIGINT) or kind in CHOICE_TYPES:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _conversion_error(raw, attribute)
        if kind in CHOICE_TYPES and attribute.option(raw) is None:
            accepted = ",".join(str(o.value) for o in attribute.options)
            raise DataverseError(
                400,
                PICKLIST_OUT_OF_RANGE,
                f"A validation error occurred. The value {raw} of '{attribute.logical_name}' on "
                f"record of type '{entity.logical_name}' is outside the valid range. "
                f"Accepted Values: {accepted}",
            )
        _check_range(entity, attribute, raw)
        return raw
    if kind in (T.DECIMAL, T.DOUBLE, T.MONEY):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise _conversion_error(raw, attribute)
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise _conversion_error(raw, attribute) from None
        _check_range(entity, attribute, value)
        return value
    if kind is T.DATETIME:
        if not isinstance(raw, str):
            raise _conversion_error(raw, attribute)
        parsed: date | datetime | None = (
            parse_date(raw)
            if attribute.behavior == "DateOnly"
            else _moment(raw, attribute.behavior, zone)
        )
        if parsed is None:
            raise _conversion_error(raw, attribute)
        return parsed
    if kind is T.UNIQUEIDENTIFIER:
        guid = parse_guid(raw) if isinstance(raw, str) else None
        if guid is None:
            raise _conversion_error(raw, attribute)
        return guid
    raise _conversion_error(raw, attribute)


def _check_range(entity: Entity, attribute: Attribute, value: int | Decimal) -> None:
    low, high = attribute.min_value, attribute.max_value
    if (low is not None and value < Decimal(str(low))) or (
        high is not None and value > Decimal(str(high))
    ):
        raise DataverseError(
            400,
            INVALID_ARGUMENT,
            f"A validation error occurred. The value of '{attribute.logical_name}' on record of "
            f"type '{entity.logical_name}' is outside the valid range ({low} to {high}).",
        )


def to_json(value: Any) -> Any:
    """Stored value → Web API JSON value."""
    if isinstance(value, EntityRef):
        return str(value.id)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value
