"""Xero's ``where`` filter: a small subset of .NET dynamic LINQ, evaluated on the JSON form.

Supported: ``==``/``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``; ``AND``/``&&``, ``OR``/``||``,
``NOT``/``!``, parentheses; literals ``"text"``, numbers, ``true``/``false``/``null``,
``guid("...")``, ``DateTime(y,m,d[,h,m,s])`` and ``DateTime.Parse("...")``; dotted paths
(``Contact.ContactID``) and the string methods ``Contains``, ``StartsWith``, ``EndsWith``,
``ToLower``, ``ToUpper``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .formats import parse_ms_date

Predicate = Callable[[dict[str, Any]], bool]
Getter = Callable[[dict[str, Any]], Any]


class WhereError(ValueError):
    pass


@dataclass(frozen=True)
class Guid:
    value: uuid.UUID


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<=|>=|&&|\|\||[=<>!(),.])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise WhereError(f"Unexpected character at position {position} in '{text}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


_STRING_METHODS: dict[str, Callable[[str, list[Any]], Any]] = {
    "contains": lambda s, a: str(a[0]) in s,
    "startswith": lambda s, a: s.startswith(str(a[0])),
    "endswith": lambda s, a: s.endswith(str(a[0])),
    "tolower": lambda s, a: s.lower(),
    "toupper": lambda s, a: s.upper(),
}


def _lookup(record: dict[str, Any], path: list[str]) -> Any:
    value: Any = record
    for name in path:
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.lower() == name.lower()), None)
        value = value.get(key) if key is not None else None
    return value


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    """Make a JSON value comparable with a literal: dates, GUIDs and numbers."""
    if isinstance(right, Guid) or isinstance(left, Guid):
        return _guid_text(left), _guid_text(right)
    if isinstance(right, datetime) and isinstance(left, str):
        return parse_ms_date(left), right
    if isinstance(left, datetime) and isinstance(right, str):
        return left, parse_ms_date(right)
    if isinstance(right, Decimal) and isinstance(left, int | float) and not isinstance(left, bool):
        return Decimal(str(left)), right
    if isinstance(left, Decimal) and isinstance(right, int | float) and not isinstance(right, bool):
        return left, Decimal(str(right))
    return left, right


def _guid_text(value: Any) -> str | None:
    if isinstance(value, Guid):
        return str(value.value)
    return str(value).lower() if value is not None else None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise WhereError("Unexpected end of expression")
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        _, text = self.take()
        if text != value:
            raise WhereError(f"Expected '{value}' but found '{text}'")

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[1].upper() in words

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        if self.peek() is not None:
            raise WhereError(f"Unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return predicate

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.at_keyword("OR", "||"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def parse_and(self) -> Predicate:
        parts = [self.parse_unary()]
        while self.at_keyword("AND", "&&"):
            self.take()
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def parse_unary(self) -> Predicate:
        if self.at_keyword("NOT", "!"):
            self.take()
            inner = self.parse_unary()
            return lambda r: not inner(r)
        if self.peek() == ("op", "("):
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        left = self.parse_operand()
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in _COMPARE:
            self.take()
            right = self.parse_operand()
            operator = token[1]
            compare = _COMPARE[operator]

            def comparison(record: dict[str, Any]) -> bool:
                a, b = _coerce(left(record), right(record))
                if a is None or b is None:
                    # null only equals null; ordering against null is false.
                    return operator in {"==", "=", "!="} and compare(a is None, b is None)
                try:
                    return compare(a, b)
                except TypeError:
                    return False

            return comparison
        return lambda r: left(r) is True

    def parse_operand(self) -> Getter:
        kind, text = self.take()
        if kind == "string":
            value: Any = bytes(text[1:-1], "utf-8").decode("unicode_escape")
            return self.parse_methods(lambda r: value)
        if kind == "number":
            number = Decimal(text)
            return lambda r: number
        if kind != "ident":
            raise WhereError(f"Unexpected '{text}'")
        word = text.lower()
        if word in {"true", "false"}:
            flag = word == "true"
            return lambda r: flag
        if word == "null":
            return lambda r: None
        if word == "guid":
            guid = Guid(uuid.UUID(self.string_argument()))
            return lambda r: guid
        if word == "datetime":
            moment = self.datetime_literal()
            return lambda r: moment
        path = [text]
        while self.peek() == ("op", ".") and self.method_follows() is False:
            self.take()
            path.append(self.take()[1])
        return self.parse_methods(lambda r: _lookup(r, path))

    def method_follows(self) -> bool:
        """After a '.', is the next identifier a method call (followed by '(')?"""
        following = self.tokens[self.index + 2] if self.index + 2 < len(self.tokens) else None
        return following == ("op", "(")

    def parse_methods(self, getter: Getter) -> Getter:
        while self.peek() == ("op", "."):
            self.take()
            name = self.take()[1].lower()
            method = _STRING_METHODS.get(name)
            if method is None:
                raise WhereError(f"No applicable method '{name}'")
            args = self.arguments()
            getter = _apply_method(getter, method, args)
        return getter

    def arguments(self) -> list[Any]:
        self.expect("(")
        args: list[Any] = []
        while self.peek() != ("op", ")"):
            kind, text = self.take()
            if kind == "string":
                args.append(text[1:-1])
            elif kind == "number":
                args.append(Decimal(text))
            elif text != ",":
                raise WhereError(f"Unexpected '{text}' in argument list")
        self.expect(")")
        return args

    def string_argument(self) -> str:
        args = self.arguments()
        if len(args) != 1 or not isinstance(args[0], str):
            raise WhereError("Expected one string argument")
        return args[0]

    def datetime_literal(self) -> datetime:
        try:
            if self.peek() == ("op", "."):
                self.take()
                if self.take()[1].lower() != "parse":
                    raise WhereError("Expected DateTime.Parse")
                parsed = datetime.fromisoformat(self.string_argument())
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            parts = [int(a) for a in self.arguments()] + [0, 0, 0]
            if len(parts) not in {6, 7, 8, 9}:
                raise WhereError("DateTime takes 3 to 6 arguments")
            year, month, day, hour, minute, second = parts[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except (TypeError, ValueError) as error:
            raise WhereError(f"Invalid DateTime: {error}") from error


def _apply_method(
    getter: Getter, method: Callable[[str, list[Any]], Any], args: list[Any]
) -> Getter:
    def call(record: dict[str, Any]) -> Any:
        value = getter(record)
        return method(value, args) if isinstance(value, str) else None

    return call


def compile_where(text: str) -> Predicate:
    try:
        return _Parser(text).parse()
    except (ValueError, IndexError) as error:
        raise WhereError(str(error)) from error
