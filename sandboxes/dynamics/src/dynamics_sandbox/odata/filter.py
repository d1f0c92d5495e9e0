"""``$filter``: a small recursive-descent parser and an evaluator over any row shape.

Grammar (the part of OData that Dataverse clients use):
    expr    := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | compare
    compare := primary (("eq"|"ne"|"gt"|"ge"|"lt"|"le") primary)?
    primary := "(" expr ")" | function "(" args ")" | crmfunction "(" named args ")"
             | collection "/" ("any"|"all") "(" [var ":" expr] ")" | literal | property

Sources (Microsoft Learn): "Filter rows" (webapi/query/filter-rows) for the operators, the
lambda operators and the ``Microsoft.Dynamics.CRM.*`` query functions; "Query Function
Reference" (web-api/queryfunctions) for each function's parameters.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..errors import DataverseError, bad_request
from ..store.values import EntityRef, parse_date, parse_datetime

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"contains", "startswith", "endswith"})
CRM_PREFIX = "Microsoft.Dynamics.CRM."
# The documented query functions the sandbox evaluates; the others are refused (README).
CRM_FUNCTIONS = frozenset(
    {
        "In",
        "NotIn",
        "Between",
        "NotBetween",
        "Today",
        "Yesterday",
        "Tomorrow",
        "On",
        "OnOrAfter",
        "OnOrBefore",
        "LastXDays",
        "NextXDays",
        "Last7Days",
        "Next7Days",
        "LastXHours",
        "NextXHours",
        "OlderThanXDays",
    }
)
# Documented in the Query Function Reference but not emulated (fiscal periods, hierarchies,
# the caller's business unit, multi-select choices, full-text search).
CRM_FUNCTIONS_NOT_EMULATED = frozenset(
    {
        "Above",
        "AboveOrEqual",
        "Contains",
        "ContainValues",
        "DoesNotContainValues",
        "EqualBusinessId",
        "EqualUserId",
        "EqualUserLanguage",
        "EqualUserOrUserHierarchy",
        "EqualUserOrUserHierarchyAndTeams",
        "EqualUserOrUserTeams",
        "EqualUserTeams",
        "InFiscalPeriod",
        "InFiscalPeriodAndYear",
        "InFiscalYear",
        "InOrAfterFiscalPeriodAndYear",
        "InOrBeforeFiscalPeriodAndYear",
        "LastFiscalPeriod",
        "LastFiscalYear",
        "LastMonth",
        "LastWeek",
        "LastXFiscalPeriods",
        "LastXFiscalYears",
        "LastXMonths",
        "LastXWeeks",
        "LastXYears",
        "LastYear",
        "NextFiscalPeriod",
        "NextFiscalYear",
        "NextMonth",
        "NextWeek",
        "NextXFiscalPeriods",
        "NextXFiscalYears",
        "NextXMonths",
        "NextXWeeks",
        "NextXYears",
        "NextYear",
        "NotEqualBusinessId",
        "NotEqualUserId",
        "NotUnder",
        "OlderThanXHours",
        "OlderThanXMinutes",
        "OlderThanXMonths",
        "OlderThanXWeeks",
        "OlderThanXYears",
        "ThisFiscalPeriod",
        "ThisFiscalYear",
        "ThisMonth",
        "ThisWeek",
        "ThisYear",
        "Under",
        "UnderOrEqual",
    }
    - CRM_FUNCTIONS
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
      | (?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<date>\d{4}-\d{2}-\d{2}\b)
      | (?P<number>-?\d+(?:\.\d+)?[mMdD]?\b)
      | (?P<punct>[(),/\[\]=:])
      | (?P<name>[A-Za-z_@][A-Za-z0-9_.@]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Property:
    name: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class CrmCall:
    """``Microsoft.Dynamics.CRM.<name>(PropertyName='x',PropertyValue(s)=...)``."""

    name: str
    property: str
    value: Any = None  # PropertyValue, or the tuple of PropertyValues


@dataclass(frozen=True)
class Lambda:
    """``nav/any(v:...)`` or ``nav/all(v:...)`` over a collection-valued navigation property."""

    nav: str
    op: str  # "any" | "all"
    variable: str | None
    body: Node | None


Node = Literal | Property | Compare | Logical | Not | Call | CrmCall | Lambda


def unknown_function(name: str) -> DataverseError:
    # The OData URI parser's message for a function it cannot bind.
    return bad_request(
        f"An unknown function with name '{name}' was found. This may also be a function "
        "import or a key lookup on a navigation property, which is not allowed."
    )


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise bad_request(f"Syntax error at position {position} in '{text}'.")
        position = match.end()
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "string":
            tokens.append(("literal", raw[1:-1].replace("''", "'")))
        elif kind == "guid":
            tokens.append(("literal", uuid.UUID(raw)))
        elif kind == "datetime":
            tokens.append(("literal", parse_datetime(raw)))
        elif kind == "date":
            tokens.append(("literal", parse_date(raw)))
        elif kind == "number":
            digits = raw.rstrip("mMdD")
            tokens.append(("literal", Decimal(digits) if "." in digits else int(digits)))
        elif kind == "punct":
            tokens.append((raw, raw))
        elif raw in ("true", "false"):
            tokens.append(("literal", raw == "true"))
        elif raw == "null":
            tokens.append(("literal", None))
        else:
            tokens.append(("name", raw))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.variables: list[str] = []  # range variables of the enclosing lambdas

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise bad_request(f"Unexpected end of expression in '{self.text}'.")
        self.index += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1] in words:
            self.index += 1
            return str(token[1])
        return None

    def expect(self, kind: str) -> None:
        if self.take()[0] != kind:
            raise bad_request(f"Syntax error: '{kind}' expected in '{self.text}'.")

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise bad_request(f"Syntax error at '{self.peek()[1]}' in '{self.text}'.")  # type: ignore[index]
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.keyword("or"):
            node = Logical("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.keyword("not"):
            return Not(self.unary())
        left = self.primary()
        op = self.keyword(*COMPARISONS)
        return Compare(op, left, self.primary()) if op else left

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "(":
            node = self.or_()
            self.expect(")")
            return node
        if kind == "literal":
            return Literal(value)
        if kind != "name":
            raise bad_request(f"Syntax error at '{value}' in '{self.text}'.")
        following = self.peek()
        if following is not None and following[0] == "(":
            if str(value).startswith(CRM_PREFIX):
                return self.crm_call(str(value))
            if value not in FUNCTIONS:
                raise unknown_function(str(value))
            self.take()
            args = [self.or_()]
            while self.peek() is not None and self.peek()[0] == ",":  # type: ignore[index]
                self.take()
                args.append(self.or_())
            self.expect(")")
            return Call(str(value), tuple(args))
        if following is not None and following[0] == "/":
            self.take()
            member = self.take()
            if str(value) in self.variables and member[0] == "name":
                return Property(f"{value}/{member[1]}")
            if member[0] == "name" and member[1] in ("any", "all"):
                return self.lambda_(str(value), str(member[1]))
            raise bad_request(
                f"Navigation paths such as '{value}/...' are not supported in $filter."
            )
        return Property(str(value))

    def lambda_(self, nav: str, op: str) -> Node:
        self.expect("(")
        if self.peek() is not None and self.peek()[0] == ")":  # type: ignore[index]
            self.take()
            if op == "all":
                raise bad_request("The 'all' lambda operator needs a predicate.")
            return Lambda(nav, op, None, None)
        kind, variable = self.take()
        if kind != "name":
            raise bad_request(f"A lambda variable is expected in '{self.text}'.")
        self.expect(":")
        self.variables.append(str(variable))
        body = self.or_()
        self.variables.pop()
        self.expect(")")
        return Lambda(nav, op, str(variable), body)

    def crm_call(self, qualified: str) -> Node:
        name = qualified.removeprefix(CRM_PREFIX)
        if name not in CRM_FUNCTIONS:
            if name in CRM_FUNCTIONS_NOT_EMULATED:
                raise bad_request(
                    f"The query function '{qualified}' is not emulated by the sandbox."
                )
            raise unknown_function(qualified)
        self.expect("(")
        params: dict[str, Any] = {}
        while self.peek() is not None and self.peek()[0] != ")":  # type: ignore[index]
            kind, key = self.take()
            if kind != "name":
                raise bad_request(f"Syntax error in the parameters of '{qualified}'.")
            self.expect("=")
            params[str(key)] = self.parameter_value()
            if self.peek() is not None and self.peek()[0] == ",":  # type: ignore[index]
                self.take()
        self.expect(")")
        if not isinstance(params.get("PropertyName"), str):
            raise bad_request(f"The function '{qualified}' needs its PropertyName parameter.")
        values = params.get("PropertyValues", params.get("PropertyValue"))
        return CrmCall(name, params["PropertyName"], values)

    def parameter_value(self) -> Any:
        kind, value = self.take()
        if kind == "literal":
            return value
        if kind != "[":
            raise bad_request(f"A parameter value is expected in '{self.text}'.")
        values = []
        while self.peek() is not None and self.peek()[0] != "]":  # type: ignore[index]
            item_kind, item = self.take()
            if item_kind == "literal":
                values.append(item)
            elif item_kind != ",":
                raise bad_request(f"Syntax error in a list of values in '{self.text}'.")
        self.expect("]")
        return tuple(values)


def parse_filter(text: str) -> Node:
    return _Parser(text).parse()


def properties(node: Node) -> set[str]:
    """Every property name the expression reads (for validation before evaluation)."""
    if isinstance(node, Property):
        return {node.name}
    if isinstance(node, Compare | Logical):
        return properties(node.left) | properties(node.right)
    if isinstance(node, Not):
        return properties(node.operand)
    if isinstance(node, Call):
        return set().union(*(properties(a) for a in node.args))
    if isinstance(node, CrmCall):
        return {node.property}
    return set()


def lambdas(node: Node) -> list[Lambda]:
    """The outermost lambda operators of the expression (validated against their table)."""
    if isinstance(node, Lambda):
        return [node]
    if isinstance(node, Compare | Logical):
        return lambdas(node.left) + lambdas(node.right)
    if isinstance(node, Not):
        return lambdas(node.operand)
    if isinstance(node, Call):
        return [found for a in node.args for found in lambdas(a)]
    return []


# A row's value by property name; for a collection navigation property, the related rows'
# getters (used by lambda operators).
Getter = Callable[[str], Any]


def evaluate(node: Node, get: Getter, now: datetime | None = None) -> bool:
    """Whether the row matches; `now` (UTC) anchors the date query functions."""
    return bool(_value(node, get, now))


def _value(node: Node, get: Getter, now: datetime | None = None) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Lambda):
        related: list[Getter] = get(node.nav)
        if node.body is None:
            return bool(related)
        prefix = f"{node.variable}/"

        def scoped(child: Getter) -> Getter:
            return lambda name: child(name[len(prefix) :]) if name.startswith(prefix) else get(name)

        matches = (evaluate(node.body, scoped(child), now) for child in related)
        return any(matches) if node.op == "any" else all(matches)
    if isinstance(node, CrmCall):
        return _crm_function(node, get(node.property), now)
    if isinstance(node, Property):
        value = get(node.name)
        return value.id if isinstance(value, EntityRef) else value
    if isinstance(node, Not):
        return not _value(node.operand, get, now)
    if isinstance(node, Logical):
        left = bool(_value(node.left, get, now))
        if node.op == "and":
            return left and bool(_value(node.right, get, now))
        return left or bool(_value(node.right, get, now))
    if isinstance(node, Call):
        haystack, needle = (_value(a, get, now) for a in node.args[:2])
        if not isinstance(haystack, str) or not isinstance(needle, str):
            return False
        haystack, needle = haystack.lower(), needle.lower()
        if node.name == "contains":
            return needle in haystack
        return (
            haystack.startswith(needle) if node.name == "startswith" else haystack.endswith(needle)
        )
    return _compare(node.op, _value(node.left, get, now), _value(node.right, get, now))


def _coerce(raw: Any, like: Any) -> Any:
    """A function parameter (often a string, as the documentation's examples pass them) read
    as the type of the column it is compared with."""
    if not isinstance(raw, str) or isinstance(like, str):
        return raw
    if isinstance(like, bool):
        return raw.lower() == "true"
    if isinstance(like, int | float | Decimal):
        try:
            return Decimal(raw)
        except ArithmeticError:
            raise bad_request(f"'{raw}' is not a number.") from None
    if isinstance(like, datetime):
        return parse_datetime(raw)
    if isinstance(like, date):
        return parse_date(raw)
    if isinstance(like, uuid.UUID):
        return uuid.UUID(raw)
    return raw


def _days(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"PropertyValue '{value}' is not a whole number.") from None


def _crm_function(node: CrmCall, value: Any, now: datetime | None) -> bool:
    if isinstance(value, EntityRef):
        value = value.id
    name = node.name
    if name in ("In", "NotIn", "Between", "NotBetween"):
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        if name.endswith("Between") and len(values) != 2:
            raise bad_request(f"{name} needs exactly two PropertyValues.")
        if value is None:
            return name.startswith("Not")
        coerced = [_coerce(v, value) for v in values]
        if name.endswith("In"):
            found = any(_compare("eq", value, v) for v in coerced)
        else:
            found = _compare("ge", value, coerced[0]) and _compare("le", value, coerced[1])
        return not found if name.startswith("Not") else found
    if now is None:
        raise bad_request(f"The function '{name}' needs the current time.")
    if value is None:
        return False
    moment = value if isinstance(value, datetime) else None
    day = value.date() if isinstance(value, datetime) else value
    if not isinstance(day, date):
        raise bad_request(f"The function '{name}' applies to date and time columns only.")
    today = now.date()
    if name in ("Today", "Yesterday", "Tomorrow"):
        offset = {"Today": 0, "Yesterday": -1, "Tomorrow": 1}[name]
        return day == today + timedelta(days=offset)
    if name in ("On", "OnOrAfter", "OnOrBefore"):
        given = _coerce(node.value, date.min)
        given = given.date() if isinstance(given, datetime) else given
        if not isinstance(given, date):
            raise bad_request(f"PropertyValue '{node.value}' is not a date.")
        return {"On": day == given, "OnOrAfter": day >= given, "OnOrBefore": day <= given}[name]
    if name in ("LastXHours", "NextXHours"):
        hours = timedelta(hours=_days(node.value))
        instant = moment or datetime.combine(day, datetime.min.time(), now.tzinfo)
        if name == "LastXHours":
            return now - hours <= instant <= now
        return now <= instant <= now + hours
    count = 7 if name in ("Last7Days", "Next7Days") else _days(node.value)
    if name in ("LastXDays", "Last7Days"):
        # From midnight `count` days ago up to now (FetchXML's last-x-days).
        return today - timedelta(days=count) <= day <= today
    if name in ("NextXDays", "Next7Days"):
        return today <= day <= today + timedelta(days=count)
    return day < today - timedelta(days=count)  # OlderThanXDays


def _normalise(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left, right
        raise bad_request("A Boolean can only be compared with true or false.")
    if isinstance(left, uuid.UUID) and isinstance(right, str):
        return str(left), right.lower()
    if isinstance(right, uuid.UUID) and isinstance(left, str):
        return left.lower(), str(right)
    if isinstance(left, str) and isinstance(right, str):
        return left.lower(), right.lower()  # Dataverse compares text case-insensitively
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        return Decimal(str(left)), Decimal(str(right))
    if isinstance(left, datetime) and isinstance(right, str):
        return left, parse_datetime(right)
    if isinstance(left, date) and not isinstance(left, datetime) and isinstance(right, datetime):
        return left, right.date()
    if isinstance(left, datetime) and isinstance(right, date) and not isinstance(right, datetime):
        return left.date(), right
    return left, right


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        if op == "eq":
            return left is right
        if op == "ne":
            return left is not right
        return False
    left, right = _normalise(left, right)
    try:
        if op == "eq":
            return bool(left == right)
        if op == "ne":
            return bool(left != right)
        if op == "gt":
            return bool(left > right)
        if op == "ge":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        raise bad_request(f"The operands of '{op}' are not compatible.") from None
