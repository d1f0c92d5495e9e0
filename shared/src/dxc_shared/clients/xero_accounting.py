"""Xero Accounting API client for the sync workers.

One client serves one connection's job: one tenant, one access token source. It keeps Xero's
per-tenant limits instead of tripping them: through the organisation's budget every service
shares (`budget`, dxc_shared.xero_budget), or alone (tools and tests): after an answer says no
minute calls remain it waits for the next minute. A 429 is waited out for its Retry-After when
that is short. Longer waits (the daily limit) raise `XeroRateLimited`, which is transient: the
bus retries the job later and no user ever sees a 429.

Batch writes always send `summarizeErrors=false`: one bad invoice then fails alone, with its
validation messages, instead of turning the whole batch into a 400 that hides the created ids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx
from pydantic import ValidationError

from dxc_shared.clients.vendor_metrics import (
    VENDOR_CALL_DURATION,
    VENDOR_CALLS,
    VENDOR_RATE_LIMIT_WAIT,
    VENDOR_THROTTLED,
)
from dxc_shared.credentials import AccessTokenSource, TokenRejected
from dxc_shared.xero.documents import (
    Account,
    Allocation,
    BrandingTheme,
    Contact,
    CreditNote,
    Currency,
    Invoice,
    Item,
    Organisation,
    TaxRate,
    XeroDocument,
    parse_xero_moment,
)
from dxc_shared.xero_budget.decisions import Observed

JSON = dict[str, Any]
DocumentT = TypeVar("DocumentT", bound=XeroDocument)
Sleep = Callable[[float], Awaitable[None]]

# Xero's `where` filters go in the query string; keep each under a safe URL length.
_WHERE_CHUNK = 40
# About 50 ids fit Xero's query-string limit (XeroAPI/Xero-OpenAPI#534: 52 invoice ids at most).
_IDS_CHUNK = 50
# Xero's largest page of invoices and contacts: `pageSize` up to 1000, 100 without it
# (https://developer.xero.com/documentation/api/accounting/invoices#optional-parameters-for-get-invoices;
# the `pageSize` parameter of GET /Invoices and /Contacts in XeroAPI/Xero-OpenAPI
# xero_accounting.yaml).
DEFAULT_PAGE = 100
LARGEST_PAGE = 1000
# Unit prices to four decimals (Xero rounds them to two otherwise), on writes and reads alike.
_UNITDP = {"unitdp": "4"}


class XeroError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Xero answered {status}: {message}")
        self.status = status
        self.message = message


class XeroUnavailable(Exception):
    """5xx, timeouts and network errors: nothing is known, try again later."""


class XeroUnauthorised(XeroError):
    """401/403: the token is not (or no longer) good for this tenant."""


class XeroRateLimited(Exception):
    """Xero's limit will not allow a call for longer than a job should wait."""

    def __init__(self, retry_after: float, problem: str) -> None:
        super().__init__(f"Xero {problem} rate limit reached; retry after {retry_after:.0f} s")
        self.retry_after = retry_after
        self.problem = problem


class CallBudget(Protocol):
    """The organisation's budget shared with the other services (dxc_shared.xero_budget)."""

    async def take(self) -> None: ...

    def observe(self, observed: Observed) -> None: ...

    async def release(self) -> None: ...


@dataclass
class RateLimitState:
    minute_remaining: int | None = None
    day_remaining: int | None = None
    app_minute_remaining: int | None = None
    resume_at: float = 0.0


@dataclass(frozen=True)
class ElementResult(Generic[DocumentT]):
    """One element of a batch write: what Xero made of it (the typed document it answered)."""

    element: DocumentT
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_xero_date(value: str | None) -> datetime | None:
    """Xero's JSON dates look like `/Date(1700000000000+0000)/`."""
    return parse_xero_moment(value)


