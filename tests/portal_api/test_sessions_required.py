"""Every endpoint answers 401 without a session, except the few that must work signed out. The
endpoints are read from the app, so a new one is covered without touching this test."""

from __future__ import annotations

import re
import uuid

from tests.portal_api.conftest import Portal

# Signing up and in, and what a sign-up page shows. Everything else needs a session.
PUBLIC = {
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/confirm"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/password-reset"),
    ("POST", "/v1/auth/password-reset/confirm"),
    ("GET", "/v1/plans"),
    ("GET", "/v1/time-zones"),
    # Dataverse's webhook: authenticated by the connection's secret header, not a session.
    ("POST", "/v1/push/dynamics/{connection_id}"),
}
PATH_VALUES = {"connection_id": str(uuid.uuid4()), "provider": "xero", "record_id": "r1"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match[1]], path)


def api_endpoints(portal: Portal) -> list[tuple[str, str]]:
    """Every operation of the app's OpenAPI document (FastAPI builds it from the routes)."""
    paths = portal.app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/")
        for method in operations
    )


async def test_every_endpoint_needs_a_session(portal: Portal) -> None:
    endpoints = api_endpoints(portal)
    assert len(endpoints) > 25
    assert set(endpoints) >= PUBLIC  # the exceptions exist, so none hides a typo
    async with portal.browser() as anonymous, portal.browser() as stale_browser:
        stale_browser.cookies.set("dxc_session", "stale")
        for method, path in endpoints:
            if (method, path) in PUBLIC:
                continue
            url = concrete(path)
            response = await anonymous.request(method, url, params={"state": "s"}, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["detail"] == "Sign in first."
            stale = await stale_browser.request(method, url, params={"state": "s"}, json={})
            assert stale.status_code == 401, (method, path, stale.text)
            assert stale.json()["detail"] == "Your session has ended. Sign in again."
            forged = await anonymous.request(
                method, url, params={"state": "s"}, json={}, headers={"Authorization": "Bearer x"}
            )
            assert forged.status_code == 401, (method, path, forged.text)


async def test_public_endpoints_answer_signed_out(portal: Portal) -> None:
    async with portal.browser() as anonymous:
        plans = (await anonymous.get("/v1/plans")).json()
        assert [(p["code"], p["sync_interval_seconds"]) for p in plans] == [
            ("starter", 60),
            ("growth", 30),
            ("scale", 15),
        ]
        assert (await anonymous.get("/v1/time-zones")).status_code == 200
