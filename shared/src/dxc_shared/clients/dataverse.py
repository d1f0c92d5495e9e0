"""Dataverse Web API client: OData reads with paging, bulk reads by ids, writes, and `$batch`
with change sets (whose updates `BatchOperation.patch` builds, with `If-Match`).

One client serves one organisation with one access-token source. Service-protection answers
(429 + Retry-After) are waited out when short and raised as `DataverseThrottled` when long, so
the bus retries the job later; 5xx and network errors raise `DataverseUnavailable`. Both are
transient: a user never sees them as a failed invoice.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from dxc_shared.clients.vendor_metrics import (
    VENDOR_CALL_DURATION,
    VENDOR_CALLS,
    VENDOR_RATE_LIMIT_WAIT,
    VENDOR_THROTTLED,
)
from dxc_shared.credentials import AccessTokenSource, TokenRejected

JSON = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]

MAX_BATCH_REQUESTS = 1000
MAX_PAGE_SIZE = 5000
# Values per `or` filter in `rows_where_in` (Dataverse has no `in` operator in every version):
# keeps each query string well under URL length limits.
LOOKUP_CHUNK = 50


# ExpiredVersionStamp: a delta link older than the organisation's change-tracking retention
# (Microsoft Learn, "Use change tracking to synchronize data with external systems").
EXPIRED_DELTA_TOKEN = "0x80044352"


class DataverseError(Exception):
    """Dataverse refused the request; `message` is its own words."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Dataverse answered {status} ({code}): {message}")
        self.status = status
        self.code = code
        self.message = message


class DataverseUnavailable(Exception):
    pass


class DataverseThrottled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Dataverse service protection limit; retry after {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass
class Changes:
    """What change tracking reported: changed rows, deleted ids, and where to continue."""

    rows: list[JSON] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)
    delta_link: str | None = None
    # True when the delta link had expired and every row was read again instead.
    restarted: bool = False


@dataclass(frozen=True)
class BatchOperation:
    """One request inside a `$batch`; `path` is relative to the Web API root."""

    method: str
    path: str
    body: JSON | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def patch(
        cls, entity_set: str, row_id: str, body: JSON, *, if_match: str = "*"
    ) -> BatchOperation:
        """Update a row, never create one (`If-Match: *`: a row a person deleted meanwhile
        stays deleted); with the ETag the row was read with, only if it is still as read."""
        return cls("PATCH", f"{entity_set}({row_id})", body, {"If-Match": if_match})


@dataclass(frozen=True)
class BatchResult:
    status: int
    headers: Mapping[str, str]
    body: JSON | None

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def error_message(self) -> str:
        error = (self.body or {}).get("error") or {}
        return str(error.get("message") or f"HTTP {self.status}")


def odata_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def or_filter(column: str, values: Iterable[str], *, guid: bool = False) -> str:
    """`column eq v1 or column eq v2 ...`: a guid column compares with bare (normalised) ids,
    any other column with quoted string literals."""
    literal = (lambda value: str(uuid.UUID(value))) if guid else odata_literal
    return " or ".join(f"{column} eq {literal(value)}" for value in values)


