"""What every Accounting API endpoint shares: the caller's context, scope checks, the response
envelope, batch writes with per-element validation, and list queries (where, order, paging,
If-Modified-Since)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from ..errors import (
    ValidationFailure,
    XeroHTTPError,
    bad_request,
    query_parse_error,
    unauthorised_scope,
    validation_exception,
)
from ..formats import ms_timestamp, new_id, parse_http_datetime, parse_ms_date
from ..models import Organisation
from ..scopes import Area, allows
from ..state import SandboxState
from ..tokens import Caller
from ..where import WhereError, compile_where

API_PREFIX = "/api.xro/2.0"
# `page` returns 100 records; `pageSize` asks for up to 1,000 (Invoices: "Optional parameters for
# GET Invoices", https://developer.xero.com/documentation/api/accounting/invoices; the pageSize
# parameter of the list endpoints in XeroAPI/Xero-OpenAPI xero_accounting.yaml). A larger
# pageSize is served as 1,000.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

T = TypeVar("T")
Json = dict[str, Any]


@dataclass
class ApiContext:
    """Set by the gateway once the token, tenant and limits have been checked."""

    state: SandboxState
    org: Organisation
    caller: Caller | None  # None when the admin API seeds data
    request: Request

    @property
    def api_base(self) -> str:
        base = self.state.settings.public_base_url or str(self.request.base_url)
        return base.rstrip("/") + API_PREFIX

    @property
    def now(self) -> datetime:
        return self.state.clock.now()

    def emit(self, category: str, event_type: str, resource_id: str, collection: str) -> None:
        self.state.webhooks.emit(
            self.org.tenant_id,
            category,
            event_type,
            resource_id,
            f"{self.api_base}/{collection}/{resource_id}",
        )


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.state.api
    return context


def scoped(area: Area, *, write: bool) -> Callable[[Request], ApiContext]:
    """A dependency giving the context once the token's scopes open this area."""

    def dependency(context: Annotated[ApiContext, Depends(api_context)]) -> ApiContext:
        if context.caller is None or not allows(context.caller.grant.scopes, area, write):
            raise XeroHTTPError(unauthorised_scope())
        return context

    return dependency  # type: ignore[return-value]


def number(value: Decimal | None, places: int = 2) -> Decimal | None:
    """An amount at Xero's precision (the shared documents write it as a JSON number)."""
    return None if value is None else round(value, places)


def unitdp_of(context: ApiContext) -> int:
    """Unit amounts go to 2 decimal places unless the caller asks for 4 (``unitdp=4``)."""
    return 4 if context.request.query_params.get("unitdp") == "4" else 2


def envelope(context: ApiContext, plural: str, items: list[Json], **extra: Any) -> Json:
    client = context.state.clients.get(context.caller.client_id) if context.caller else None
    return {
        "Id": new_id(),
        "Status": "OK",
        "ProviderName": client.name if client else "Sandbox app",
        "DateTimeUTC": ms_timestamp(context.now),
        **extra,
        plural: items,
    }


async def read_elements(request: Request, plural: str) -> list[Json]:
    """The elements of a write: ``{"Invoices": [...]}`` or one bare element."""
    try:
        body = json.loads(await request.body() or b"null")
    except json.JSONDecodeError as error:
        raise XeroHTTPError(bad_request(f"Invalid JSON: {error.msg}")) from error
    elements: list[Any]
    if isinstance(body, dict) and isinstance(body.get(plural), list):
        elements = body[plural]
    elif isinstance(body, dict) and body and plural not in body:
        elements = [body]
    else:
        raise XeroHTTPError(bad_request(f"The request must contain {plural}"))
    if not all(isinstance(e, dict) for e in elements):
        raise XeroHTTPError(bad_request(f"Each of {plural} must be an object"))
    return [dict(e) for e in elements]


def summarize_errors(request: Request) -> bool:
    return request.query_params.get("summarizeErrors", "true").lower() != "false"


