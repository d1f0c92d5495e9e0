"""``GET {entityset}?fetchXml=...`` (and the SQL endpoint, which builds the same plan): a
query over one table with columns, conditions, order, top/paging and inner/outer joins.

Sources (Microsoft Learn): "Use FetchXml to retrieve data" and "Page results using FetchXml"
(data-platform/fetchxml/...), "Query data using FetchXml" with the Web API
(webapi/use-fetchxml-web-api), the FetchXml reference of ``fetch``, ``entity``, ``attribute``,
``order``, ``filter``, ``condition`` (its operator list) and ``link-entity``. What is not
emulated (aggregates, grouping, nested joins, column aliases, ...) is refused, listed in the
README.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from .api_messages import ApiRequest, ApiResponse
from .errors import DataverseError, bad_request
from .metadata import CHOICE_TYPES, LOOKUP_TYPES, Attribute, AttributeType, Entity
from .odata.filter import Call, Compare, CrmCall, Literal, Logical, Node, Not, Property, evaluate
from .query import sort_key
from .store.values import EntityRef, Record, parse_date, parse_datetime, to_json
from .webapi import WebApi

# Dataverse's QueryBuilderNoAttribute.
NO_ATTRIBUTE = "0x80041103"
DEFAULT_PAGE_SIZE = 5000
PAGING_COOKIE = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE_RECORDS = "Microsoft.Dynamics.CRM.morerecords"
TOTAL_COUNT = "Microsoft.Dynamics.CRM.totalrecordcount"


@dataclass
class Join:
    entity: Entity
    from_attribute: str  # on the joined table
    to_attribute: str  # on the root table
    alias: str
    outer: bool
    columns: list[str] = field(default_factory=list)
    filter: Node | None = None


@dataclass
class Plan:
    """One query over `entity` (logical names throughout)."""

    entity: Entity
    columns: list[str] | None  # None: every column
    filter: Node | None = None
    orders: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None
    page_size: int | None = None
    page: int = 1
    joins: list[Join] = field(default_factory=list)
    distinct: bool = False
    total_count: bool = False


def not_emulated(what: str) -> DataverseError:
    return bad_request(f"{what} is not emulated by the sandbox.")


def no_attribute(entity: Entity, name: str) -> DataverseError:
    return bad_request(
        f"'{entity.logical_name}' entity doesn't contain attribute with Name = '{name}' and "
        "NameMapping = 'Logical'.",
        NO_ATTRIBUTE,
    )


def column(entity: Entity, name: str) -> Attribute:
    attribute = entity.attribute(name.lower())
    if attribute is None:
        raise no_attribute(entity, name)
    return attribute


def typed(attribute: Attribute, raw: str) -> Any:
    """A condition value (always text in FetchXml and SQL) read as the column's type."""
    kind = attribute.type
    try:
        if kind in (AttributeType.INTEGER, AttributeType.BIGINT) or kind in CHOICE_TYPES:
            return int(raw)
        if kind in (AttributeType.DECIMAL, AttributeType.DOUBLE, AttributeType.MONEY):
            return Decimal(raw)
    except (ValueError, InvalidOperation):
        raise _bad_value(raw, attribute) from None
    if kind is AttributeType.BOOLEAN:
        if raw.lower() not in ("0", "1", "true", "false"):
            raise _bad_value(raw, attribute)
        return raw.lower() in ("1", "true")
    if kind is AttributeType.DATETIME:
        parsed: date | datetime | None = (
            parse_date(raw) if attribute.date_only else parse_datetime(raw)
        )
        if parsed is None:
            raise _bad_value(raw, attribute)
        return parsed
    if kind is AttributeType.UNIQUEIDENTIFIER or kind in LOOKUP_TYPES:
        try:
            return uuid.UUID(raw.strip("{}"))
        except ValueError:
            raise _bad_value(raw, attribute) from None
    return raw


def _bad_value(raw: str, attribute: Attribute) -> DataverseError:
    return bad_request(
        f"Condition for attribute '{attribute.logical_name}': the value '{raw}' is not valid "
        f"for a column of type {attribute.type.value}."
    )


def like(attribute: str, pattern: str, negate: bool = False) -> Node:
    """SQL's LIKE for the patterns with leading and/or trailing ``%`` only."""
    core = pattern.strip("%")
    if "%" in core or "_" in core or "[" in core:
        raise not_emulated(f"The LIKE pattern '{pattern}'")
    starts, ends = pattern.startswith("%"), pattern.endswith("%")
    if starts and ends:
        node: Node = Call("contains", (Property(attribute), Literal(core)))
    elif ends:
        node = Call("startswith", (Property(attribute), Literal(core)))
    elif starts:
        node = Call("endswith", (Property(attribute), Literal(core)))
    else:
        node = Compare("eq", Property(attribute), Literal(core))
    return Not(node) if negate else node


