"""The sandbox administration API (``/sandbox-admin``, JSON, no auth): organisations, users,
OAuth clients, pre-approval, seeding data through the same rules as the API, faults, webhooks,
rate limits, the call log, and reset."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sandbox_kit.clock import ManualClock
from sandbox_kit.faults import fault_routes

from .accounting.common import ApiContext, Json, read_elements, run_batch
from .accounting.contacts import contact_json, save_contact
from .accounting.credit_notes import allocate, credit_note_json, find_credit_note, save_credit_note
from .accounting.invoices import invoice_json, save_invoice
from .accounting.items import item_json, save_item
from .accounting.payments import payment_json, save_payment
from .faults import XeroFault
from .models import Organisation
from .seed import add_client, add_user, bootstrap_demo, new_organisation
from .state import AutoApprove, SandboxState
from .terms import parse_terms, terms_document

router = APIRouter(prefix="/sandbox-admin", tags=["sandbox admin"])


def _state(request: Request) -> SandboxState:
    sandbox: SandboxState = request.app.state.sandbox
    return sandbox


def _org(request: Request, tenant_id: str) -> Organisation:
    org = _state(request).organisations.get(tenant_id.lower())
    if org is None:
        raise HTTPException(404, f"No organisation {tenant_id}")
    return org


class OrganisationIn(BaseModel):
    name: str
    tenant_id: str | None = None
    base_currency: str = "NZD"
    currencies: list[str] = Field(default_factory=list)
    country_code: str = "NZ"
    # Xero's shape: {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}, "Bills": {...}}.
    payment_terms: dict[str, Any] | None = None


class UserIn(BaseModel):
    email: str
    password: str = "password"
    tenant_ids: list[str] = Field(default_factory=list)
    first_name: str = "Sandbox"
    last_name: str = "User"


class ClientIn(BaseModel):
    client_id: str | None = None
    client_secret: str | None = None
    public: bool = False  # PKCE-only client without a secret
    redirect_uris: list[str]
    name: str = "Sandbox app"


class AutoApproveIn(BaseModel):
    email: str
    tenant_ids: list[str] | None = None


class WebhookIn(BaseModel):
    url: str | None = None
    key: str | None = None


class LimitsIn(BaseModel):
    rate_limits_enabled: bool | None = None
    minute_limit: int | None = None
    day_limit: int | None = None
    concurrent_limit: int | None = None
    app_minute_limit: int | None = None


def _org_json(org: Organisation) -> Json:
    return {
        "tenant_id": org.tenant_id,
        "name": org.name,
        "base_currency": org.base_currency,
        "currencies": org.currencies,
        "country_code": org.country_code,
        "short_code": org.short_code,
        "counts": {
            "contacts": len(org.contacts),
            "items": len(org.items),
            "invoices": len(org.invoices),
            "credit_notes": len(org.credit_notes),
            "payments": len(org.payments),
        },
    }


@router.post("/reset")
async def reset(request: Request, demo: bool = False) -> Json:
    state = _state(request)
    state.reset()
    if demo:
        bootstrap_demo(state)
    return {"reset": True, "demo": demo}


@router.post("/demo", status_code=201)
async def seed_demo(request: Request) -> Json:
    bootstrap_demo(_state(request))
    return {"tenant_id": _state(request).settings.demo_tenant_id}


@router.post("/organisations", status_code=201)
async def create_organisation(request: Request, body: OrganisationIn) -> Json:
    errors: list[str] = []
    terms = parse_terms(body.payment_terms, errors)
    if errors:
        raise HTTPException(422, errors)
    org = new_organisation(_state(request), **body.model_dump(exclude={"payment_terms"}))
    org.payment_terms = terms
    return _org_json(org)


@router.put("/organisations/{tenant_id}/payment-terms")
async def set_payment_terms(request: Request, tenant_id: str, body: dict[str, Any]) -> Json:
    """The organisation's default due dates (Invoice settings in Xero)."""
    errors: list[str] = []
    terms = parse_terms(body, errors)
    if errors:
        raise HTTPException(422, errors)
    org = _org(request, tenant_id)
    org.payment_terms = terms
    document = terms_document(terms)
    return document.to_xero() if document else {}


