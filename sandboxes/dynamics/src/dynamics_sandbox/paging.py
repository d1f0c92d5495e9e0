"""Server-driven paging: opaque ``$skiptoken`` cookies and ``@odata.nextLink``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from .errors import bad_request

_COOKIE = re.compile(r'<cookie pagenumber="(\d+)" offset="(\d+)" snapshot="(\d+)" />')


def encode_skiptoken(page_number: int, offset: int, snapshot: int) -> str:
    # Shaped like Dataverse's paging cookie; clients must treat it as opaque.
    return f'<cookie pagenumber="{page_number}" offset="{offset}" snapshot="{snapshot}" />'


def decode_skiptoken(token: str) -> tuple[int, int, int]:
    match = _COOKIE.fullmatch(token.strip())
    if match is None:
        raise bad_request("The $skiptoken value is invalid.")
    page, offset, snapshot = (int(g) for g in match.groups())
    return page, offset, snapshot


def link(base: str, params: Mapping[str, str], replace: Mapping[str, str | None]) -> str:
    merged = {k: v for k, v in params.items() if k not in replace}
    merged.update({k: v for k, v in replace.items() if v is not None})
    if not merged:
        return base
    return f"{base}?{urlencode(merged, quote_via=quote, safe='$,()')}"


def page_size(preferences: Mapping[str, str | None], maximum: int) -> tuple[int, bool]:
    """The page size to use and whether the client's odata.maxpagesize was honoured."""
    raw = preferences.get("odata.maxpagesize")
    if raw is None or not raw.isdigit() or int(raw) <= 0:
        return maximum, False
    return min(int(raw), maximum), True