def quote_where(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _chunks(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class XeroAccountingClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        tenant_id: str,
        access_token: AccessTokenSource,
        token_rejected: TokenRejected | None = None,
        max_wait_seconds: float = 65.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        budget: CallBudget | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._tenant_id = tenant_id
        self._access_token = access_token
        self._token_rejected = token_rejected
        self._max_wait = max_wait_seconds
        self._sleep = sleep
        self._clock = clock
        self._budget = budget
        self.limits = RateLimitState()
        self.calls = 0

    async def release(self) -> None:
        """Done calling (a run's end): what the organisation's budget granted and was not
        used goes back to it at once."""
        if self._budget is not None:
            await self._budget.release()

    # -- transport -------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        body: JSON | None = None,
        idempotency_key: str | None = None,
        if_modified_since: datetime | None = None,
        allow_not_found: bool = False,
    ) -> httpx.Response | None:
        headers = {"xero-tenant-id": self._tenant_id, "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key[:128]
        if if_modified_since:
            headers["If-Modified-Since"] = if_modified_since.strftime("%Y-%m-%dT%H:%M:%S")
        renewed = False
        while True:
            token = await self._access_token()
            if self._budget is None:
                await self._respect_limits()
            else:
                # The organisation's budget, shared with the other services, decides.
                await self._budget.take()
            headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method, f"{self._base_url}/{path}", params=params, json=body, headers=headers
                )
            except httpx.TransportError as error:
                VENDOR_CALLS.labels("xero", operation, "error").inc()
                raise XeroUnavailable(f"{operation}: {type(error).__name__}: {error}") from error
            finally:
                VENDOR_CALL_DURATION.labels("xero", operation).observe(
                    time.perf_counter() - started
                )
            self.calls += 1
            VENDOR_CALLS.labels("xero", operation, str(response.status_code)).inc()
            self._read_limits(response)
            if response.status_code == 429:
                VENDOR_THROTTLED.labels("xero").inc()
                await self._wait_out(response)
                continue
            if response.status_code >= 500:
                raise XeroUnavailable(f"{operation}: Xero answered {response.status_code}")
            if response.status_code in (401, 403):
                if self._token_rejected is not None and not renewed:
                    # Refused before it expired: revoked, or the app disconnected. Hand it back
                    # (a refresh tells which, and a lost grant reaches the portal) and try once
                    # more with whatever comes back.
                    renewed = True
                    await self._token_rejected(token)
                    continue
                raise XeroUnauthorised(response.status_code, _message(response))
            if response.status_code == 404 and allow_not_found:
                return None
            if response.status_code >= 400 and response.status_code != 400:
                raise XeroError(response.status_code, _message(response))
            return response

    def _read_limits(self, response: httpx.Response) -> None:
        def header(name: str) -> int | None:
            value = response.headers.get(name)
            return int(value) if value and value.lstrip("-").isdigit() else None

        limits = self.limits
        limits.minute_remaining = header("X-MinLimit-Remaining")
        limits.day_remaining = header("X-DayLimit-Remaining")
        limits.app_minute_remaining = header("X-AppMinLimit-Remaining")
        if self._budget is not None:
            throttled = response.status_code == 429
            self._budget.observe(
                Observed(
                    limits.minute_remaining,
                    limits.day_remaining,
                    limits.app_minute_remaining,
                    retry_after=_retry_after(response) if throttled else None,
                )
            )
        if limits.minute_remaining == 0 or limits.app_minute_remaining == 0:
            # The next call would be refused: let the minute window roll over first.
            limits.resume_at = max(limits.resume_at, self._clock() + 60.0)

    async def _respect_limits(self) -> None:
        if self.limits.day_remaining == 0:
            raise XeroRateLimited(3600.0, "day")
        wait = self.limits.resume_at - self._clock()
        if wait > 0:
            VENDOR_RATE_LIMIT_WAIT.labels("xero").inc(wait)
            await self._sleep(wait)

    async def _wait_out(self, response: httpx.Response) -> None:
        problem = response.headers.get("X-Rate-Limit-Problem", "minute").lower()
        retry_after = _retry_after(response)
        if problem == "day" or retry_after > self._max_wait:
            raise XeroRateLimited(retry_after, problem)
        self.limits.resume_at = self._clock() + retry_after

    async def _batch_write(
        self,
        method: str,
        document: type[DocumentT],
        elements: Sequence[JSON],
        idempotency_key: str,
        params: Mapping[str, str] | None = None,
    ) -> list[ElementResult[DocumentT]]:
        collection = f"{document.__name__}s"  # Invoices, Contacts, Items, CreditNotes
        response = await self._request(
            method,
            collection,
            operation=f"{method.lower()}_{collection.lower()}",
            params={"summarizeErrors": "false", **(params or {})},
            body={collection: list(elements)},
            idempotency_key=idempotency_key,
        )
        assert response is not None
        if response.status_code == 400:
            raise XeroError(400, _message(response))
        return [_element_result(document, item) for item in response.json().get(collection, [])]

    async def _get_all(
        self,
        collection: str,
        *,
        params: Mapping[str, str] | None = None,
        if_modified_since: datetime | None = None,
        paged: bool = True,
        page_size: int = DEFAULT_PAGE,
    ) -> list[JSON]:
        """Every element of a list endpoint, following Xero's 1-based pages of `page_size`."""
        results: list[JSON] = []
        page = 1
        paging = {"pageSize": str(page_size)} if page_size != DEFAULT_PAGE else {}
        while True:
            query = {**(params or {}), **({"page": str(page), **paging} if paged else {})}
            response = await self._request(
                "GET",
                collection,
                operation=f"get_{collection.lower()}",
                params=query,
                if_modified_since=if_modified_since,
            )
            assert response is not None
            if response.status_code == 400:
                raise XeroError(400, _message(response))
            items: list[JSON] = response.json().get(collection, [])
            results.extend(items)
            if not paged or len(items) < page_size:
                return results
            page += 1

    # -- invoices --------------------------------------------------------------------------

    async def create_invoices(
        self, invoices: Sequence[JSON], *, idempotency_key: str
    ) -> list[ElementResult[Invoice]]:
        return await self._batch_write("PUT", Invoice, invoices, idempotency_key, _UNITDP)

    async def update_invoices(
        self, invoices: Sequence[JSON], *, idempotency_key: str
    ) -> list[ElementResult[Invoice]]:
        return await self._batch_write("POST", Invoice, invoices, idempotency_key, _UNITDP)

    async def invoices(
        self,
        *,
        ids: Sequence[str] = (),
        numbers: Sequence[str] = (),
        where: str | None = None,
        modified_since: datetime | None = None,
    ) -> list[Invoice]:
        return [
            Invoice.from_xero(element)
            for element in await self._invoices(ids, numbers, where, modified_since)
        ]

    async def _invoices(
        self,
        ids: Sequence[str],
        numbers: Sequence[str],
        where: str | None,
        modified_since: datetime | None,
    ) -> list[JSON]:
        if ids or numbers:
            name, values = ("IDs", ids) if ids else ("InvoiceNumbers", numbers)
            return [
                invoice
                for chunk in _chunks(list(values), _IDS_CHUNK)
                for invoice in await self._get_all(
                    "Invoices", params={name: ",".join(chunk), **_UNITDP}
                )
            ]
        params = {"where": where, **_UNITDP} if where else dict(_UNITDP)
        return await self._get_all(
            "Invoices", params=params, if_modified_since=modified_since, page_size=LARGEST_PAGE
        )

    async def invoices_with_references(self, references: Sequence[str]) -> list[Invoice]:
        """Invoices whose Reference is one of `references` (an `==` filter, which Xero
        optimises), a chunk of references per request."""
        found: list[Invoice] = []
        for chunk in _chunks(sorted(set(references)), _WHERE_CHUNK):
            where = " OR ".join(f"Reference=={quote_where(reference)}" for reference in chunk)
            invoices = await self._get_all("Invoices", params={"where": where, **_UNITDP})
            found.extend(Invoice.from_xero(invoice) for invoice in invoices)
        return found

    # -- contacts and items ----------------------------------------------------------------

    async def contacts_matching(
        self,
        *,
        numbers: Sequence[str] = (),
        names: Sequence[str] = (),
        account_numbers: Sequence[str] = (),
    ) -> list[Contact]:
        """Contacts whose ContactNumber is one of `numbers`, whose Name is one of `names` or
        whose AccountNumber is one of `account_numbers`, in as few requests as the query-string
        length allows."""
        clauses = [f"ContactNumber=={quote_where(number)}" for number in sorted(set(numbers))]
        clauses += [f"Name=={quote_where(name)}" for name in sorted(set(names))]
        clauses += [
            f"AccountNumber=={quote_where(number)}" for number in sorted(set(account_numbers))
        ]
        found: dict[str, Contact] = {}
        for chunk in _chunks(clauses, _WHERE_CHUNK):
            for element in await self._get_all("Contacts", params={"where": " OR ".join(chunk)}):
                contact = Contact.from_xero(element)
                found[str(contact.contact_id)] = contact
        return list(found.values())

    async def contacts(self, ids: Sequence[str]) -> list[Contact]:
        return [
            Contact.from_xero(contact)
            for chunk in _chunks(sorted(set(ids)), _IDS_CHUNK)
            for contact in await self._get_all("Contacts", params={"IDs": ",".join(chunk)})
        ]

    async def create_contacts(
        self, contacts: Sequence[JSON], *, idempotency_key: str
    ) -> list[ElementResult[Contact]]:
        return await self._batch_write("PUT", Contact, contacts, idempotency_key)

    async def items_with_codes(self, codes: Sequence[str]) -> list[Item]:
        found: list[Item] = []
        for chunk in _chunks(sorted(set(codes)), _WHERE_CHUNK):
            where = " OR ".join(f"Code=={quote_where(code)}" for code in chunk)
            items = await self._get_all("Items", params={"where": where}, paged=False)
            found.extend(Item.from_xero(item) for item in items)
        return found

    async def create_items(
        self, items: Sequence[JSON], *, idempotency_key: str
    ) -> list[ElementResult[Item]]:
        return await self._batch_write("PUT", Item, items, idempotency_key)

    # -- credit notes ----------------------------------------------------------------------

    async def create_credit_notes(
        self, credit_notes: Sequence[JSON], *, idempotency_key: str
    ) -> list[ElementResult[CreditNote]]:
        return await self._batch_write("PUT", CreditNote, credit_notes, idempotency_key)

    async def credit_notes_with_references(self, references: Sequence[str]) -> list[CreditNote]:
        found: list[CreditNote] = []
        for chunk in _chunks(sorted(set(references)), _WHERE_CHUNK):
            where = " OR ".join(f"Reference=={quote_where(reference)}" for reference in chunk)
            notes = await self._get_all("CreditNotes", params={"where": where})
            found.extend(CreditNote.from_xero(note) for note in notes)
        return found

    async def allocate_credit_note(
        self,
        credit_note_id: str,
        *,
        invoice_id: str,
        amount: float,
        date: str,
        idempotency_key: str,
    ) -> Allocation:
        response = await self._request(
            "PUT",
            f"CreditNotes/{credit_note_id}/Allocations",
            operation="put_allocations",
            body={
                "Allocations": [
                    {"Invoice": {"InvoiceID": invoice_id}, "Amount": amount, "Date": date}
                ]
            },
            idempotency_key=idempotency_key,
        )
        assert response is not None
        if response.status_code == 400:
            raise XeroError(400, _message(response))
        allocations: list[JSON] = response.json().get("Allocations", [])
        return Allocation.from_xero(allocations[0] if allocations else {})

    # -- reference data --------------------------------------------------------------------

    async def tax_rates(self) -> list[TaxRate]:
        return [TaxRate.from_xero(r) for r in await self._get_all("TaxRates", paged=False)]

    async def accounts(self) -> list[Account]:
        return [Account.from_xero(a) for a in await self._get_all("Accounts", paged=False)]

    async def branding_themes(self) -> list[BrandingTheme]:
        themes = await self._get_all("BrandingThemes", paged=False)
        return [BrandingTheme.from_xero(theme) for theme in themes]

    async def currencies(self) -> list[Currency]:
        return [Currency.from_xero(c) for c in await self._get_all("Currencies", paged=False)]

    async def organisation(self) -> Organisation:
        # The one endpoint whose path ("Organisation") is not its answer's key ("Organisations").
        response = await self._request("GET", "Organisation", operation="get_organisation")
        assert response is not None
        if response.status_code == 400:
            raise XeroError(400, _message(response))
        organisations: list[JSON] = response.json().get("Organisations", [])
        if not organisations:
            raise XeroError(response.status_code, "Xero answered without an organisation")
        return Organisation.from_xero(organisations[0])


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "60"))
    except ValueError:
        return 60.0


def _element_result(document: type[DocumentT], element: JSON) -> ElementResult[DocumentT]:
    errors = [str(error.get("Message", error)) for error in element.get("ValidationErrors") or []]
    if element.get("HasErrors") and not errors:
        errors = ["Xero reported an error without a message"]
    try:
        return ElementResult(document.from_xero(element), errors)
    except ValidationError:
        if not errors:
            raise
        # A refused element echoes what was sent, which need not be a valid document: its
        # errors are what counts.
        return ElementResult(document(), errors)


def _message(response: httpx.Response) -> str:
    """The most useful words in a Xero error answer (JSON problem, ValidationException or the
    plain text Xero sends for a missing single resource)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        messages = [
            str(error.get("Message"))
            for element in body.get("Elements") or []
            for error in element.get("ValidationErrors") or []
        ]
        if messages:
            return "; ".join(messages)
        for key in ("Message", "Detail", "detail", "Title", "title"):
            if body.get(key):
                return str(body[key])
    return response.text[:500]
