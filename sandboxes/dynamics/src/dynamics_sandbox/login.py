"""Entra ID v2.0 endpoints: the sign-in and consent pages, the token endpoint, the OpenID
configuration document and the signing keys it points to.

The discovery document and keys follow "OpenID Connect on the Microsoft identity platform"
(https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc); the authorize and
token endpoints follow the authorization code flow page
(https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sandbox_kit.login import client_credentials, hidden_inputs, html_page, redirect_back

from .dataverse import base_url
from .identity import AppRegistration, OAuthError, TokenContext, User, issuer
from .state import SandboxState

router = APIRouter()
_AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "response_type",
    "response_mode",
    "nonce",
)
# How the code goes back to the app (auth code flow page, `response_mode`); query by default.
_RESPONSE_MODES = ("query", "fragment", "form_post")
# Entra's multi-tenant authority names; a personal-account ("consumers") sign-in is not emulated.
_MULTI_TENANT = ("common", "organizations")


def _state(request: Request) -> SandboxState:
    sandbox: SandboxState = request.app.state.sandbox
    return sandbox


def _check_tenant(sandbox: SandboxState, tenant: str) -> None:
    """AADSTS90002 for a tenant the directory does not hold (reference-error-codes page)."""
    identity = sandbox.identity
    known = {u.tenant_id for u in identity.users.values()} | {
        a.tenant_id for a in identity.apps.values()
    }
    if tenant not in _MULTI_TENANT and tenant not in known:
        raise OAuthError(
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
        )


def _tenant_error(sandbox: SandboxState, error: OAuthError) -> JSONResponse:
    return JSONResponse(error.body(sandbox.clock.now()), status_code=error.status)


@router.get("/{tenant}/v2.0/.well-known/openid-configuration")
async def openid_configuration(tenant: str, request: Request) -> Response:
    sandbox = _state(request)
    try:
        _check_tenant(sandbox, tenant)
    except OAuthError as error:
        return _tenant_error(sandbox, error)
    root = base_url(request)
    # A multi-tenant authority's document names the issuer with Entra's literal placeholder;
    # each token's iss carries the user's own tenant.
    return JSONResponse(
        {
            "issuer": issuer(root, "{tenantid}" if tenant in _MULTI_TENANT else tenant),
            "authorization_endpoint": f"{root}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/{tenant}/oauth2/v2.0/token",
            "jwks_uri": f"{root}/{tenant}/discovery/v2.0/keys",
            "response_types_supported": ["code"],
            "response_modes_supported": list(_RESPONSE_MODES),
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nbf",
                "name",
                "nonce",
                "oid",
                "preferred_username",
                "tid",
                "ver",
            ],
            "request_uri_parameter_supported": False,
        }
    )


@router.get("/{tenant}/discovery/v2.0/keys")
async def signing_keys(tenant: str, request: Request) -> Response:
    sandbox = _state(request)
    try:
        _check_tenant(sandbox, tenant)
    except OAuthError as error:
        return _tenant_error(sandbox, error)
    return JSONResponse(sandbox.signing_key.jwks())


# --- authorize --------------------------------------------------------------------------------


_STYLE = (
    "body{font-family:Segoe UI,sans-serif;max-width:440px;margin:60px auto}"
    "input{display:block;width:100%;margin:8px 0;padding:6px}"
)


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    body = f"<p><b>Microsoft</b> (Dynamics 365 sandbox)</p>{content}"
    return html_page(title, body, style=_STYLE, status=status)


def _error_page(error: OAuthError) -> HTMLResponse:
    body = (
        "<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>"
        f"<p>AADSTS{error.code}: {html.escape(error.message)}</p>"
    )
    return _page("Sign in", body, 400)


def _login_form(
    action: str, params: dict[str, str], app: AppRegistration, message: str = ""
) -> HTMLResponse:
    error = f"<p style='color:#a80000'>{html.escape(message)}</p>" if message else ""
    content = (
        f"<h2>Sign in</h2><p>to continue to {html.escape(app.display_name)}</p>{error}"
        f"<form method='post' action='{html.escape(action)}'>{hidden_inputs(params)}"
        "<input name='username' type='email' placeholder='Email' required "
        f"value='{html.escape(params.get('login_hint', ''), quote=True)}'>"
        "<input name='password' type='password' placeholder='Password' required>"
        "<button name='step' value='login' type='submit'>Sign in</button></form>"
    )
    return _page("Sign in to your account", content, 200 if not message else 400)


def _consent_form(
    action: str, params: dict[str, str], app: AppRegistration, user: User, ticket: str
) -> HTMLResponse:
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
    content = (
        f"<h2>Permissions requested</h2><p>{html.escape(user.upn)}</p>"
        f"<p><b>{html.escape(app.display_name)}</b> "
        f"would like to:</p><ul>{scopes}</ul>"
        f"<form method='post' action='{html.escape(action)}'>"
        f"{hidden_inputs({**params, 'ticket': ticket})}"
        "<button name='step' value='consent' type='submit'>Accept</button> "
        "<button name='step' value='decline' type='submit'>Cancel</button></form>"
    )
    return _page("Permissions requested", content)


def _finish(
    sandbox: SandboxState,
    request: Request,
    app: AppRegistration,
    user: User,
    params: dict[str, str],
) -> Response:
    try:
        scope = sandbox.identity.parse_scope(params.get("scope"), base_url(request))
    except OAuthError as error:
        return _respond(params, _error_params(error, params))
    code = sandbox.identity.issue_code(
        app,
        user,
        params["redirect_uri"],
        scope,
        params.get("code_challenge") or None,
        params.get("code_challenge_method") or "plain",
        params.get("nonce") or None,
    )
    result = {"code": code, "session_state": str(user.object_id)}
    if params.get("state"):
        result["state"] = params["state"]
    return _respond(params, result)


def _respond(params: dict[str, str], result: dict[str, str]) -> Response:
    """The authorization response in the mode the app asked for: the redirect URI's query or
    fragment, or a form the browser posts to it (form_post)."""
    redirect_uri = params["redirect_uri"]
    mode = params.get("response_mode") or "query"
    if mode == "fragment":
        fragment = urlencode({k: v for k, v in result.items() if v})
        return RedirectResponse(f"{redirect_uri}#{fragment}", status_code=302)
    if mode == "form_post":
        body = (
            f"<form method='post' action='{html.escape(redirect_uri, quote=True)}'>"
            f"{hidden_inputs({k: v for k, v in result.items() if v})}"
            "<noscript><button type='submit'>Continue</button></noscript></form>"
            "<script>document.forms[0].submit()</script>"
        )
        return html_page("Working...", body, style="")
    return redirect_back(redirect_uri, result)


def _unknown_response_mode(params: dict[str, str]) -> HTMLResponse | None:
    mode = params.get("response_mode")
    if mode is None or mode in _RESPONSE_MODES:
        return None
    # Entra documents no AADSTS code for this; the page says what is wrong without one.
    body = (
        "<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>"
        f"<p>The response_mode '{html.escape(mode)}' is not supported: use one of "
        f"{', '.join(_RESPONSE_MODES)}.</p>"
    )
    return _page("Sign in", body, 400)


def _error_params(error: OAuthError, params: dict[str, str]) -> dict[str, str]:
    out = {"error": error.error, "error_description": f"AADSTS{error.code}: {error.message}"}
    if params.get("state"):
        out["state"] = params["state"]
    return out


def _validated(sandbox: SandboxState, tenant: str, params: dict[str, str]) -> AppRegistration:
    _check_tenant(sandbox, tenant)
    app = sandbox.identity.app(params.get("client_id"))
    sandbox.identity.check_redirect(app, params.get("redirect_uri"))
    return app


@router.get("/{tenant}/oauth2/v2.0/authorize")
async def authorize(tenant: str, request: Request) -> Response:
    sandbox = _state(request)
    params = {
        k: v for k, v in request.query_params.items() if k in (*_AUTHORIZE_PARAMS, "login_hint")
    }
    try:
        app = _validated(sandbox, tenant, params)
    except OAuthError as error:
        return _error_page(error)
    unknown_mode = _unknown_response_mode(params)
    if unknown_mode is not None:
        return unknown_mode
    if params.get("response_type") != "code":
        problem = OAuthError(
            "unsupported_response_type", 900144, "The response_type must be 'code'."
        )
        return _respond(params, _error_params(problem, params))
    user = sandbox.identity.user(params.get("login_hint", ""))
    if user is not None and user.auto_approve:
        return _finish(sandbox, request, app, user, params)  # the documented pre-approved shortcut
    return _login_form(
        str(request.url.remove_query_params(list(request.query_params))), params, app
    )


@router.post("/{tenant}/oauth2/v2.0/authorize")
async def authorize_submit(tenant: str, request: Request) -> Response:
    sandbox = _state(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    params = {k: form[k] for k in (*_AUTHORIZE_PARAMS, "login_hint") if k in form}
    try:
        app = _validated(sandbox, tenant, params)
    except OAuthError as error:
        return _error_page(error)
    unknown_mode = _unknown_response_mode(params)
    if unknown_mode is not None:
        return unknown_mode
    action = str(request.url)
    key = sandbox.settings.token_signing_key
    step = form.get("step")
    if step == "login":
        user = sandbox.identity.user(form.get("username", ""))
        if user is None or user.password != form.get("password"):
            return _login_form(
                action,
                params,
                app,
                "AADSTS50126: Error validating credentials due to invalid username or password.",
            )
        if sandbox.identity.has_consent(user, app):
            return _finish(sandbox, request, app, user, params)
        now = int(sandbox.clock.now().timestamp())
        ticket = jwt.encode(
            {"upn": user.upn, "cid": app.client_id, "exp": now + 600}, key, algorithm="HS256"
        )
        return _consent_form(action, params, app, user, ticket)
    try:
        claims = jwt.decode(
            form.get("ticket", ""), key, algorithms=["HS256"], options={"verify_exp": False}
        )
    except jwt.PyJWTError:
        return _error_page(
            OAuthError("invalid_request", 90014, "The sign-in session is missing or invalid.")
        )
    user = sandbox.identity.user(str(claims.get("upn")))
    if (
        user is None
        or claims.get("cid") != app.client_id
        or claims.get("exp", 0) < sandbox.clock.now().timestamp()
    ):
        return _error_page(OAuthError("invalid_request", 90014, "The sign-in session has expired."))
    if step != "consent":
        declined = OAuthError("access_denied", 65004, "User declined to consent to access the app.")
        return _respond(params, _error_params(declined, params))
    sandbox.identity.consents.add((user.object_id, app.client_id))
    return _finish(sandbox, request, app, user, params)


# --- token ------------------------------------------------------------------------------------


@router.post("/{tenant}/oauth2/v2.0/token")
async def token(tenant: str, request: Request) -> Response:
    sandbox = _state(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    try:
        _check_tenant(sandbox, tenant)
        body = _grant(sandbox, request, form)
    except OAuthError as error:
        return JSONResponse(
            error.body(sandbox.clock.now()), status_code=error.status, headers=headers
        )
    return JSONResponse(body, headers=headers)


def _grant(sandbox: SandboxState, request: Request, form: dict[str, str]) -> dict[str, Any]:
    identity = sandbox.identity
    root_path = request.scope.get("root_path", "")
    root = base_url(request)
    context = TokenContext(root=root, client_info=form.get("client_info") == "1")
    grant_type = form.get("grant_type")
    client_id, secret = client_credentials(request, form)
    app = identity.app(client_id)
    if grant_type == "authorization_code":
        identity.authenticate_client(app, secret, required=False)
        return identity.redeem_code(
            app,
            form.get("code", ""),
            form.get("redirect_uri"),
            form.get("code_verifier"),
            context,
        )
    if grant_type == "refresh_token":
        identity.authenticate_client(app, secret, required=False)
        refresh_token = form.get("refresh_token", "")
        grant = identity.refresh_grant(refresh_token)
        path = request.url.path.removeprefix(root_path)
        if grant is not None and sandbox.faults.take("POST", path, None, {"revoke_grant"}).faults:
            identity.revoke_sessions(grant.user)
        scope = identity.parse_scope(form["scope"], root) if form.get("scope") else None
        return identity.refresh(app, refresh_token, scope, context)
    if grant_type == "client_credentials":
        identity.authenticate_client(app, secret, required=True)
        return identity.client_credentials(
            app, identity.parse_scope(form.get("scope"), root, client_credentials=True)
        )
    raise OAuthError(
        "unsupported_grant_type",
        70003,
        f"The app requested an unsupported grant type '{grant_type}'.",
    )
