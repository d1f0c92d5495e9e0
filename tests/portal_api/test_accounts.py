"""Accounts: sign-up with a trial, confirmation link, sign-in with throttling, CSRF, sign-out,
password reset."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.portal_api.conftest import PASSWORD, Portal


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@example.com"


async def test_register_confirm_and_the_trial(portal: Portal) -> None:
    email = new_email()
    async with portal.browser() as browser:
        registered = await browser.post(
            "/v1/auth/register",
            json={"email": email.upper(), "name": "Grace", "company_name": "Hopper plc"},
        )
        assert registered.status_code == 201
        assert email in registered.json()["message"]
        again = await browser.post(
            "/v1/auth/register", json={"email": email, "name": "G", "company_name": "H"}
        )
        assert again.status_code == 409
        assert again.json() == {
            "detail": "An account with this e-mail address already exists. Sign in, or reset "
            "the password if you never chose one.",
            "field": "email",
        }

        token = await portal.link_sent_to(email, "confirm")
        weak = await browser.post("/v1/auth/confirm", json={"token": token, "password": "short"})
        assert weak.status_code == 422
        assert weak.json()["field"] == "password"
        assert "at least 10 characters" in weak.json()["detail"]

        confirmed = await browser.post(
            "/v1/auth/confirm", json={"token": token, "password": PASSWORD}
        )
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
        user = body["user"]
        assert user["email"] == email
        trial = datetime.fromisoformat(user["trial_ends_at"])
        created = datetime.fromisoformat(user["created_at"])
        assert trial - created == timedelta(days=14)
        set_cookies = confirmed.headers.get_list("set-cookie")
        session_cookie = next(c for c in set_cookies if c.startswith("dxc_session="))
        assert "HttpOnly" in session_cookie
        assert "samesite=lax" in session_cookie.lower()
        csrf_cookie = next(c for c in set_cookies if c.startswith("dxc_csrf="))
        assert "HttpOnly" not in csrf_cookie

        me = await browser.get("/v1/auth/me")
        assert me.status_code == 200
        assert me.json() == user

        reused = await browser.post("/v1/auth/confirm", json={"token": token, "password": PASSWORD})
        assert reused.status_code == 400
        assert reused.json()["field"] == "token"

    async with portal.browser() as api:
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        assert (await api.get("/v1/auth/me", headers=bearer)).json()["id"] == user["id"]


async def test_unsafe_requests_with_the_cookie_need_the_csrf_header(portal: Portal) -> None:
    async with portal.signed_up() as browser:
        csrf = browser.headers.pop("X-CSRF-Token")
        refused = await browser.post("/v1/auth/logout")
        assert refused.status_code == 403
        assert "X-CSRF-Token" in refused.json()["detail"]
        forged = await browser.post("/v1/auth/logout", headers={"X-CSRF-Token": "forged"})
        assert forged.status_code == 403
        assert (await browser.get("/v1/auth/me")).status_code == 200  # reads need no header

        logged_out = await browser.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert logged_out.status_code == 204
        me = await browser.get("/v1/auth/me")
        assert me.status_code == 401
        assert me.json()["detail"] == "Sign in first."


async def test_login_is_throttled_per_email_and_address(portal: Portal) -> None:
    async with portal.signed_up() as browser:
        email = (await browser.get("/v1/auth/me")).json()["email"]
    async with portal.browser() as attacker:
        for _ in range(5):
            wrong = await attacker.post(
                "/v1/auth/login", json={"email": email, "password": "not the password 1"}
            )
            assert wrong.status_code == 401
            assert wrong.json()["detail"] == "The e-mail address or password is not correct."
        throttled = await attacker.post(
            "/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 900

    # Another address is not affected by the attacker's failures.
    async with portal.browser("203.0.113.7") as other:
        signed_in = await other.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["email"] == email


async def test_password_reset(portal: Portal) -> None:
    async with portal.signed_up() as browser:
        email = (await browser.get("/v1/auth/me")).json()["email"]

        unknown = await browser.post("/v1/auth/password-reset", json={"email": new_email()})
        known = await browser.post("/v1/auth/password-reset", json={"email": email})
        assert unknown.status_code == known.status_code == 202
        assert unknown.json() == known.json()

        token = await portal.link_sent_to(email, "reset-password")
        new_password = "a brand new password 7"
        reset = await browser.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "password": new_password}
        )
        assert reset.status_code == 204
        assert (await browser.get("/v1/auth/me")).status_code == 401  # every session ended
        again = await browser.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "password": new_password}
        )
        assert again.status_code == 400

        old = await browser.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 401
        new = await browser.post("/v1/auth/login", json={"email": email, "password": new_password})
        assert new.status_code == 200


async def test_malformed_requests_get_readable_answers(portal: Portal) -> None:
    async with portal.browser() as browser:
        missing = await browser.post("/v1/auth/register", json={"email": "a@b.co"})
        assert missing.status_code == 422
        body = missing.json()
        assert body["detail"] == "Some fields are not valid."
        assert {e["field"] for e in body["errors"]} == {"name", "company_name"}
        assert {e["message"] for e in body["errors"]} == {
            "Enter a name.",
            "Enter your company name.",
        }

        empty = await browser.post(
            "/v1/auth/register", json={"email": "a@b.co", "name": " ", "company_name": "Acme"}
        )
        assert empty.json() == {"detail": "Enter a name.", "field": "name"}
        too_long = await browser.post(
            "/v1/auth/register", json={"email": "a@b.co", "name": "n" * 201, "company_name": "A"}
        )
        assert too_long.json()["detail"] == "Use at most 200 characters."

        bad_email = await browser.post(
            "/v1/auth/register", json={"email": "nope", "name": "a", "company_name": "b"}
        )
        assert bad_email.json()["field"] == "email"
        assert "valid e-mail address" in bad_email.json()["detail"]

        not_json = await browser.post(
            "/v1/auth/login", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 422
        assert not_json.json()["detail"] == "The request body is not valid JSON."