def run_batch(
    context: ApiContext,
    plural: str,
    elements: list[Json],
    handle: Callable[[Json], T],
    render: Callable[[T], Json],
    *,
    has_errors_field: bool = False,
    failure_fields: Callable[[Json], Json] | None = None,
) -> Response:
    """Apply each element on its own. With summarizeErrors=false, a 200 lists every element with
    its StatusAttributeString; otherwise any failure gives a 400 ValidationException although
    the valid elements were saved (as Xero does). `failure_fields` gives the fields Xero sets on
    a failed element of this kind."""
    rendered: list[Json] = []
    failures: list[Json] = []
    for element in elements:
        try:
            item = render(handle(element))
            item["StatusAttributeString"] = "OK"
            rendered.append(item)
        except ValidationFailure as failure:
            failed = {
                **element,
                "StatusAttributeString": "ERROR",
                "ValidationErrors": [{"Message": m} for m in failure.messages],
            }
            if has_errors_field:
                failed["HasErrors"] = True
            if failure_fields is not None:
                failed.update(failure_fields(element))
            rendered.append(failed)
            failures.append(failed)
    if failures and summarize_errors(context.request):
        return validation_exception(failures)
    return JSONResponse(envelope(context, plural, rendered))


def one(context: ApiContext, plural: str, item: Json) -> Response:
    return JSONResponse(envelope(context, plural, [item]))


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, str):
        moment = parse_ms_date(value)
        return (1, moment.timestamp()) if moment else (2, value.lower())
    if isinstance(value, bool) or value is None:
        return (0, 0) if value is None else (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    return (3, str(value))


def _order(records: list[Json], order: str) -> list[Json]:
    # Stable sorts applied from the last clause to the first give a multi-key order.
    for clause in reversed([c.strip() for c in order.split(",") if c.strip()]):
        name, _, direction = clause.partition(" ")
        descending = direction.strip().upper() == "DESC"

        def key(record: Json, name: str = name) -> tuple[int, Any]:
            return _sort_key(_field(record, name))

        records = sorted(records, key=key, reverse=descending)
    return records


def _field(record: Json, dotted: str) -> Any:
    value: Any = record
    for name in dotted.split("."):
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.lower() == name.lower()), None)
        value = value.get(key) if key else None
    return value


def list_response(
    context: ApiContext,
    plural: str,
    records: Iterable[Json],
    *,
    paged: bool = True,
) -> Response:
    """Filter (If-Modified-Since, where), order and page the JSON forms of a collection."""
    request = context.request
    result = list(records)
    since_header = request.headers.get("if-modified-since")
    if since_header:
        since = parse_http_datetime(since_header)
        if since is not None:
            result = [
                r
                for r in result
                if (moment := parse_ms_date(str(r.get("UpdatedDateUTC", "")))) and moment > since
            ]
    where = request.query_params.get("where")
    if where:
        try:
            predicate = compile_where(where)
        except WhereError as error:
            raise XeroHTTPError(query_parse_error(str(error))) from error
        result = [r for r in result if predicate(r)]
    order = request.query_params.get("order")
    if order:
        result = _order(result, order)
    page_text = request.query_params.get("page")
    if not paged or page_text is None:
        return JSONResponse(envelope(context, plural, result))
    try:
        page = max(1, int(page_text))
        size = int(request.query_params.get("pageSize", DEFAULT_PAGE_SIZE))
    except ValueError as error:
        raise XeroHTTPError(bad_request("page and pageSize must be integers")) from error
    size = min(max(1, size), MAX_PAGE_SIZE)
    item_count = len(result)
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": (item_count + size - 1) // size,
        "itemCount": item_count,
    }
    window = result[(page - 1) * size : page * size]
    return JSONResponse(envelope(context, plural, window, pagination=pagination))


def id_list(request: Request, name: str) -> set[str] | None:
    """A comma-separated filter such as ``IDs`` or ``Statuses``, lower-cased."""
    text = request.query_params.get(name)
    if not text:
        return None
    return {part.strip().lower() for part in text.split(",") if part.strip()}