@router.get("/organisations")
async def list_organisations(request: Request) -> list[Json]:
    return [_org_json(o) for o in _state(request).organisations.values()]


@router.post("/users", status_code=201)
async def create_user(request: Request, body: UserIn) -> Json:
    state = _state(request)
    unknown = [t for t in body.tenant_ids if t.lower() not in state.organisations]
    if unknown:
        raise HTTPException(422, f"Unknown organisations: {unknown}")
    user = add_user(
        state, **body.model_dump() | {"tenant_ids": [t.lower() for t in body.tenant_ids]}
    )
    return {"user_id": user.user_id, "email": user.email, "tenant_ids": user.tenant_ids}


@router.get("/users")
async def list_users(request: Request) -> list[Json]:
    return [
        {"user_id": u.user_id, "email": u.email, "tenant_ids": u.tenant_ids}
        for u in _state(request).users.values()
    ]


@router.post("/clients", status_code=201)
async def create_client(request: Request, body: ClientIn) -> Json:
    secret = None if body.public else (body.client_secret or secrets.token_urlsafe(24))
    client = add_client(
        _state(request),
        client_id=body.client_id,
        client_secret=secret,
        redirect_uris=body.redirect_uris,
        name=body.name,
    )
    return {
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "redirect_uris": client.redirect_uris,
        "name": client.name,
    }


@router.get("/clients")
async def list_clients(request: Request) -> list[Json]:
    return [
        {
            "client_id": c.client_id,
            "redirect_uris": c.redirect_uris,
            "name": c.name,
            "public": c.client_secret is None,
        }
        for c in _state(request).clients.values()
    ]


@router.put("/auto-approve")
async def set_auto_approve(request: Request, body: AutoApproveIn) -> Json:
    state = _state(request)
    if state.user_by_email(body.email) is None:
        raise HTTPException(422, f"Unknown user {body.email}")
    state.auto_approve = AutoApprove(body.email, body.tenant_ids)
    return body.model_dump()


@router.delete("/auto-approve", status_code=204)
async def clear_auto_approve(request: Request) -> Response:
    _state(request).auto_approve = None
    return Response(status_code=204)


# --- seeding data, through the API's own rules ---------------------------------------------


def _seed(
    request: Request,
    tenant_id: str,
    plural: str,
    handle: Callable[[ApiContext, Json], Any],
    render: Callable[[ApiContext, Any], Json],
) -> Callable[[list[Json]], Response]:
    context = ApiContext(_state(request), _org(request, tenant_id), None, request)
    return lambda elements: run_batch(
        context, plural, elements, lambda raw: handle(context, raw), lambda x: render(context, x)
    )


@router.post("/organisations/{tenant_id}/contacts")
async def seed_contacts(request: Request, tenant_id: str) -> Response:
    run = _seed(
        request,
        tenant_id,
        "Contacts",
        lambda c, raw: save_contact(c, raw, allow_update=True),
        contact_json,
    )
    return run(await read_elements(request, "Contacts"))


@router.post("/organisations/{tenant_id}/items")
async def seed_items(request: Request, tenant_id: str) -> Response:
    run = _seed(
        request,
        tenant_id,
        "Items",
        lambda c, raw: save_item(c, raw, allow_update=True),
        lambda c, i: item_json(i),
    )
    return run(await read_elements(request, "Items"))


@router.post("/organisations/{tenant_id}/invoices")
async def seed_invoices(request: Request, tenant_id: str) -> Response:
    run = _seed(
        request,
        tenant_id,
        "Invoices",
        lambda c, raw: save_invoice(c, raw, allow_update=True),
        invoice_json,
    )
    return run(await read_elements(request, "Invoices"))


