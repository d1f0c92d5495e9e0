"""The authorize endpoint: a real sign-in and consent page (or the admin-configured
pre-approval), ending in a redirect carrying the code and state, as Xero's login.xero.com does.
Form actions are built from the request's base URL, so the pages work under a mount prefix."""

from __future__ import annotations

import html
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sandbox_kit.login import hidden_inputs, html_page, redirect_back

from .formats import new_id
from .models import AuthorizationCode, Connection, Grant, OAuthClient, User
from .scopes import KNOWN_SCOPES
from .state import LoginSession, SandboxState

router = APIRouter(tags=["identity"])

_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _state(request: Request) -> SandboxState:
    sandbox: SandboxState = request.app.state.sandbox
    return sandbox


_STYLE = (
    "body{font-family:sans-serif;max-width:28rem;margin:3rem auto;color:#1e3145}"
    "label{display:block;margin:.6rem 0}input[type=email],input[type=password]{width:100%}"
    ".error{color:#b00020}button{margin:.8rem .4rem 0 0}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return html_page(
        f"{title} | Xero sandbox",
        f"<h1>{html.escape(title)}</h1>{body}",
        style=_STYLE,
        status=status,
    )


def _login_page(request: Request, params: dict[str, str], error: str | None = None) -> Response:
    message = f'<p class="error">{html.escape(error)}</p>' if error else ""
    action = request.url_for("authorize_sign_in")
    return _page(
        "Log in to Xero",
        f"""{message}<form method="post" action="{html.escape(str(action))}">{hidden_inputs(params)}
<label>Email address <input type="email" name="email" autofocus required></label>
<label>Password <input type="password" name="password" required></label>
<button type="submit">Log in</button></form>""",
        status=200 if error is None else 401,
    )


def _consent_page(
    request: Request, state: SandboxState, session: LoginSession, client: OAuthClient
) -> Response:
    user = state.users[session.user_id]
    choices = "".join(
        f'<label><input type="checkbox" name="tenant_id" value="{org.tenant_id}" checked> '
        f"{html.escape(org.name)}</label>"
        for org in (state.organisations.get(t) for t in user.tenant_ids)
        if org is not None
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in session.params["scope"].split())
    action = request.url_for("authorize_consent")
    return _page(
        f"{client.name} wants access",
        f"""<p>Signed in as {html.escape(user.email)}.</p><p>Permissions:</p><ul>{scopes}</ul>
<form method="post" action="{html.escape(str(action))}">
<input type="hidden" name="session_id" value="{session.session_id}">
<p>Organisations:</p>{choices}
<button type="submit" name="decision" value="allow">Allow access</button>
<button type="submit" name="decision" value="deny">Cancel</button></form>""",
    )


def _check_request(state: SandboxState, params: dict[str, str]) -> Response | None:
    """Errors shown on Xero's own page (the redirect URI cannot be trusted) or redirected."""
    client = state.clients.get(params.get("client_id", ""))
    if client is None:
        return _page("Error", "<p>unauthorized_client: Invalid client_id</p>", 400)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return _page("Error", "<p>invalid_request: Invalid redirect_uri</p>", 400)
    error: str | None = None
    if params.get("response_type") != "code":
        error = "unsupported_response_type"
    elif not params.get("scope") or not set(params["scope"].split()) <= KNOWN_SCOPES:
        error = "invalid_scope"
    elif params.get("code_challenge") and params.get("code_challenge_method") != "S256":
        error = "invalid_request"
    elif client.client_secret is None and not params.get("code_challenge"):
        error = "invalid_request"  # public clients must use PKCE
    if error:
        return redirect_back(redirect_uri, {"error": error, "state": params.get("state", "")})
    return None


def _approve(
    state: SandboxState, user: User, tenant_ids: list[str], params: dict[str, str]
) -> Response:
    """Consent given: record the grant and its connections, redirect with a fresh code."""
    now = state.clock.now()
    client_id = params["client_id"]
    grant = Grant(new_id(), client_id, user.user_id, params["scope"].split(), new_id(), now)
    state.grants[grant.grant_id] = grant
    existing = {c.tenant_id: c for c in state.connections_of(client_id, user.user_id)}
    for tenant_id in tenant_ids:
        connection = existing.get(tenant_id)
        if connection is None:
            connection = Connection(
                new_id(), client_id, user.user_id, tenant_id, grant.auth_event_id, now, now
            )
            state.connections[connection.id] = connection
        else:
            connection.auth_event_id, connection.updated = grant.auth_event_id, now
    code = AuthorizationCode(
        code=secrets.token_urlsafe(32),
        grant_id=grant.grant_id,
        client_id=client_id,
        redirect_uri=params["redirect_uri"],
        code_challenge=params.get("code_challenge") or None,
        expires_at=now + timedelta(seconds=state.settings.auth_code_lifetime_seconds),
    )
    state.codes[code.code] = code
    return redirect_back(
        params["redirect_uri"],
        {"code": code.code, "scope": params["scope"], "state": params.get("state", "")},
    )


@router.get("/identity/connect/authorize", name="authorize")
async def authorize(request: Request) -> Response:
    state = _state(request)
    params = {k: request.query_params[k] for k in _PARAMS if k in request.query_params}
    failure = _check_request(state, params)
    if failure is not None:
        return failure
    auto = state.auto_approve
    user = state.user_by_email(auto.email) if auto else None
    if auto is not None and user is not None:
        wanted = auto.tenant_ids if auto.tenant_ids is not None else user.tenant_ids
        return _approve(state, user, [t for t in wanted if t in user.tenant_ids], params)
    return _login_page(request, params)


@router.post("/identity/connect/authorize", name="authorize_sign_in")
async def sign_in(request: Request) -> Response:
    state = _state(request)
    form = await request.form()
    params = {k: str(form[k]) for k in _PARAMS if k in form}
    failure = _check_request(state, params)
    if failure is not None:
        return failure
    user = state.user_by_email(str(form.get("email", "")))
    if user is None or not secrets.compare_digest(user.password, str(form.get("password", ""))):
        return _login_page(request, params, "Your email or password is incorrect")
    session = LoginSession(
        secrets.token_urlsafe(24),
        user.user_id,
        params,
        state.clock.now() + timedelta(seconds=state.settings.login_session_lifetime_seconds),
    )
    state.login_sessions[session.session_id] = session
    return _consent_page(request, state, session, state.clients[params["client_id"]])


@router.post("/identity/connect/consent", name="authorize_consent")
async def consent(
    request: Request,
    session_id: Annotated[str, Form()],
    decision: Annotated[str, Form()] = "allow",
    tenant_id: Annotated[list[str] | None, Form()] = None,
) -> Response:
    state = _state(request)
    session = state.login_sessions.pop(session_id, None)
    if session is None or session.expires_at <= state.clock.now():
        return _page("Error", "<p>Your session has expired; start again from your app.</p>", 400)
    params = session.params
    if decision != "allow":
        return redirect_back(
            params["redirect_uri"], {"error": "access_denied", "state": params.get("state", "")}
        )
    user = state.users[session.user_id]
    chosen = [t for t in tenant_id or [] if t in user.tenant_ids]
    return _approve(state, user, chosen, params)
