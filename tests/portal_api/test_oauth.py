"""Connecting to Xero and Dynamics 365 through the sandboxes, and what happens when it fails."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

import httpx

from tests.portal_api.conftest import Portal
from tests.portal_api.oauth_flow import (
    authorize_url,
    back_to_portal,
    connect_dynamics,
    connect_xero,
    portal_page,
)
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.xero_sandbox import XeroSandbox


async def test_connect_both_sides_and_pick_organisations(
    portal: Portal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        connection = (await browser.post("/v1/connections", json={"name": "Books"})).json()
        cid = connection["id"]
        url = f"/v1/connections/{cid}"

        not_yet = await browser.get(f"{url}/xero/organisations")
        assert not_yet.status_code == 409
        assert not_yet.json()["detail"] == "Connect to Xero first."

        assert portal_page(await connect_xero(browser, cid), cid) == {"connected": "xero"}
        assert (await browser.get(url)).json()["xero"]["connected"] is True
        organisations = (await browser.get(f"{url}/xero/organisations")).json()
        assert organisations == [
            {"tenant_id": xero.settings.demo_tenant_id, "name": xero.settings.demo_org_name}
        ]
        wrong = await browser.put(f"{url}/xero/organisation", json={"tenant_id": "not-mine"})
        assert wrong.status_code == 422
        assert wrong.json()["field"] == "tenant_id"
        chosen = await browser.put(
            f"{url}/xero/organisation", json={"tenant_id": xero.settings.demo_tenant_id}
        )
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["xero"]["tenant_name"] == xero.settings.demo_org_name

        page = await connect_dynamics(browser, cid, dynamics)
        assert portal_page(page, cid) == {"connected": "dynamics"}
        instances = (await browser.get(f"{url}/dynamics/organisations")).json()
        assert instances == [
            {
                "org_url": dynamics.org_url("demo"),
                "name": instances[0]["name"],
                "unique_name": "demo",
            }
        ]
        picked = await browser.put(
            f"{url}/dynamics/organisation", json={"org_url": dynamics.org_url("demo") + "/"}
        )
        assert picked.status_code == 200, picked.text
        assert picked.json()["dynamics"]["org_url"] == dynamics.org_url("demo")
        assert picked.json()["dynamics"]["org_name"] == instances[0]["name"]
        assert picked.json()["status"] == "draft"  # tables not installed yet


async def test_a_denied_authorisation_comes_back_as_a_clear_error(portal: Portal) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        url = await authorize_url(browser, cid, "xero")
        state = parse_qs(urlparse(url).query)["state"][0]
        denied = await browser.get(
            "/v1/oauth/xero/callback", params={"error": "access_denied", "state": state}
        )
        assert portal_page(denied, cid) == {
            "error": "You did not allow dx-connector to access Xero. Connect again and accept."
        }
        again = await browser.get(
            "/v1/oauth/xero/callback", params={"error": "access_denied", "state": state}
        )
        assert again.status_code == 400
        assert again.json()["field"] == "state"


async def test_a_forged_code_is_refused_with_the_providers_reason(portal: Portal) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        url = await authorize_url(browser, cid, "dynamics")
        state = parse_qs(urlparse(url).query)["state"][0]
        forged = await browser.get(
            "/v1/oauth/dynamics/callback", params={"code": "forged", "state": state}
        )
        error = portal_page(forged, cid)["error"]
        assert error.startswith("Dynamics 365 did not accept the authorisation")
        assert (await browser.get(f"/v1/connections/{cid}")).json()["dynamics"][
            "connected"
        ] is False


async def test_the_state_is_bound_to_the_browser_session_that_started_it(
    portal: Portal, xero: XeroSandbox
) -> None:
    async with portal.signed_up() as victim, portal.signed_up() as attacker:
        cid = (await attacker.post("/v1/connections", json={"name": "Attacker's"})).json()["id"]
        url = await authorize_url(attacker, cid, "xero")
        at_xero = await asyncio.to_thread(httpx.get, url, follow_redirects=False)
        # The attacker makes the victim's browser open the callback with the attacker's code.
        planted = await back_to_portal(victim, at_xero.headers["location"])
        assert planted.status_code == 400
        assert "started in another browser" in planted.json()["detail"]
        assert (await attacker.get(f"/v1/connections/{cid}")).json()["xero"]["connected"] is False
