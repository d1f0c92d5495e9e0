"""System query options ($select, $filter, $orderby, $top, $expand, $count) and Prefer."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import BAD_SYNTAX, DataverseError, bad_request
from .filter import Node, parse_filter


@dataclass
class QueryOptions:
    select: list[str] | None = None
    filter: Node | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    top: int | None = None
    count: bool = False
    expand: list[Expand] = field(default_factory=list)


@dataclass
class Expand:
    nav: str
    options: QueryOptions


SUPPORTED = frozenset(
    {"$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken", "$deltatoken"}
)
# Answered by their own modules before the system query options are read.
QUERY_LANGUAGES = frozenset({"fetchXml", "sql"})
_ALIAS = re.compile(r"@[A-Za-z_][A-Za-z0-9_]*")


def unsupported_parameter(name: str) -> DataverseError:
    """Dataverse's answer to a query parameter it does not know. The codes are the ones real
    orgs return: 0x80060888 for a ``$`` option (MicrosoftDocs/powerapps-docs#1640, "The query
    parameter $fetchXml is not supported"), 0x0 for any other name (rappen/FetchXMLBuilder#437,
    "The query parameter utm_source is not supported")."""
    code = BAD_SYNTAX if name.startswith("$") else "0x0"
    return bad_request(f"The query parameter {name} is not supported", code)


def _substitute_aliases(params: Mapping[str, str]) -> dict[str, str]:
    """Parameter aliases (``$filter=name eq @p1&@p1='x'``), which Dataverse accepts in $filter
    and $orderby ("Use parameter aliases with system query options", webapi/query/overview)."""
    aliases = {k: v for k, v in params.items() if k.startswith("@")}
    resolved = {k: v for k, v in params.items() if not k.startswith("@")}
    for option in ("$filter", "$orderby"):
        if option in resolved and aliases:

            def value(match: re.Match[str]) -> str:
                if match.group(0) not in aliases:
                    raise bad_request(f"The parameter alias {match.group(0)} is not defined.")
                return aliases[match.group(0)]

            resolved[option] = _ALIAS.sub(value, resolved[option])
    return resolved


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses and quoted strings."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == separator:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_options(params: Mapping[str, str]) -> QueryOptions:
    unknown = [k for k in params if k not in SUPPORTED and not k.startswith("@")]
    if unknown:
        raise unsupported_parameter(unknown[0])
    params = _substitute_aliases(params)
    options = QueryOptions()
    if "$select" in params:
        options.select = split_top_level(params["$select"], ",")
    if params.get("$filter"):
        options.filter = parse_filter(params["$filter"])
    if params.get("$orderby"):
        for item in split_top_level(params["$orderby"], ","):
            name, _, direction = item.partition(" ")
            if direction.strip() not in ("", "asc", "desc"):
                raise bad_request(f"Invalid $orderby direction '{direction.strip()}'.")
            options.orderby.append((name, direction.strip() == "desc"))
    if "$top" in params:
        if not params["$top"].isdigit():
            raise bad_request(f"Invalid value '{params['$top']}' for $top query option.")
        options.top = int(params["$top"])
    if "$count" in params:
        if params["$count"] not in ("true", "false"):
            raise bad_request(f"Invalid value '{params['$count']}' for $count query option.")
        options.count = params["$count"] == "true"
    if params.get("$expand"):
        options.expand = [_parse_expand(item) for item in split_top_level(params["$expand"], ",")]
    return options


def _parse_expand(item: str) -> Expand:
    match = re.fullmatch(r"([A-Za-z0-9_]+)\s*(?:\((.*)\))?", item, re.DOTALL)
    if match is None:
        raise bad_request(f"Invalid $expand item '{item}'.")
    nested: dict[str, str] = {}
    for option in split_top_level(match.group(2) or "", ";"):
        key, _, value = option.partition("=")
        nested[key.strip()] = value.strip()
    return Expand(match.group(1), parse_options(nested))


def parse_prefer(headers: list[str]) -> dict[str, str | None]:
    """``Prefer`` preferences by name; values lose their quotes."""
    preferences: dict[str, str | None] = {}
    for header in headers:
        for item in split_top_level(header.replace('"', "'"), ","):
            name, sep, value = item.partition("=")
            preferences[name.strip().lower()] = value.strip().strip("'") if sep else None
    return preferences


def annotation_filter(pattern: str | None) -> Callable[[str], bool]:
    """Which instance annotations ``odata.include-annotations`` asks for."""
    patterns = [p.strip() for p in (pattern or "").split(",") if p.strip()]

    def wanted(term: str) -> bool:
        if any(p == f"-{term}" for p in patterns):
            return False
        return any(
            p == "*" or p == term or (p.endswith(".*") and term.startswith(p[:-1]))
            for p in patterns
        )

    return wanted
