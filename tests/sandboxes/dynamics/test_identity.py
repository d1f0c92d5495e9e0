"""Entra ID: authorization code + PKCE, refresh rotation, expiry, revocation, client credentials."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from .conftest import Sandbox


def test_code_flow_gives_tokens_and_a_used_refresh_token_stays_valid(sandbox: Sandbox) -> None:
    tokens = sandbox.tokens()
    assert tokens["token_type"] == "Bearer"
    assert 3000 <= tokens["expires_in"] <= 3600
    first = tokens["refresh_token"]
    refreshed = sandbox.token_request(grant_type="refresh_token", refresh_token=first)
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != first
    # Entra does not revoke a refresh token when it is redeemed: a refresh race succeeds.
    again = sandbox.token_request(grant_type="refresh_token", refresh_token=first)
    assert again.status_code == 200, again.text


def test_unknown_resource_is_aadsts500011(sandbox: Sandbox) -> None:
    for scope in ("https://nope.example/.default", f"{sandbox.base}/orgs/missing/.default"):
        response = sandbox.token_request(grant_type="client_credentials", scope=scope)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_resource"
        assert response.json()["error_codes"] == [500011]


def test_the_public_global_discovery_uri_names_the_discovery_service(sandbox: Sandbox) -> None:
    refresh = sandbox.tokens()["refresh_token"]
    token = sandbox.token_request(
        grant_type="refresh_token",
        refresh_token=refresh,
        scope="https://globaldisco.crm.dynamics.com/user_impersonation",
    ).json()["access_token"]
    instances = sandbox.http.get(
        f"{sandbox.base}/api/discovery/v2.0/Instances", headers={"Authorization": f"Bearer {token}"}
    )
    assert instances.status_code == 200
    assert (
        sandbox.http.get(
            f"{sandbox.api()}/WhoAmI", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )


def test_unknown_tenant_is_aadsts90002(sandbox: Sandbox) -> None:
    response = sandbox.http.get(
        f"{sandbox.base}/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration"
    )
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_no_refresh_token_without_offline_access(sandbox: Sandbox) -> None:
    assert "refresh_token" not in sandbox.tokens(offline=False)


def test_pkce_mismatch_and_code_reuse_and_expiry(sandbox: Sandbox) -> None:
    scope = f"{sandbox.org_url()}/user_impersonation"
    bad = sandbox.redeem(sandbox.authorize(scope), verifier="wrong-verifier-" + "y" * 40)
    assert bad.json()["error_codes"] == [501481]
    code = sandbox.authorize(scope)
    assert sandbox.redeem(code).status_code == 200
    reused = sandbox.redeem(code)
    assert reused.json()["error"] == "invalid_grant"
    assert reused.json()["error_codes"] == [54005]
    assert sandbox.redeem("1.Anot-a-code").json()["error_codes"] == [70000]
    stale = sandbox.authorize(scope)
    sandbox.clock.advance(11 * 60)
    assert sandbox.redeem(stale).json()["error_codes"] == [70008]


def test_refresh_token_expires_after_90_days(sandbox: Sandbox) -> None:
    refresh = sandbox.tokens()["refresh_token"]
    sandbox.clock.advance(91 * 86400)
    body = sandbox.token_request(grant_type="refresh_token", refresh_token=refresh).json()
    assert body["error"] == "invalid_grant"
    assert body["error_codes"] == [700082]
    assert body["error_description"].startswith("AADSTS700082:")


def test_revoked_sessions_answer_aadsts50173(sandbox: Sandbox) -> None:
    refresh = sandbox.tokens()["refresh_token"]
    sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/users/{sandbox.settings.demo_user}/revoke-sessions"
    )
    body = sandbox.token_request(grant_type="refresh_token", refresh_token=refresh).json()
    assert body["error_codes"] == [50173]
    assert "revoked" in body["error_description"]


def test_access_token_expires_and_is_bound_to_its_org(sandbox: Sandbox) -> None:
    sandbox.http.post(f"{sandbox.base}/sandbox-admin/orgs", json={"unique_name": "other"})
    sandbox.add_user("pat@contoso-demo.example", ["demo", "other"])
    headers = sandbox.headers(user="pat@contoso-demo.example")
    assert sandbox.http.get(f"{sandbox.api()}/WhoAmI", headers=headers).status_code == 200
    wrong_org = sandbox.http.get(f"{sandbox.api('other')}/WhoAmI", headers=headers)
    assert wrong_org.status_code == 401
    assert "authorization_uri=" in wrong_org.headers["www-authenticate"]
    sandbox.clock.advance(3601)
    assert sandbox.http.get(f"{sandbox.api()}/WhoAmI", headers=headers).status_code == 401


def test_refresh_token_can_be_spent_on_another_resource(sandbox: Sandbox) -> None:
    refresh = sandbox.tokens()["refresh_token"]
    response = sandbox.token_request(
        grant_type="refresh_token",
        refresh_token=refresh,
        scope=f"{sandbox.base}/user_impersonation offline_access",
    )
    token = response.json()["access_token"]
    instances = sandbox.http.get(
        f"{sandbox.base}/api/discovery/v2.0/Instances", headers={"Authorization": f"Bearer {token}"}
    )
    assert instances.status_code == 200


def test_client_credentials_for_application_users(sandbox: Sandbox) -> None:
    app = sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/apps",
        json={"display_name": "Daemon", "application_user_orgs": ["demo"]},
    ).json()
    form = {
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "grant_type": "client_credentials",
    }
    wrong_scope = sandbox.token_request(**form, scope=f"{sandbox.org_url()}/user_impersonation")
    assert wrong_scope.json()["error_codes"] == [1002012]
    bad_secret = sandbox.token_request(
        **{**form, "client_secret": "nope"}, scope=f"{sandbox.org_url()}/.default"
    )
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error_codes"] == [7000215]
    token = sandbox.token_request(**form, scope=f"{sandbox.org_url()}/.default").json()
    assert "refresh_token" not in token
    who = sandbox.http.get(
        f"{sandbox.api()}/WhoAmI", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert who.status_code == 200
    user = sandbox.http.get(
        f"{sandbox.api()}/systemusers({who.json()['UserId']})?$select=applicationid,fullname",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert user.json()["applicationid"] == app["client_id"]


def test_html_login_and_consent_pages(sandbox: Sandbox) -> None:
    app = sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/apps",
        json={"display_name": "Portal", "redirect_uris": ["https://portal.example/cb"]},
    ).json()
    sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/users",
        json={"upn": "kim@contoso-demo.example", "password": "s3cret", "orgs": ["demo"]},
    )
    params = {
        "client_id": app["client_id"],
        "response_type": "code",
        "redirect_uri": "https://portal.example/cb",
        "scope": f"{sandbox.org_url()}/user_impersonation offline_access",
        "state": "abc",
    }
    url = f"{sandbox.base}/organizations/oauth2/v2.0/authorize"
    page = sandbox.http.get(url, params=params)
    assert page.status_code == 200
    assert "<form" in page.text
    action = re.search(r"action='([^']+)'", page.text).group(1)  # type: ignore[union-attr]
    wrong = sandbox.http.post(
        action,
        data={**params, "step": "login", "username": "kim@contoso-demo.example", "password": "x"},
    )
    assert "AADSTS50126" in wrong.text
    consent = sandbox.http.post(
        action,
        data={
            **params,
            "step": "login",
            "username": "kim@contoso-demo.example",
            "password": "s3cret",
        },
    )
    assert "Permissions requested" in consent.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', consent.text).group(1)  # type: ignore[union-attr]
    accepted = sandbox.http.post(action, data={**params, "step": "consent", "ticket": ticket})
    assert accepted.status_code == 302
    query = parse_qs(urlparse(accepted.headers["location"]).query)
    assert query["state"] == ["abc"]
    token = sandbox.token_request(
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri="https://portal.example/cb",
    )
    assert "refresh_token" in token.json()


def test_unknown_app_and_bad_redirect_show_error_page(sandbox: Sandbox) -> None:
    url = f"{sandbox.base}/common/oauth2/v2.0/authorize"
    unknown = sandbox.http.get(
        url, params={"client_id": "nope", "response_type": "code", "redirect_uri": "x"}
    )
    assert "AADSTS700016" in unknown.text
    bad_redirect = sandbox.http.get(
        url,
        params={
            "client_id": sandbox.settings.demo_client_id,
            "response_type": "code",
            "redirect_uri": "https://evil",
        },
    )
    assert "AADSTS50011" in bad_redirect.text


def test_response_modes(sandbox: Sandbox) -> None:
    params = {
        "client_id": sandbox.settings.demo_client_id,
        "response_type": "code",
        "redirect_uri": sandbox.settings.demo_redirect_uris[0],
        "scope": f"{sandbox.org_url()}/user_impersonation",
        "state": "s1",
        "login_hint": sandbox.settings.demo_user,
    }
    url = f"{sandbox.base}/common/oauth2/v2.0/authorize"
    fragment = sandbox.http.get(url, params={**params, "response_mode": "fragment"})
    assert fragment.status_code == 302
    location = urlparse(fragment.headers["location"])
    assert not location.query
    assert parse_qs(location.fragment)["state"] == ["s1"]
    posted = sandbox.http.get(url, params={**params, "response_mode": "form_post"})
    assert posted.status_code == 200
    assert 'name="code"' in posted.text
    unknown = sandbox.http.get(url, params={**params, "response_mode": "carrier_pigeon"})
    assert unknown.status_code == 400
    assert "carrier_pigeon" in unknown.text
