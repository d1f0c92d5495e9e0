"""``$filter``: a small recursive-descent parser and an evaluator over any row shape.

Grammar (the part of OData that Dataverse clients use):
    expr    := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | compare
    compare := primary (("eq"|"ne"|"gt"|"ge"|"lt"|"le") primary)?
    primary := "(" expr ")" | function "(" args ")" | literal | property
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..errors import bad_request
from ..store.values import EntityRef, parse_date, parse_datetime

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"contains", "startswith", "endswith"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
      | (?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<date>\d{4}-\d{2}-\d{2}\b)
      | (?P<number>-?\d+(?:\.\d+)?[mMdD]?\b)
      | (?P<punct>[(),/])
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


Node = Literal | Property | Compare | Logical | Not | Call


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
            if value not in FUNCTIONS:
                raise bad_request(f"Unknown function '{value}'.")
            self.take()
            args = [self.or_()]
            while self.peek() is not None and self.peek()[0] == ",":  # type: ignore[index]
                self.take()
                args.append(self.or_())
            self.expect(")")
            return Call(str(value), tuple(args))
        if following is not None and following[0] == "/":
            raise bad_request(
                f"Navigation paths such as '{value}/...' are not supported in $filter."
            )
        return Property(str(value))


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
    return set()


Getter = Callable[[str], Any]


def evaluate(node: Node, get: Getter) -> bool:
    return bool(_value(node, get))


def _value(node: Node, get: Getter) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Property):
        value = get(node.name)
        return value.id if isinstance(value, EntityRef) else value
    if isinstance(node, Not):
        return not _value(node.operand, get)
    if isinstance(node, Logical):
        left = bool(_value(node.left, get))
        if node.op == "and":
            return left and bool(_value(node.right, get))
        return left or bool(_value(node.right, get))
    if isinstance(node, Call):
        haystack, needle = (_value(a, get) for a in node.args[:2])
        if not isinstance(haystack, str) or not isinstance(needle, str):
            return False
        haystack, needle = haystack.lower(), needle.lower()
        if node.name == "contains":
            return needle in haystack
        return (
            haystack.startswith(needle) if node.name == "startswith" else haystack.endswith(needle)
        )
    return _compare(node.op, _value(node.left, get), _value(node.right, get))


def _normalise(left: Any, right: Any) -> tuple[Any, Any]:
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
