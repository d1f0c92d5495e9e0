"""OAuth 2.0 as Xero's identity server does it: sign-in and consent, PKCE codes, rotating
refresh tokens, revocation, connections, and the 401/403 checks of the Accounting API."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from fastapi import FastAPI
from xero_sandbox.app import create_app
from xero_sandbox.settings import XeroSandboxSettings

from tests.support.http_server import serve_in_thread
from tests.support.xero_sandbox import ALL_SCOPES, VERIFIER, XeroSandbox


def _form_action(page: str) -> str:
    match = re.search(r'<form method="post" action="([^"]+)"', page)
    assert match, page
    return match.group(1).replace("&amp;", "&")


def _hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def test_login_and_consent_page_issue_a_code(sandbox: XeroSandbox) -> None:
    sandbox.admin("DELETE", "auto-approve")
    second = sandbox.admin("POST", "organisations", json={"name": "Second Ltd"}).json()
    user = {
        "email": "kim@example.com",
        "password": "pw",
        "tenant_ids": [sandbox.tenant, second["tenant_id"]],
    }
    assert sandbox.admin("POST", "users", json=user).status_code == 201

    page = sandbox.http.get(
        f"{sandbox.base}/identity/connect/authorize", params=sandbox.authorize_params()
    )
    assert page.status_code == 200
    assert "<form" in page.text
    assert 'name="password"' in page.text
    action = _form_action(page.text)
    fields = _hidden_fields(page.text)

    wrong = sandbox.http.post(action, data={**fields, "email": "kim@example.com", "password": "x"})
    assert wrong.status_code == 401
    assert "incorrect" in wrong.text

    consent = sandbox.http.post(
        action, data={**fields, "email": "kim@example.com", "password": "pw"}
    )
    assert consent.status_code == 200
    assert "Second Ltd" in consent.text
    assert "Demo Company (NZ)" in consent.text
    approved = sandbox.http.post(
        _form_action(consent.text),
        data={
            "session_id": _hidden_fields(consent.text)["session_id"],
            "tenant_id": second["tenant_id"],
            "decision": "allow",
        },
    )
    assert approved.status_code == 302
    location = urlparse(approved.headers["location"])
    assert location.path == "/connections/xero/callback"
    query = parse_qs(location.query)
    assert query["state"] == ["st-123"]

    tokens = sandbox.redeem(query["code"][0]).json()
    connections = sandbox.http.get(
        f"{sandbox.base}/connections",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    assert [c["tenantId"] for c in connections] == [second["tenant_id"]]
    assert connections[0]["tenantName"] == "Second Ltd"
    assert connections[0]["tenantType"] == "ORGANISATION"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert connections[0]["authEventId"] == claims["authentication_event_id"]
    assert {"id", "createdDateUtc", "updatedDateUtc"} <= connections[0].keys()


def test_cancel_on_consent_redirects_access_denied(sandbox: XeroSandbox) -> None:
    sandbox.admin("DELETE", "auto-approve")
    page = sandbox.http.get(
        f"{sandbox.base}/identity/connect/authorize", params=sandbox.authorize_params()
    )
    consent = sandbox.http.post(
        _form_action(page.text),
        data={
            **_hidden_fields(page.text),
            "email": sandbox.settings.demo_user_email,
            "password": sandbox.settings.demo_user_password,
        },
    )
    denied = sandbox.http.post(
        _form_action(consent.text),
        data={"session_id": _hidden_fields(consent.text)["session_id"], "decision": "deny"},
    )
    assert denied.status_code == 302
    assert parse_qs(urlparse(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_authorize_rejects_bad_requests(sandbox: XeroSandbox) -> None:
    url = f"{sandbox.base}/identity/connect/authorize"
    assert (
        sandbox.http.get(url, params=sandbox.authorize_params(client_id="nope")).status_code == 400
    )
    bad_redirect = sandbox.authorize_params(redirect_uri="https://evil.example/cb")
    assert sandbox.http.get(url, params=bad_redirect).status_code == 400
    bad_scope = sandbox.http.get(
        url, params=sandbox.authorize_params(scope="accounting.everything")
    )
    assert bad_scope.status_code == 302
    assert "error=invalid_scope" in bad_scope.headers["location"]


def test_login_pages_work_under_a_mount_prefix() -> None:
    host = FastAPI()
    inner = create_app(XeroSandboxSettings(token_signing_key="k" * 32))
    inner.state.sandbox.auto_approve = None
    host.mount("/sandbox/xero", inner)
    with serve_in_thread(host) as base, httpx.Client() as http:
        page = http.get(
            f"{base}/sandbox/xero/identity/connect/authorize",
            params={
                "client_id": inner.state.sandbox.settings.demo_client_id,
                "redirect_uri": inner.state.sandbox.settings.demo_redirect_uris[0],
                "response_type": "code",
                "scope": "openid accounting.invoices",
                "state": "s",
            },
        )
        assert page.status_code == 200
        action = _form_action(page.text)
        assert action.startswith(f"{base}/sandbox/xero/identity/connect/authorize")
        settings = inner.state.sandbox.settings
        consent = http.post(
            action,
            data={
                **_hidden_fields(page.text),
                "email": settings.demo_user_email,
                "password": settings.demo_user_password,
            },
        )
        assert _form_action(consent.text).startswith(f"{base}/sandbox/xero/identity/connect/")


def test_pkce_and_client_authentication(sandbox: XeroSandbox) -> None:
    assert sandbox.redeem(sandbox.authorize(), verifier="wrong-verifier" * 3).json() == {
        "error": "invalid_grant"
    }
    code = sandbox.authorize()
    bad_secret = sandbox.token_request(
        grant_type="authorization_code",
        code=code,
        client_secret="nope",
        redirect_uri=sandbox.settings.demo_redirect_uris[0],
        code_verifier="x",
    )
    assert bad_secret.status_code == 400
    assert bad_secret.json() == {"error": "invalid_client"}
    # HTTP Basic client authentication, as Xero documents it.
    basic = base64.b64encode(
        f"{sandbox.settings.demo_client_id}:{sandbox.settings.demo_client_secret}".encode()
    ).decode()
    ok = sandbox.http.post(
        f"{sandbox.base}/connect/token",
        headers={"Authorization": f"Basic {basic}"},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": VERIFIER,
            "redirect_uri": sandbox.settings.demo_redirect_uris[0],
        },
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert set(body["scope"].split()) == set(ALL_SCOPES.split())
    assert "id_token" in body
    assert "refresh_token" in body
    # A code is single-use.
    again = sandbox.redeem(code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


def test_no_refresh_token_without_offline_access(sandbox: XeroSandbox) -> None:
    tokens = sandbox.tokens("accounting.invoices")
    assert "refresh_token" not in tokens
    assert "id_token" not in tokens


def test_refresh_tokens_rotate_with_a_grace_period(sandbox: XeroSandbox) -> None:
    first = sandbox.tokens()["refresh_token"]
    rotated = sandbox.token_request(grant_type="refresh_token", refresh_token=first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    # Within 30 minutes the spent token still works (a lost response can be retried)...
    sandbox.clock.advance(29 * 60)
    assert sandbox.token_request(grant_type="refresh_token", refresh_token=first).status_code == 200
    # ...after that it is invalid_grant, while the new one works.
    sandbox.clock.advance(2 * 60)
    late = sandbox.token_request(grant_type="refresh_token", refresh_token=first)
    assert late.status_code == 400
    assert late.json() == {"error": "invalid_grant"}
    assert (
        sandbox.token_request(grant_type="refresh_token", refresh_token=second).status_code == 200
    )


def test_refresh_tokens_expire_after_sixty_days(sandbox: XeroSandbox) -> None:
    token = sandbox.tokens()["refresh_token"]
    sandbox.clock.advance(60 * 24 * 3600 + 1)
    response = sandbox.token_request(grant_type="refresh_token", refresh_token=token)
    assert response.json() == {"error": "invalid_grant"}


def test_access_tokens_expire_after_thirty_minutes(sandbox: XeroSandbox) -> None:
    headers = sandbox.headers()
    assert sandbox.http.get(sandbox.api("Organisation"), headers=headers).status_code == 200
    sandbox.clock.advance(30 * 60)
    expired = sandbox.http.get(sandbox.api("Organisation"), headers=headers)
    assert expired.status_code == 401
    assert expired.json()["Detail"] == "AuthenticationUnsuccessful"


def test_revocation_kills_refresh_token_and_connections(sandbox: XeroSandbox) -> None:
    tokens = sandbox.tokens()
    response = sandbox.http.post(
        f"{sandbox.base}/connect/revocation",
        data={
            "token": tokens["refresh_token"],
            "client_id": sandbox.settings.demo_client_id,
            "client_secret": sandbox.settings.demo_client_secret,
        },
    )
    assert response.status_code == 200
    refresh = sandbox.token_request(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.json() == {"error": "invalid_grant"}
    api = sandbox.http.get(
        sandbox.api("Organisation"),
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant,
        },
    )
    assert api.status_code == 401


def test_disconnect_removes_the_tenant(sandbox: XeroSandbox) -> None:
    headers = sandbox.headers()
    auth = {"Authorization": headers["Authorization"]}
    [connection] = sandbox.http.get(f"{sandbox.base}/connections", headers=auth).json()
    gone = sandbox.http.delete(f"{sandbox.base}/connections/{connection['id']}", headers=auth)
    assert gone.status_code == 204
    assert sandbox.http.get(f"{sandbox.base}/connections", headers=auth).json() == []
    refused = sandbox.http.get(sandbox.api("Organisation"), headers=headers)
    assert refused.status_code == 403
    assert refused.json()["Title"] == "Forbidden"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
    ],
)
def test_api_needs_a_valid_bearer_token(
    sandbox: XeroSandbox, headers: dict[str, str], status: int
) -> None:
    response = sandbox.http.get(
        sandbox.api("Invoices"), headers={**headers, "xero-tenant-id": sandbox.tenant}
    )
    assert response.status_code == status
    body = response.json()
    assert body["Title"] == "Unauthorized"
    assert body["Status"] == 401
    assert body["Detail"] == "AuthenticationUnsuccessful"


def test_api_needs_an_authorised_tenant(sandbox: XeroSandbox) -> None:
    headers = sandbox.headers()
    other = sandbox.admin("POST", "organisations", json={"name": "Not connected"}).json()
    for tenant in (None, other["tenant_id"], "not-a-guid"):
        h = {k: v for k, v in headers.items() if k != "xero-tenant-id"}
        if tenant:
            h["xero-tenant-id"] = tenant
        response = sandbox.http.get(sandbox.api("Invoices"), headers=h)
        assert response.status_code == 403
        assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_scopes_are_checked(sandbox: XeroSandbox) -> None:
    headers = sandbox.headers("accounting.contacts.read accounting.invoices")
    assert sandbox.http.get(sandbox.api("Contacts"), headers=headers).status_code == 200
    assert sandbox.http.get(sandbox.api("Invoices"), headers=headers).status_code == 200
    denied = sandbox.http.put(sandbox.api("Contacts"), headers=headers, json={"Name": "X"})
    assert denied.status_code == 401
    assert denied.json()["Detail"] == "AuthorizationUnsuccessful"
    assert sandbox.http.get(sandbox.api("Payments"), headers=headers).status_code == 401
    assert sandbox.http.get(sandbox.api("Items"), headers=headers).status_code == 401
    # The older broad scope still opens invoices and payments.
    broad = sandbox.headers("accounting.transactions")
    assert sandbox.http.get(sandbox.api("Payments"), headers=broad).status_code == 200


def test_public_client_must_use_pkce(sandbox: XeroSandbox) -> None:
    client = sandbox.admin(
        "POST", "clients", json={"public": True, "redirect_uris": ["http://localhost/cb"]}
    ).json()
    assert client["client_secret"] is None
    params = {
        "client_id": client["client_id"],
        "redirect_uri": "http://localhost/cb",
        "response_type": "code",
        "scope": "accounting.invoices",
        "state": "s",
    }
    response = sandbox.http.get(f"{sandbox.base}/identity/connect/authorize", params=params)
    assert "error=invalid_request" in response.headers["location"]