# FetchXml condition operators → the query functions of $filter that mean the same.
_DATE_OPERATORS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "tomorrow": "Tomorrow",
    "on": "On",
    "on-or-after": "OnOrAfter",
    "on-or-before": "OnOrBefore",
    "last-x-days": "LastXDays",
    "next-x-days": "NextXDays",
    "last-seven-days": "Last7Days",
    "next-seven-days": "Next7Days",
    "last-x-hours": "LastXHours",
    "next-x-hours": "NextXHours",
    "olderthan-x-days": "OlderThanXDays",
}
_COMPARISONS = {"eq": "eq", "ne": "ne", "neq": "ne", "gt": "gt", "ge": "ge", "lt": "lt", "le": "le"}


def _condition(entity: Entity, element: ET.Element) -> Node:
    if element.get("entityname"):
        raise not_emulated("A condition on a linked table's column (entityname)")
    name = element.get("attribute", "")
    attribute = column(entity, name)
    operator = element.get("operator", "")
    raw = element.get("value")
    values = [v.text or "" for v in element.findall("value")]
    prop = Property(attribute.logical_name)
    if operator in _COMPARISONS:
        if raw is None:
            raise bad_request(f"The condition on '{name}' needs a value.")
        return Compare(_COMPARISONS[operator], prop, Literal(typed(attribute, raw)))
    if operator == "null":
        return Compare("eq", prop, Literal(None))
    if operator == "not-null":
        return Compare("ne", prop, Literal(None))
    if operator in ("like", "not-like", "begins-with", "ends-with", "not-begin-with"):
        if raw is None:
            raise bad_request(f"The condition on '{name}' needs a value.")
        pattern = {"begins-with": f"{raw}%", "not-begin-with": f"{raw}%", "ends-with": f"%{raw}"}
        return like(attribute.logical_name, pattern.get(operator, raw), operator.startswith("not"))
    if operator in ("in", "not-in", "between", "not-between"):
        function = {"in": "In", "not-in": "NotIn", "between": "Between"}.get(operator, "NotBetween")
        typed_values = tuple(typed(attribute, v) for v in values or ([raw] if raw else []))
        return CrmCall(function, attribute.logical_name, typed_values)
    if operator in _DATE_OPERATORS:
        return CrmCall(_DATE_OPERATORS[operator], attribute.logical_name, raw)
    raise not_emulated(f"The condition operator '{operator}'")


def _filter(entity: Entity, element: ET.Element) -> Node | None:
    kind = element.get("type", "and")
    if kind not in ("and", "or"):
        raise bad_request(f"The filter type '{kind}' is invalid.")
    nodes = []
    for child in element:
        if child.tag == "condition":
            nodes.append(_condition(entity, child))
        elif child.tag == "filter":
            inner = _filter(entity, child)
            if inner is not None:
                nodes.append(inner)
        else:
            raise not_emulated(f"The filter element '{child.tag}'")
    if not nodes:
        return None
    node = nodes[0]
    for other in nodes[1:]:
        node = Logical(kind, node, other)
    return node


def _columns(entity: Entity, element: ET.Element) -> list[str] | None:
    if element.find("all-attributes") is not None:
        return None
    names = []
    for attribute in element.findall("attribute"):
        if attribute.get("alias") or attribute.get("aggregate") or attribute.get("groupby"):
            raise not_emulated("A column alias, aggregate or groupby")
        names.append(column(entity, attribute.get("name", "")).logical_name)
    return names


