"""The FastAPI application: Xero's identity server, the Accounting API, and the admin API.

URL layout (``{base}`` is wherever the app is served or mounted):
  {base}/identity/connect/authorize      sign-in and consent (login.xero.com)
  {base}/connect/token, /connect/revocation   token endpoints (identity.xero.com)
  {base}/connections                     authorised tenants (api.xero.com/connections)
  {base}/api.xro/2.0/...                 the Accounting API (api.xero.com/api.xro/2.0)
  {base}/in/{tenant}/{invoice}           online invoices
  {base}/sandbox-admin/...               sandbox administration (docs at /sandbox-admin/docs)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sandbox_kit.clock import Clock, SystemClock

from . import accounting, admin, gateway, identity, login, web
from .accounting.common import API_PREFIX
from .errors import XeroHTTPError
from .formats import parse_guid
from .seed import bootstrap_demo
from .settings import XeroSandboxSettings
from .state import CallRecord, SandboxState


def create_app(
    settings: XeroSandboxSettings | None = None, *, clock: Clock | None = None
) -> FastAPI:
    settings = settings or XeroSandboxSettings()
    sandbox = SandboxState(settings, clock or SystemClock())
    if settings.demo_seed:
        bootstrap_demo(sandbox)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        deliveries = asyncio.create_task(sandbox.webhooks.run(), name="xero-sandbox-webhooks")
        try:
            yield
        finally:
            deliveries.cancel()
            with suppress(asyncio.CancelledError):
                await deliveries

    app = FastAPI(
        title="Xero sandbox",
        docs_url="/sandbox-admin/docs",
        openapi_url="/sandbox-admin/openapi.json",
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    for module in (admin, identity, login, accounting, web):
        app.include_router(module.router)

    @app.exception_handler(XeroHTTPError)
    async def xero_error(request: Request, error: XeroHTTPError) -> Response:
        return error.response

    @app.middleware("http")
    async def front_door(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        if path.startswith("/sandbox-admin"):
            return await call_next(request)
        started = time.perf_counter()
        tenant_id = parse_guid(request.headers.get("xero-tenant-id"))
        fired = sandbox.faults.take(request.method, path, tenant_id)
        if fired.answer is not None:
            response = await gateway.answer_fault(sandbox, fired.answer)
        elif path.startswith(API_PREFIX + "/"):
            response = await gateway.accounting(sandbox, request, fired.latency_seconds, call_next)
        else:
            await asyncio.sleep(fired.latency_seconds)
            response = await call_next(request)
        sandbox.calls.append(
            CallRecord(
                time=sandbox.clock.now(),
                method=request.method,
                path=path,
                tenant_id=tenant_id,
                status=response.status_code,
                duration_ms=(time.perf_counter() - started) * 1000,
                idempotent_replay=getattr(request.state, "idempotent_replay", False),
                query=request.url.query,
                if_modified_since=request.headers.get("if-modified-since"),
            )
        )
        return response

    return app
