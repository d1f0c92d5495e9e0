"""Microsoft's own clients against the sandbox's Entra ID, unmodified but for the authority:
MSAL for Python and azure-identity sign a user in (authorization code, PKCE where the client
does it) and refresh; PyJWT verifies the tokens with the keys the discovery document publishes.

MSAL and azure-identity accept only https authorities, so the sandbox serves TLS here with a
test CA (trustme) that `requests` trusts through REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import base64
import html
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import httpx
import jwt
import msal
import pytest
import requests
import trustme
from azure.identity import AuthorizationCodeCredential
from cryptography import x509
from dynamics_sandbox.app import create_app
from dynamics_sandbox.settings import DynamicsSandboxSettings

from tests.support.http_server import serve_in_thread

REDIRECT_URI = "http://localhost:8765/callback"
USER, PASSWORD = "robin@contoso-demo.example", "s3cret-pass"
# Claims that the access token and ID token claims references document (those a user
# token of each kind may carry): the sandbox's tokens must carry no other.
ACCESS_TOKEN_CLAIMS = {
    *("aud", "iss", "iat", "nbf", "exp", "aio", "acr", "amr", "appid", "appidacr", "idp"),
    *("name", "oid", "rh", "scp", "roles", "sub", "tid", "unique_name", "upn", "uti", "ver"),
}
ID_TOKEN_CLAIMS = {
    *("aud", "iss", "iat", "nbf", "exp", "aio", "idp", "name", "nonce", "oid"),
    *("preferred_username", "rh", "sid", "sub", "tid", "uti", "ver", "email"),
}


@dataclass
class TlsSandbox:
    base: str
    settings: DynamicsSandboxSettings
    ca_path: str
    tenant_id: str
    client_id: str
    client_secret: str
    user_object_id: str
    http: httpx.Client
    # MSAL's HTTP session, closed before the server stops (it keeps connections alive).
    msal_session: requests.Session

    @property
    def authority(self) -> str:
        return f"{self.base}/{self.tenant_id}"

    @property
    def org_url(self) -> str:
        return f"{self.base}/orgs/demo"

    def sign_in(self, auth_uri: str) -> dict[str, str]:
        """Fill in the sign-in page as a person would; the parameters of the authorization
        response (from the redirect's query, or from the form a form_post answer submits)."""
        page = self.http.get(auth_uri)
        assert page.status_code == 200, page.text
        action, form = _form(page.text)
        answer = self.http.post(
            action, data={**form, "step": "login", "username": USER, "password": PASSWORD}
        )
        if answer.status_code == 200:
            redirect_uri, response = _form(answer.text)
            assert redirect_uri == REDIRECT_URI
            return response
        assert answer.status_code == 302, answer.text
        return dict(parse_qsl(urlparse(answer.headers["location"]).query))

    def app(self, *, public_client: bool) -> dict[str, Any]:
        response = self.http.post(
            f"{self.base}/sandbox-admin/apps",
            json={
                "display_name": "Judge",
                "redirect_uris": [REDIRECT_URI],
                "public_client": public_client,
                "admin_consented": True,
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def discovery(self) -> dict[str, Any]:
        url = f"{self.authority}/v2.0/.well-known/openid-configuration"
        body: dict[str, Any] = self.http.get(url).json()
        return body


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the page's form."""
    action = re.search(r"action='([^']+)'", page)
    assert action is not None, page
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in hidden}


@pytest.fixture
def tls_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsSandbox]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path = tmp_path / "ca.pem", tmp_path / "cert.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    settings = DynamicsSandboxSettings()
    app = create_app(settings)
    with (
        serve_in_thread(app, ssl_certfile=str(cert_path), ssl_keyfile=str(cert_path)) as base,
        httpx.Client(verify=ssl.create_default_context(cafile=str(ca_path)), timeout=30) as http,
        requests.Session() as msal_session,
    ):
        user = http.post(
            f"{base}/sandbox-admin/users",
            json={"upn": USER, "password": PASSWORD, "orgs": ["demo"]},
        ).json()
        yield TlsSandbox(
            base=base,
            settings=settings,
            ca_path=str(ca_path),
            tenant_id=settings.demo_tenant_id,
            client_id=settings.demo_client_id,
            client_secret=settings.demo_client_secret,
            user_object_id=user["object_id"],
            http=http,
            msal_session=msal_session,
        )


def _instances(sandbox: TlsSandbox, access_token: str) -> httpx.Response:
    return sandbox.http.get(
        f"{sandbox.base}/api/discovery/v2.0/Instances",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def _who_am_i(sandbox: TlsSandbox, access_token: str) -> httpx.Response:
    return sandbox.http.get(
        f"{sandbox.org_url}/api/data/v9.2/WhoAmI",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def test_msal_confidential_client_signs_in_with_pkce_and_refreshes(
    tls_sandbox: TlsSandbox,
) -> None:
    registered = tls_sandbox.app(public_client=False)
    client = msal.ConfidentialClientApplication(
        registered["client_id"],
        client_credential=registered["client_secret"],
        authority=tls_sandbox.authority,
        instance_discovery=False,
        http_client=tls_sandbox.msal_session,
    )
    flow = client.initiate_auth_code_flow(
        [f"{tls_sandbox.org_url}/user_impersonation"], redirect_uri=REDIRECT_URI
    )
    assert "code_challenge=" in flow["auth_uri"]
    result = client.acquire_token_by_auth_code_flow(flow, tls_sandbox.sign_in(flow["auth_uri"]))
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert claims["oid"] == tls_sandbox.user_object_id
    assert claims["tid"] == tls_sandbox.tenant_id
    assert claims["preferred_username"] == USER
    # client_info made MSAL's account: home_account_id is "<uid>.<utid>".
    [account] = client.get_accounts()
    assert account["home_account_id"] == f"{tls_sandbox.user_object_id}.{tls_sandbox.tenant_id}"
    assert _who_am_i(tls_sandbox, result["access_token"]).status_code == 200

    discovery_scope = [f"{tls_sandbox.base}/user_impersonation"]
    refreshed = client.acquire_token_by_refresh_token(result["refresh_token"], discovery_scope)
    assert "access_token" in refreshed, refreshed
    assert _instances(tls_sandbox, refreshed["access_token"]).status_code == 200
    # The redeemed refresh token still works, as Entra's do (a refresh race succeeds).
    again = client.acquire_token_by_refresh_token(result["refresh_token"], discovery_scope)
    assert "access_token" in again, again
    silent = client.acquire_token_silent(discovery_scope, account=account)
    assert silent is not None
    assert "access_token" in silent


def test_msal_public_client_signs_in_with_pkce(tls_sandbox: TlsSandbox) -> None:
    registered = tls_sandbox.app(public_client=True)
    client = msal.PublicClientApplication(
        registered["client_id"],
        authority=tls_sandbox.authority,
        instance_discovery=False,
        http_client=tls_sandbox.msal_session,
    )
    flow = client.initiate_auth_code_flow(
        [f"{tls_sandbox.org_url}/.default"], redirect_uri=REDIRECT_URI
    )
    result = client.acquire_token_by_auth_code_flow(flow, tls_sandbox.sign_in(flow["auth_uri"]))
    assert "access_token" in result, result
    assert result["id_token_claims"]["aud"] == registered["client_id"]
    assert _who_am_i(tls_sandbox, result["access_token"]).status_code == 200
    # A verifier that does not match the challenge is refused by the sandbox (AADSTS501481).
    flow = client.initiate_auth_code_flow(
        [f"{tls_sandbox.org_url}/.default"], redirect_uri=REDIRECT_URI
    )
    response = tls_sandbox.sign_in(flow["auth_uri"])
    flow["code_verifier"] = "a-different-verifier-" + "z" * 40
    refused = client.acquire_token_by_auth_code_flow(flow, response)
    assert refused["error"] == "invalid_grant"
    assert 501481 in refused["error_codes"]


def test_msal_signs_in_with_the_form_post_response_mode(tls_sandbox: TlsSandbox) -> None:
    registered = tls_sandbox.app(public_client=True)
    client = msal.PublicClientApplication(
        registered["client_id"],
        authority=tls_sandbox.authority,
        instance_discovery=False,
        http_client=tls_sandbox.msal_session,
    )
    flow = client.initiate_auth_code_flow(
        [f"{tls_sandbox.org_url}/.default"], redirect_uri=REDIRECT_URI, response_mode="form_post"
    )
    response = tls_sandbox.sign_in(flow["auth_uri"])
    assert set(response) >= {"code", "state"}
    result = client.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result, result


def test_msal_is_refused_a_token_for_an_unknown_resource(tls_sandbox: TlsSandbox) -> None:
    client = msal.ConfidentialClientApplication(
        tls_sandbox.client_id,
        client_credential=tls_sandbox.client_secret,
        authority=tls_sandbox.authority,
        instance_discovery=False,
        http_client=tls_sandbox.msal_session,
    )
    result = client.acquire_token_for_client(["https://nope.example/.default"])
    assert result["error"] == "invalid_resource"
    assert result["error_codes"] == [500011]
    assert result["error_description"].startswith("AADSTS500011:")


def test_azure_identity_redeems_a_code_and_refreshes(tls_sandbox: TlsSandbox) -> None:
    registered = tls_sandbox.app(public_client=False)
    org_scope = f"{tls_sandbox.org_url}/user_impersonation"
    query = urlencode(
        {
            "client_id": registered["client_id"],
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": f"{org_scope} openid profile offline_access",
            "state": "judge",
        }
    )
    answer = tls_sandbox.sign_in(f"{tls_sandbox.authority}/oauth2/v2.0/authorize?{query}")
    assert answer["state"] == "judge"
    # Short-lived access tokens, so that the credential's second call must refresh.
    tls_sandbox.settings.access_token_lifetime_seconds = 1
    authority_host = urlparse(tls_sandbox.base).netloc
    with AuthorizationCodeCredential(
        tls_sandbox.tenant_id,
        registered["client_id"],
        answer["code"],
        REDIRECT_URI,
        client_secret=registered["client_secret"],
        authority=authority_host,
    ) as credential:
        first = credential.get_token(org_scope)
        time.sleep(1.2)
        # The access token has expired: the credential redeems the refresh token it was given.
        refreshed = credential.get_token(org_scope)
        assert refreshed.token != first.token
    calls = tls_sandbox.http.get(
        f"{tls_sandbox.base}/sandbox-admin/calls",
        params={"method": "POST", "path_contains": "/oauth2/v2.0/token"},
    ).json()
    assert [call["status"] for call in calls] == [200, 200]  # the code, then the refresh


def test_pyjwt_verifies_tokens_with_the_published_keys(tls_sandbox: TlsSandbox) -> None:
    registered = tls_sandbox.app(public_client=False)
    client = msal.ConfidentialClientApplication(
        registered["client_id"],
        client_credential=registered["client_secret"],
        authority=tls_sandbox.authority,
        instance_discovery=False,
        http_client=tls_sandbox.msal_session,
    )
    flow = client.initiate_auth_code_flow(
        [f"{tls_sandbox.org_url}/user_impersonation"], redirect_uri=REDIRECT_URI
    )
    result = client.acquire_token_by_auth_code_flow(flow, tls_sandbox.sign_in(flow["auth_uri"]))
    discovery = tls_sandbox.discovery()
    keys = jwt.PyJWKClient(
        discovery["jwks_uri"], ssl_context=ssl.create_default_context(cafile=tls_sandbox.ca_path)
    )

    id_token = result["id_token"]
    assert jwt.get_unverified_header(id_token)["alg"] == "RS256"
    id_claims = jwt.decode(
        id_token,
        keys.get_signing_key_from_jwt(id_token).key,
        algorithms=["RS256"],
        audience=registered["client_id"],
        issuer=discovery["issuer"],
        options={"require": ["sub", "iat", "nbf", "exp"]},
    )
    assert id_claims["ver"] == "2.0"
    assert id_claims["nonce"] == result["id_token_claims"]["nonce"]
    assert set(id_claims) <= ID_TOKEN_CLAIMS

    assert "x5t" not in jwt.get_unverified_header(id_token)  # a v1.0-only header
    # The published certificate (x5c) holds the same key, as Entra's key set does.
    [published] = tls_sandbox.http.get(discovery["jwks_uri"]).json()["keys"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(published["x5c"][0]))
    jwt.decode(
        id_token,
        certificate.public_key(),  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience=registered["client_id"],
    )

    access_token = result["access_token"]
    header = jwt.get_unverified_header(access_token)
    assert header["x5t"] == header["kid"] == published["kid"]
    access_claims = jwt.decode(
        access_token,
        keys.get_signing_key_from_jwt(access_token).key,
        algorithms=["RS256"],
        audience=tls_sandbox.org_url,
        issuer=f"https://sts.windows.net/{tls_sandbox.tenant_id}/",
    )
    assert access_claims["scp"] == "user_impersonation"
    assert access_claims["oid"] == tls_sandbox.user_object_id
    assert set(access_claims) <= ACCESS_TOKEN_CLAIMS


def test_multi_tenant_discovery_names_the_issuer_with_entras_placeholder(
    tls_sandbox: TlsSandbox,
) -> None:
    common = tls_sandbox.http.get(
        f"{tls_sandbox.base}/common/v2.0/.well-known/openid-configuration"
    )
    assert common.json()["issuer"] == f"{tls_sandbox.base}/{{tenantid}}/v2.0"
    assert tls_sandbox.discovery()["issuer"] == f"{tls_sandbox.authority}/v2.0"
    keys = tls_sandbox.http.get(f"{tls_sandbox.base}/common/discovery/v2.0/keys").json()
    assert [key["kty"] for key in keys["keys"]] == ["RSA"]
