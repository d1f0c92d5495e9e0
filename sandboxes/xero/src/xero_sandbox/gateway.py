"""In front of the Accounting API, in Xero's order: injected faults, bearer token (401),
tenant connection (403), rate limits (429 with the limit headers), Idempotency-Key replay."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from .accounting.common import ApiContext
from .errors import bad_request, forbidden_tenant, unauthenticated
from .faults import XeroFault
from .formats import parse_guid
from .idempotency import MAX_KEY_LENGTH
from .state import SandboxState
from .tokens import caller_for

CallNext = Callable[[Request], Awaitable[Response]]


async def answer_fault(state: SandboxState, fault: XeroFault) -> Response:
    """The answer of an error, throttle or timeout fault, in Xero's shapes."""
    if fault.kind == "timeout":
        await fault.hold(state.settings.fault_timeout_seconds)
        return PlainTextResponse("Gateway Timeout", status_code=504)
    if fault.kind == "throttle":
        return Response(
            status_code=429,
            headers={"Retry-After": str(fault.retry_after), "X-Rate-Limit-Problem": fault.problem},
        )
    return JSONResponse(
        {
            "Title": "Service Unavailable" if fault.status == 503 else "Server Error",
            "Status": fault.status,
            "Detail": "Injected fault",
        },
        status_code=fault.status,
    )


async def accounting(
    state: SandboxState, request: Request, latency_seconds: float, call_next: CallNext
) -> Response:
    header = request.headers.get("authorization", "")
    caller = caller_for(state, header[7:].strip()) if header.lower().startswith("bearer ") else None
    if caller is None:
        return unauthenticated()
    tenant_id = parse_guid(request.headers.get("xero-tenant-id"))
    connected = {c.tenant_id for c in state.connections_of(caller.client_id, caller.user_id)}
    org = state.organisations.get(tenant_id or "")
    if tenant_id is None or org is None or tenant_id not in connected:
        return forbidden_tenant()
    decision = state.limiter.acquire(tenant_id, caller.client_id)
    if decision.problem is not None:
        return decision.refusal()
    try:
        # Latency is server time: it holds one of the organisation's concurrent slots.
        await asyncio.sleep(latency_seconds)
        request.state.api = ApiContext(state, org, caller, request)
        response = await _idempotent(state, request, tenant_id, call_next)
    finally:
        state.limiter.release(tenant_id)
    response.headers.update(decision.headers)
    return response


async def _idempotent(
    state: SandboxState, request: Request, tenant_id: str, call_next: CallNext
) -> Response:
    key = request.headers.get("idempotency-key")
    if key is None or request.method == "GET":
        return await call_next(request)
    if len(key) > MAX_KEY_LENGTH:
        return bad_request(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters")
    body = await request.body()
    fingerprint = hashlib.sha256(
        b"\n".join(
            [request.method.encode(), request.url.path.encode(), request.url.query.encode(), body]
        )
    ).hexdigest()
    stored = state.idempotency.get(tenant_id, key)
    if stored is not None:
        if stored.fingerprint != fingerprint:
            return bad_request("The Idempotency-Key has already been used for a different request")
        request.state.idempotent_replay = True
        return Response(stored.body, status_code=stored.status, media_type=stored.media_type)
    response = await call_next(request)
    content = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    media_type = response.headers.get("content-type")
    if response.status_code < 500:
        state.idempotency.put(
            tenant_id, key, fingerprint, response.status_code, content, media_type
        )
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(content, status_code=response.status_code, headers=headers)
