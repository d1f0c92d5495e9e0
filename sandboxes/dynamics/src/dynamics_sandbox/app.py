"""The FastAPI application: Entra ID, discovery, each organisation's Web API, and the admin API.

URL layout (``{base}`` is wherever the app is served or mounted):
  {base}/{tenant}/oauth2/v2.0/authorize|token     Entra ID v2.0
  {base}/api/discovery/v2.0/Instances             Global Discovery (scope {base}/user_impersonation)
  {base}/orgs/{uniquename}                        an organisation's URL
                                                  (scope {org}/user_impersonation or /.default)
  {base}/orgs/{uniquename}/api/data/v9.2/...      its Web API
  {base}/sandbox-admin/...                        sandbox administration
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sandbox_kit.clock import Clock, SystemClock

from . import admin, dataverse, login
from .errors import TOO_MANY_REQUESTS, UNEXPECTED
from .seed import bootstrap_demo
from .settings import DynamicsSandboxSettings
from .state import CallRecord, SandboxState

_ORG_IN_PATH = re.compile(r"^/orgs/([^/]+)/")


def create_app(
    settings: DynamicsSandboxSettings | None = None, *, clock: Clock | None = None
) -> FastAPI:
    settings = settings or DynamicsSandboxSettings()
    sandbox = SandboxState(settings, clock or SystemClock())
    if settings.demo_seed:
        bootstrap_demo(sandbox)
    app = FastAPI(
        title="Dynamics 365 sandbox",
        docs_url="/sandbox-admin/docs",
        openapi_url="/sandbox-admin/openapi.json",
    )
    app.state.sandbox = sandbox
    app.include_router(admin.router)
    app.include_router(dataverse.router)
    app.include_router(login.router)

    @app.middleware("http")
    async def faults_and_call_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        if path.startswith("/sandbox-admin"):
            return await call_next(request)
        started = time.perf_counter()
        match = _ORG_IN_PATH.match(path)
        org = match.group(1).lower() if match else None
        response = await _apply_faults(sandbox, request, path, org)
        if response is None:
            response = await call_next(request)
        sandbox.calls.append(
            CallRecord(
                time=sandbox.clock.now(),
                method=request.method,
                path=path,
                org=org,
                user=getattr(request.state, "user", None),
                status=response.status_code,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        )
        return response

    return app


async def _apply_faults(
    sandbox: SandboxState, request: Request, path: str, org: str | None
) -> Response | None:
    """Latency delays the request; the other kinds answer instead of the sandbox."""
    fired = sandbox.faults.take(request.method, path, org)
    fault = fired.answer
    if fault is None:
        if org is not None:
            # Web API latency is server execution time: spent inside the user's concurrency slot.
            request.state.latency = fired.latency_seconds
        else:
            await asyncio.sleep(fired.latency_seconds)
        return None
    if fault.kind == "timeout":
        await fault.hold(sandbox.settings.fault_timeout_seconds)
        return Response(status_code=504)
    if fault.kind == "throttle":
        body = {
            "error": {
                "code": TOO_MANY_REQUESTS,
                "message": "Number of requests exceeded the limit of 6000 over time window "
                "of 300 seconds.",
            }
        }
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(fault.retry_after)})
    body = {
        "error": {"code": UNEXPECTED, "message": "An unexpected error occurred (injected fault)."}
    }
    return JSONResponse(body, status_code=fault.status)