def chunks(values: Sequence[str], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def same_value(current: Any, wanted: Any) -> bool:
    """Dataverse answers money and decimals as JSON numbers: numbers compare as decimals to
    four places (cents, rates), anything else as is."""
    if isinstance(wanted, int | float | Decimal) and not isinstance(wanted, bool):
        if current is None:
            return False
        try:
            return Decimal(str(current)).quantize(Decimal("0.0001")) == Decimal(
                str(wanted)
            ).quantize(Decimal("0.0001"))
        except InvalidOperation:
            return False
    return bool(current == wanted)


def changed_columns(row: JSON, wanted: JSON) -> JSON:
    """The part of `wanted` that differs from `row` as read: what an update has to write."""
    return {
        column: value for column, value in wanted.items() if not same_value(row.get(column), value)
    }


class DataverseClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        org_url: str,
        access_token: AccessTokenSource,
        token_rejected: TokenRejected | None = None,
        api_version: str = "v9.2",
        max_wait_seconds: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self.api_url = f"{org_url.rstrip('/')}/api/data/{api_version}"
        self._access_token = access_token
        self._token_rejected = token_rejected
        self._max_wait = max_wait_seconds
        self._sleep = sleep
        self.calls = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        body: JSON | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        allow_not_found: bool = False,
    ) -> httpx.Response | None:
        url = path if path.startswith("http") else f"{self.api_url}/{path}"
        base_headers = {
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            **(headers or {}),
        }
        content: bytes | None = None
        if isinstance(body, dict):
            content = json.dumps(body).encode()
            base_headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, bytes):
            content = body
        renewed = False
        while True:
            token = await self._access_token()
            base_headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method, url, params=params, content=content, headers=base_headers
                )
            except httpx.TransportError as error:
                VENDOR_CALLS.labels("dataverse", operation, "error").inc()
                raise DataverseUnavailable(f"{operation}: {type(error).__name__}") from error
            finally:
                VENDOR_CALL_DURATION.labels("dataverse", operation).observe(
                    time.perf_counter() - started
                )
            self.calls += 1
            VENDOR_CALLS.labels("dataverse", operation, str(response.status_code)).inc()
            if response.status_code == 429:
                VENDOR_THROTTLED.labels("dataverse").inc()
                retry_after = _seconds(response.headers.get("Retry-After"), default=5.0)
                if retry_after > self._max_wait:
                    raise DataverseThrottled(retry_after)
                VENDOR_RATE_LIMIT_WAIT.labels("dataverse").inc(retry_after)
                await self._sleep(retry_after)
                continue
            if response.status_code >= 500:
                raise DataverseUnavailable(
                    f"{operation}: Dataverse answered {response.status_code}"
                )
            if response.status_code == 401 and self._token_rejected is not None and not renewed:
                # Refused before it expired (the grant revoked?): hand it back and try once more.
                renewed = True
                await self._token_rejected(token)
                continue
            if response.status_code == 404 and allow_not_found:
                return None
            if response.status_code >= 400:
                code, message = _error_of(response)
                raise DataverseError(response.status_code, code, message)
            return response

    async def query(
        self,
        entity_set: str,
        *,
        select: Sequence[str] = (),
        filter: str | None = None,
        expand: str | None = None,
        orderby: str | None = None,
        top: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> list[JSON]:
        """Every matching row, following `@odata.nextLink` (and resending the page size)."""
        params: dict[str, str] = {}
        if select:
            params["$select"] = ",".join(select)
        if filter:
            params["$filter"] = filter
        if expand:
            params["$expand"] = expand
        if orderby:
            params["$orderby"] = orderby
        if top is not None:
            params["$top"] = str(top)
        headers = {
            "Prefer": f"odata.maxpagesize={min(page_size, MAX_PAGE_SIZE)},"
            'odata.include-annotations="*"'
        }
        rows: list[JSON] = []
        next_url: str | None = entity_set
        next_params: Mapping[str, str] | None = params
        while next_url:
            response = await self.request(
                "GET",
                next_url,
                operation=f"query_{entity_set}",
                params=next_params,
                headers=headers,
            )
            assert response is not None
            page = response.json()
            rows.extend(page.get("value", []))
            next_url, next_params = page.get("@odata.nextLink"), None
        return rows

    async def rows_where_in(
        self,
        entity_set: str,
        column: str,
        values: Iterable[str],
        *,
        select: Sequence[str],
        guid: bool = False,
    ) -> list[JSON]:
        """Every row whose `column` is one of `values` (empty values ignored, duplicates asked
        once), in one query per `LOOKUP_CHUNK` values. `guid=True` for id and lookup columns."""
        unique = sorted({value for value in values if value})
        rows: list[JSON] = []
        for chunk in chunks(unique):
            condition = or_filter(column, chunk, guid=guid)
            rows.extend(await self.query(entity_set, select=select, filter=condition))
        return rows

    async def changes(
        self, entity_set: str, *, select: Sequence[str], delta_link: str | None
    ) -> Changes:
        """Rows created or changed, and ids deleted, since `delta_link` (every row when None),
        with the delta link to ask from next time. Change tracking takes `$select` only.

        A delta link older than the organisation's change-tracking retention (7 days by
        default) is refused with ExpiredVersionStamp, "Please perform a full sync": then every
        row is read again with a new delta link (`restarted`); rows deleted meanwhile are not
        reported."""
        try:
            return await self._changes(entity_set, select, delta_link)
        except DataverseError as error:
            if delta_link is None or error.code != EXPIRED_DELTA_TOKEN:
                raise
        changes = await self._changes(entity_set, select, None)
        changes.restarted = True
        return changes

    async def _changes(
        self, entity_set: str, select: Sequence[str], delta_link: str | None
    ) -> Changes:
        headers = {
            "Prefer": f"odata.track-changes,odata.maxpagesize={MAX_PAGE_SIZE},"
            'odata.include-annotations="*"'
        }
        changes = Changes()
        next_url: str | None = delta_link or entity_set
        next_params: Mapping[str, str] | None = (
            None if delta_link else {"$select": ",".join(select)}
        )
        while next_url:
            response = await self.request(
                "GET",
                next_url,
                operation=f"changes_{entity_set}",
                params=next_params,
                headers=headers,
            )
            assert response is not None
            page = response.json()
            for row in page.get("value", []):
                if str(row.get("@odata.context", "")).endswith("$deletedEntity"):
                    changes.deleted_ids.append(str(row["id"]))
                else:
                    changes.rows.append(row)
            next_url, next_params = page.get("@odata.nextLink"), None
            changes.delta_link = page.get("@odata.deltaLink", changes.delta_link)
        return changes

    async def create(self, entity_set: str, body: JSON) -> str:
        """Create a row; returns its id (from the OData-EntityId header)."""
        response = await self.request(
            "POST", entity_set, operation=f"create_{entity_set}", body=body
        )
        assert response is not None
        entity_id = str(response.headers.get("OData-EntityId", ""))
        return entity_id.rsplit("(", 1)[-1].rstrip(")")

    async def update(
        self, entity_set: str, row_id: str, body: JSON, *, if_match: str = "*"
    ) -> None:
        """Update one row now (as `BatchOperation.patch`, outside a `$batch`)."""
        operation = BatchOperation.patch(entity_set, row_id, body, if_match=if_match)
        await self.request(
            operation.method,
            operation.path,
            operation=f"update_{entity_set}",
            body=body,
            headers=operation.headers,
        )

    async def who_am_i(self) -> JSON:
        response = await self.request("GET", "WhoAmI", operation="who_am_i")
        assert response is not None
        result: JSON = response.json()
        return result

    async def batch(
        self, change_sets: Sequence[Sequence[BatchOperation]]
    ) -> list[list[BatchResult]]:
        """Run change sets in `$batch` requests of up to 1,000 operations. Each change set
        commits or rolls back as a whole; one failing change set does not stop the others
        (`odata.continue-on-error`). Returns the results per change set, in order."""
        results: list[list[BatchResult]] = []
        chunk: list[Sequence[BatchOperation]] = []
        size = 0
        for change_set in change_sets:
            if chunk and size + len(change_set) > MAX_BATCH_REQUESTS:
                results.extend(await self._send_batch(chunk))
                chunk, size = [], 0
            chunk.append(change_set)
            size += len(change_set)
        if chunk:
            results.extend(await self._send_batch(chunk))
        return results

    async def _send_batch(
        self, change_sets: Sequence[Sequence[BatchOperation]]
    ) -> list[list[BatchResult]]:
        boundary = f"batch_{uuid.uuid4().hex}"
        body = _render_batch(self.api_url, boundary, change_sets)
        response = await self.request(
            "POST",
            "$batch",
            operation="batch",
            body=body,
            headers={
                "Content-Type": f"multipart/mixed; boundary={boundary}",
                "Prefer": "odata.continue-on-error",
            },
        )
        assert response is not None
        parts = parse_multipart(response.headers.get("Content-Type", ""), response.content)
        grouped: list[list[BatchResult]] = []
        for part, change_set in zip(parts, change_sets, strict=False):
            if isinstance(part, list):
                grouped.append(part)
            else:  # a failed change set answers with its one failing request
                grouped.append([part] * len(change_set))
        return grouped


def _render_batch(
    api_url: str, boundary: str, change_sets: Sequence[Sequence[BatchOperation]]
) -> bytes:
    lines: list[str] = []
    for index, change_set in enumerate(change_sets):
        change_set_boundary = f"changeset_{uuid.uuid4().hex}"
        lines += [
            f"--{boundary}",
            f"Content-Type: multipart/mixed; boundary={change_set_boundary}",
            "",
        ]
        for number, operation in enumerate(change_set, start=1):
            lines += [
                f"--{change_set_boundary}",
                "Content-Type: application/http",
                "Content-Transfer-Encoding: binary",
                f"Content-ID: {index * 1000 + number}",
                "",
                f"{operation.method} {api_url}/{operation.path} HTTP/1.1",
                "Content-Type: application/json",
                *(f"{name}: {value}" for name, value in operation.headers.items()),
                "",
                json.dumps(operation.body) if operation.body is not None else "",
            ]
        lines.append(f"--{change_set_boundary}--")
    lines.append(f"--{boundary}--")
    return ("\r\n".join(lines) + "\r\n").encode()


def parse_multipart(content_type: str, content: bytes) -> list[BatchResult | list[BatchResult]]:
    """Parse a `$batch` answer: top-level parts are single results or change-set lists."""
    boundary = _boundary(content_type)
    results: list[BatchResult | list[BatchResult]] = []
    for part in _split(content, boundary):
        headers, body = _head_and_body(part)
        part_type = headers.get("content-type", "")
        if part_type.startswith("multipart/mixed"):
            inner = [_http_result(p) for p in _split(body, _boundary(part_type))]
            results.append(inner)
        else:
            results.append(_http_result(part))
    return results


def _boundary(content_type: str) -> str:
    for item in content_type.split(";"):
        name, _, value = item.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip('"')
    raise DataverseUnavailable(f"a $batch answer without a boundary: {content_type!r}")


def _split(content: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    parts = []
    for chunk in content.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        parts.append(chunk.strip(b"\r\n"))
    return parts


def _head_and_body(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    headers = {}
    for line in head.decode().splitlines():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, body


def _http_result(part: bytes) -> BatchResult:
    _envelope, http = _head_and_body(part)
    status_line, _, rest = http.partition(b"\n")
    headers, body = _head_and_body(rest)
    status = int(status_line.split()[1])
    text = body.strip()
    return BatchResult(status, headers, json.loads(text) if text.startswith(b"{") else None)


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error", {})
        return str(error.get("code", "")), str(error.get("message", response.text[:300]))
    except ValueError:
        return "", response.text[:300]


def _seconds(value: str | None, *, default: float) -> float:
    try:
        return float(value) if value else default
    except ValueError:
        return default