def _positive(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise bad_request(f"The '{name}' attribute must be a positive whole number.")
    return int(text)


def parse_fetch_xml(api: WebApi, entity: Entity, text: str) -> Plan:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise bad_request(f"The fetchXml is not well-formed: {error}.") from None
    if root.tag != "fetch":
        raise bad_request("The fetchXml root element must be 'fetch'.")
    if root.get("aggregate", "false").lower() == "true":
        raise not_emulated("FetchXml aggregation")
    element = root.find("entity")
    if element is None:
        raise bad_request("The fetchXml must contain an 'entity' element.")
    if element.get("name") != entity.logical_name:
        raise bad_request(
            f"The entity name '{element.get('name')}' in the fetchXml does not match the "
            f"entity set '{entity.entity_set_name}'."
        )
    top = _positive(root.get("top"), "top")
    count = _positive(root.get("count"), "count")
    if top is not None and (count is not None or root.get("page") is not None):
        # "Page results using FetchXml": top cannot be combined with paging.
        raise bad_request("The 'top' attribute can't be used together with 'count' or 'page'.")
    plan = Plan(
        entity,
        _columns(entity, element),
        top=top,
        page_size=count,
        page=_positive(root.get("page"), "page") or 1,
        distinct=root.get("distinct", "false").lower() == "true",
        total_count=root.get("returntotalrecordcount", "false").lower() == "true",
    )
    for child in element:
        if child.tag in ("attribute", "all-attributes"):
            continue
        if child.tag == "order":
            if child.get("alias") or child.get("entityname"):
                raise not_emulated("Ordering by an alias or a linked table's column")
            name = column(entity, child.get("attribute", "")).logical_name
            plan.orders.append((name, child.get("descending", "false").lower() == "true"))
        elif child.tag == "filter":
            inner = _filter(entity, child)
            plan.filter = (
                inner
                if plan.filter is None or inner is None
                else Logical("and", plan.filter, inner)
            )
        elif child.tag == "link-entity":
            plan.joins.append(_join(api, child, len(plan.joins) + 1))
        else:
            raise not_emulated(f"The fetchXml element '{child.tag}'")
    return plan


def _join(api: WebApi, element: ET.Element, index: int) -> Join:
    name = element.get("name", "")
    if name not in api.schema.entities:
        raise bad_request(f"Could not find a table named '{name}'.")
    joined = api.schema.entity(name)
    api.require("Read", joined)
    link_type = element.get("link-type", "inner")
    if link_type not in ("inner", "outer"):
        raise not_emulated(f"The link-type '{link_type}'")
    join = Join(
        joined,
        column(joined, element.get("from", "")).logical_name,
        element.get("to", ""),
        # Dataverse names an alias-less join after its table and position.
        element.get("alias") or f"{name}{index}",
        outer=link_type == "outer",
    )
    for child in element:
        if child.tag == "attribute":
            if child.get("alias") or child.get("aggregate"):
                raise not_emulated("A column alias or aggregate")
            join.columns.append(column(joined, child.get("name", "")).logical_name)
        elif child.tag == "all-attributes":
            join.columns = list(joined.attributes)
        elif child.tag == "filter":
            join.filter = _filter(joined, child)
        else:
            raise not_emulated(f"The link-entity element '{child.tag}'")
    return join


def _key(value: Any) -> Any:
    return value.id if isinstance(value, EntityRef) else value


def run(api: WebApi, request: ApiRequest, plan: Plan) -> ApiResponse:
    """Rows of the plan in the Web API's shape, with FetchXml's paging annotations."""
    entity = plan.entity
    api.require("Read", entity)
    for join in plan.joins:
        column(entity, join.to_attribute)
    now = api.engine.clock.now()
    rows: list[tuple[Record, dict[str, Any]]] = []
    for record in api.engine.rows(entity):
        if plan.filter is not None and not evaluate(plan.filter, record.get, now):
            continue
        linked: list[dict[str, Any]] = [{}]
        for join in plan.joins:
            target = _key(record.get(join.to_attribute))
            matches = [
                r
                for r in api.engine.rows(join.entity)
                if target is not None
                and _key(r.get(join.from_attribute)) == target
                and (join.filter is None or evaluate(join.filter, r.get, now))
            ]
            if not matches and not join.outer:
                linked = []
                break
            extra = [
                {f"{join.alias}.{c}": to_json(_key(m.get(c))) for c in join.columns}
                for m in matches
            ] or [{}]
            linked = [{**a, **b} for a in linked for b in extra]
        rows.extend((record, columns) for columns in linked)
    for name, descending in reversed(plan.orders):
        rows.sort(key=lambda pair, n=name: sort_key(pair[0].get(n)), reverse=descending)  # type: ignore[misc]
    if plan.distinct:
        seen: set[Any] = set()
        unique = []
        for record, columns in rows:
            identity = (record[entity.primary_id], tuple(sorted(columns.items())))
            if identity not in seen:
                seen.add(identity)
                unique.append((record, columns))
        rows = unique
    if plan.top is not None:
        rows = rows[: plan.top]
    size = plan.page_size or DEFAULT_PAGE_SIZE
    window = rows[(plan.page - 1) * size : plan.page * size]
    representation, applied = api.representation(request)
    select = None if plan.columns is None else [_odata_name(entity, c) for c in plan.columns]
    body: dict[str, Any] = {"@odata.context": f"{api.api_url}/$metadata#{entity.entity_set_name}"}
    # The annotations come back when Prefer: odata.include-annotations asks for them.
    if plan.total_count and representation.wanted(TOTAL_COUNT):
        body[f"@{TOTAL_COUNT}"] = len(rows)
    more = plan.page * size < len(rows)
    if representation.wanted(MORE_RECORDS):
        body[f"@{MORE_RECORDS}"] = more
    if more and representation.wanted(PAGING_COOKIE):
        last = window[-1][0][entity.primary_id] if window else ""
        inner = f'<cookie page="{plan.page}"><{entity.primary_id} last="{{{last}}}" /></cookie>'
        # The documented shape: the inner cookie URL-encoded twice inside the outer one.
        encoded = quote(quote(inner, safe=""), safe="")
        body[f"@{PAGING_COOKIE}"] = (
            f'<cookie pagenumber="{plan.page + 1}" pagingcookie="{encoded}" istracking="False" />'
        )
    body["value"] = [
        {**representation.row(entity, record, select), **columns} for record, columns in window
    ]
    return ApiResponse(200, body, applied)


def _odata_name(entity: Entity, logical: str) -> str:
    return column(entity, logical).odata_name


def handle(api: WebApi, request: ApiRequest, entity: Entity) -> ApiResponse:
    others = [k for k in request.query if k != "fetchXml"]
    if others:
        raise bad_request(f"The query parameter {others[0]} can't be combined with fetchXml.")
    return run(api, request, parse_fetch_xml(api, entity, request.query["fetchXml"]))
