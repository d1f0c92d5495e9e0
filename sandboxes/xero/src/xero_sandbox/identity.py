"""Xero's identity endpoints: token (authorization_code with PKCE, refresh_token with
rotation), revocation, and the connections (authorised tenants) of a token."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sandbox_kit.login import client_credentials

from .errors import unauthenticated
from .formats import utc_string
from .models import OAuthClient
from .state import SandboxState
from .tokens import Caller, caller_for, issue_tokens, redeem_refresh_token

router = APIRouter(tags=["identity"])


def _state(request: Request) -> SandboxState:
    sandbox: SandboxState = request.app.state.sandbox
    return sandbox


def _error(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


def _issuer(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _authenticate_client(
    state: SandboxState, request: Request, form: dict[str, str]
) -> OAuthClient | None:
    client_id, secret = client_credentials(request, form)
    client = state.clients.get(client_id or "")
    if client is None:
        return None
    if client.client_secret is None:
        return client  # public client: PKCE stands in for the secret
    if secret is None or not secrets.compare_digest(secret, client.client_secret):
        return None
    return client


def _pkce_ok(challenge: str | None, verifier: str | None) -> bool:
    if challenge is None:
        return True
    if not verifier:
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    return secrets.compare_digest(base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), challenge)


@router.post("/connect/token")
async def token(request: Request) -> Response:
    state = _state(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client = _authenticate_client(state, request, form)
    if client is None:
        return _error("invalid_client")
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        code = state.codes.get(form.get("code", ""))
        if (
            code is None
            or code.used
            or code.expires_at <= state.clock.now()
            or code.client_id != client.client_id
            or code.redirect_uri != form.get("redirect_uri")
            or not _pkce_ok(code.code_challenge, form.get("code_verifier"))
        ):
            return _error("invalid_grant")
        if client.client_secret is None and code.code_challenge is None:
            return _error("invalid_grant")
        code.used = True
        grant = state.grants[code.grant_id]
        if grant.revoked:
            return _error("invalid_grant")
        return JSONResponse(issue_tokens(state, grant, _issuer(request)))
    if grant_type == "refresh_token":
        _revoke_grant_fault(state, request, form.get("refresh_token", ""))
        refreshed = redeem_refresh_token(state, form.get("refresh_token", ""), client.client_id)
        if refreshed is None:
            return _error("invalid_grant")
        return JSONResponse(issue_tokens(state, refreshed, _issuer(request)))
    return _error("unsupported_grant_type")


def _revoke_grant_fault(state: SandboxState, request: Request, refresh_token: str) -> None:
    """A "revoke_grant" fault: the user revoked the app just before this refresh."""
    record = state.refresh_tokens.get(refresh_token)
    grant = state.grants.get(record.grant_id) if record else None
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    if grant is not None and state.faults.take("POST", path, None, {"revoke_grant"}).faults:
        state.revoke_grants(grant.client_id, grant.user_id)


@router.post("/connect/revocation")
async def revocation(request: Request) -> Response:
    """Revoking a refresh token ends the user's grants to the app and removes its connections."""
    state = _state(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client = _authenticate_client(state, request, form)
    if client is None:
        return _error("invalid_client")
    record = state.refresh_tokens.get(form.get("token", ""))
    grant = state.grants.get(record.grant_id) if record else None
    if grant is not None and grant.client_id == client.client_id:
        state.revoke_grants(grant.client_id, grant.user_id)
    # RFC 7009: an unknown token is not an error.
    return Response(status_code=200)


def _caller(request: Request) -> Caller | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return caller_for(_state(request), header[7:].strip())


@router.get("/connections")
@router.get("/Connections", include_in_schema=False)
async def connections(request: Request, authEventId: str | None = None) -> Response:
    state = _state(request)
    caller = _caller(request)
    if caller is None:
        return unauthenticated()
    decision = state.limiter.acquire_app(caller.client_id)
    if decision.problem is not None:
        return decision.refusal()
    body: list[dict[str, Any]] = []
    for connection in state.connections_of(caller.client_id, caller.user_id):
        if authEventId and connection.auth_event_id != authEventId:
            continue
        org = state.organisations.get(connection.tenant_id)
        body.append(
            {
                "id": connection.id,
                "authEventId": connection.auth_event_id,
                "tenantId": connection.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": org.name if org else None,
                "createdDateUtc": utc_string(connection.created) + ".0000000",
                "updatedDateUtc": utc_string(connection.updated) + ".0000000",
            }
        )
    return JSONResponse(body, headers=decision.headers)


@router.delete("/connections/{connection_id}")
@router.delete("/Connections/{connection_id}", include_in_schema=False)
async def disconnect(request: Request, connection_id: str) -> Response:
    state = _state(request)
    caller = _caller(request)
    if caller is None:
        return unauthenticated()
    connection = state.connections.get(connection_id)
    if (
        connection is None
        or connection.client_id != caller.client_id
        or connection.user_id != caller.user_id
    ):
        return Response(status_code=404)
    del state.connections[connection_id]
    return Response(status_code=204)
