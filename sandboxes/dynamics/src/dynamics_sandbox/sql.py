"""``GET {entityset}?sql=SELECT ...``: the Web API's read-only SQL parameter, which
powerplatform-dataverse-client's ``client.query.sql`` sends (its ``_build_sql``). The sandbox
reads one SELECT over the entity set's table -- columns, WHERE with comparisons, LIKE, IN,
BETWEEN, IS [NOT] NULL, AND/OR/NOT and parentheses, ORDER BY, TOP, DISTINCT -- and runs it as
a FetchXml plan. Joins, aggregates, functions and ``SELECT *`` are refused (README); the
client's own guardrails (data/_odata_base.py ``_sql_guardrails``) list what the server rejects.
"""

from __future__ import annotations

import re

from .api_messages import ApiRequest, ApiResponse
from .errors import bad_request
from .fetchxml import Plan, column, like, not_emulated, run, typed
from .metadata import Entity
from .odata.filter import Compare, CrmCall, Literal, Logical, Node, Not, Property
from .webapi import WebApi

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><>|!=|<=|>=|=|<|>)
      | (?P<punct>[(),*])
      | (?P<name>\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_OPERATORS = {"=": "eq", "<>": "ne", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_KEYWORDS = frozenset(
    {"select", "distinct", "top", "from", "where", "order", "by", "asc", "desc", "and", "or"}
    | {"not", "like", "in", "between", "is", "null", "as", "join", "group", "having"}
)


class _Sql:
    def __init__(self, entity: Entity, text: str) -> None:
        self.entity = entity
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while text[position:].strip():
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise bad_request(f"Incorrect syntax near '{text[position : position + 20]}'.")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.index = 0
        self.aliases = {entity.logical_name}

    def peek(self, ahead: int = 0) -> tuple[str, str] | None:
        index = self.index + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise bad_request("Incorrect syntax near the end of the query.")
        self.index += 1
        return token

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1].lower() in words:
            self.index += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.word(word):
            raise bad_request(f"Incorrect syntax: '{word.upper()}' expected.")

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token == ("punct", char):
            self.index += 1
            return True
        return False

    def column_name(self) -> str:
        kind, raw = self.take()
        if kind != "name" or raw.lower() in _KEYWORDS:
            raise bad_request(f"Incorrect syntax near '{raw}'.")
        raw = raw.strip("[]")
        prefix, dot, name = raw.rpartition(".")
        if dot and prefix.lower() not in self.aliases:
            raise bad_request(f"The multi-part identifier '{raw}' could not be bound.")
        if self.peek() == ("punct", "("):
            raise not_emulated(f"The SQL function '{raw}'")
        return column(self.entity, name).logical_name

    def parse(self) -> Plan:
        self.expect_word("select")
        distinct = self.word("distinct")
        top = None
        if self.word("top"):
            kind, raw = self.take()
            if kind != "number" or not raw.isdigit():
                raise bad_request("TOP needs a whole number.")
            top = int(raw)
        if self.peek() == ("punct", "*"):
            raise not_emulated("SELECT *")
        start = self.index
        # Skip the column list to read FROM (and the alias) first.
        while self.peek() is not None and not self.word("from"):
            self.index += 1
        kind, table = self.take()
        if table.strip("[]").lower() != self.entity.logical_name:
            raise bad_request(
                f"The table '{table}' is not the table of the entity set "
                f"'{self.entity.entity_set_name}'."
            )
        self.word("as")
        token = self.peek()
        if token is not None and token[0] == "name" and token[1].lower() not in _KEYWORDS:
            self.aliases.add(self.take()[1].lower())
        end = self.index
        self.index = start
        columns = [self.column_name()]
        while self.punct(","):
            columns.append(self.column_name())
        self.index = end
        plan = Plan(self.entity, columns, top=top, distinct=distinct)
        if self.word("where"):
            plan.filter = self.or_()
        if self.word("order"):
            self.expect_word("by")
            while True:
                name = self.column_name()
                descending = self.word("desc")
                if not descending:
                    self.word("asc")
                plan.orders.append((name, descending))
                if not self.punct(","):
                    break
        token = self.peek()
        if token is not None:
            if token[1].lower() in ("join", "inner", "left", "group", "having", "union"):
                raise not_emulated(f"SQL {token[1].upper()}")
            raise bad_request(f"Incorrect syntax near '{token[1]}'.")
        return plan

    def or_(self) -> Node:
        node = self.and_()
        while self.word("or"):
            node = Logical("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.unary()
        while self.word("and"):
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.word("not"):
            return Not(self.unary())
        if self.punct("("):
            node = self.or_()
            if not self.punct(")"):
                raise bad_request("Incorrect syntax: ')' expected.")
            return node
        return self.predicate()

    def value(self, name: str) -> object:
        kind, raw = self.take()
        if kind == "string":
            text = raw[1:-1].replace("''", "'")
        elif kind == "number":
            text = raw
        else:
            raise bad_request(f"Incorrect syntax near '{raw}'.")
        return typed(column(self.entity, name), text)

    def predicate(self) -> Node:
        name = self.column_name()
        prop = Property(name)
        if self.word("is"):
            negate = self.word("not")
            self.expect_word("null")
            return Compare("ne" if negate else "eq", prop, Literal(None))
        negate = self.word("not")
        if self.word("like"):
            kind, raw = self.take()
            if kind != "string":
                raise bad_request("LIKE needs a quoted pattern.")
            return like(name, raw[1:-1].replace("''", "'"), negate)
        if self.word("in"):
            if not self.punct("("):
                raise bad_request("IN needs a list of values.")
            values = [self.value(name)]
            while self.punct(","):
                values.append(self.value(name))
            if not self.punct(")"):
                raise bad_request("Incorrect syntax: ')' expected.")
            return CrmCall("NotIn" if negate else "In", name, tuple(values))
        if self.word("between"):
            low = self.value(name)
            self.expect_word("and")
            return CrmCall("NotBetween" if negate else "Between", name, (low, self.value(name)))
        if negate:
            raise bad_request("Incorrect syntax near 'NOT'.")
        kind, raw = self.take()
        if kind != "op":
            raise bad_request(f"Incorrect syntax near '{raw}'.")
        return Compare(_OPERATORS[raw], prop, Literal(self.value(name)))


def handle(api: WebApi, request: ApiRequest, entity: Entity) -> ApiResponse:
    others = [k for k in request.query if k != "sql"]
    if others:
        raise bad_request(f"The query parameter {others[0]} can't be combined with sql.")
    return run(api, request, _Sql(entity, request.query["sql"]).parse())