@router.post("/organisations/{tenant_id}/credit-notes")
async def seed_credit_notes(request: Request, tenant_id: str) -> Response:
    run = _seed(
        request,
        tenant_id,
        "CreditNotes",
        lambda c, raw: save_credit_note(c, raw, allow_update=True),
        credit_note_json,
    )
    return run(await read_elements(request, "CreditNotes"))


@router.post("/organisations/{tenant_id}/credit-notes/{key}/allocations")
async def seed_allocations(request: Request, tenant_id: str, key: str) -> Response:
    credit_note = find_credit_note(_org(request, tenant_id), key)
    if credit_note is None:
        raise HTTPException(404, f"No credit note {key}")
    run = _seed(
        request,
        tenant_id,
        "Allocations",
        lambda c, raw: allocate(c, credit_note, raw),
        lambda c, a: {"AllocationID": a.allocation_id},
    )
    return run(await read_elements(request, "Allocations"))


@router.post("/organisations/{tenant_id}/payments")
async def make_payments(request: Request, tenant_id: str) -> Response:
    """A payment recorded in Xero by its user (not through the app)."""
    run = _seed(request, tenant_id, "Payments", save_payment, payment_json)
    return run(await read_elements(request, "Payments"))


@router.post("/organisations/{tenant_id}/revoke-grants")
async def revoke_grants(request: Request, tenant_id: str) -> Json:
    """The user disconnected the app in Xero: every grant reaching this organisation dies."""
    return {
        "revoked_grants": _state(request).revoke_tenant_grants(_org(request, tenant_id).tenant_id)
    }


# --- faults, limits, webhooks, clock, call log ----------------------------------------------


@router.post("/faults", status_code=201)
async def add_fault(request: Request, body: XeroFault) -> Json:
    return _state(request).faults.add(body).model_dump()


router.include_router(fault_routes(lambda request: _state(request).faults))


@router.get("/rate-limits")
async def get_limits(request: Request) -> Json:
    s = _state(request).settings
    return LimitsIn(**s.model_dump(include=set(LimitsIn.model_fields))).model_dump()


@router.put("/rate-limits")
async def set_limits(request: Request, body: LimitsIn) -> Json:
    state = _state(request)
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(state.settings, name, value)
    state.limiter.reset()
    return await get_limits(request)


@router.get("/webhooks")
async def get_webhooks(request: Request) -> Json:
    hooks = _state(request).webhooks
    return {"url": hooks.url, "key": hooks.key, "pending": hooks.pending}


@router.put("/webhooks")
async def set_webhooks(request: Request, body: WebhookIn) -> Json:
    hooks = _state(request).webhooks
    hooks.url = body.url
    if body.key:
        hooks.key = body.key
    return await get_webhooks(request)


@router.get("/webhooks/deliveries")
async def webhook_deliveries(request: Request) -> list[Json]:
    return _state(request).webhooks.attempts_json()


@router.post("/webhooks/intent-to-receive")
async def intent_to_receive(request: Request) -> Json:
    return await _state(request).webhooks.intent_to_receive()


@router.post("/clock/advance")
async def advance_clock(request: Request, seconds: float) -> Json:
    clock = _state(request).clock
    if not isinstance(clock, ManualClock):
        raise HTTPException(409, "The sandbox runs on the system clock")
    clock.advance(seconds)
    return {"now": clock.now().isoformat()}


@router.get("/calls")
async def calls(
    request: Request, tenant_id: str | None = None, path_contains: str | None = None
) -> list[Json]:
    return [
        c.as_json()
        for c in _state(request).calls
        if (tenant_id is None or c.tenant_id == tenant_id.lower())
        and (path_contains is None or path_contains in c.path)
    ]


@router.delete("/calls", status_code=204)
async def clear_calls(request: Request) -> Response:
    _state(request).calls.clear()
    return Response(status_code=204)
