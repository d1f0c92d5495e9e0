"""Installing into Dynamics 365 when the signed-in user lacks privileges, and when the grant has
been revoked at Microsoft."""

from __future__ import annotations

import asyncio

import httpx

from tests.portal_api.conftest import Portal
from tests.portal_api.oauth_flow import connect_dynamics, connect_xero, portal_page
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.xero_sandbox import XeroSandbox

REVOKED = (
    "The Dynamics 365 authorisation was revoked (the password changed or access was "
    "withdrawn). Connect to Dynamics 365 again in the portal."
)


async def connected(
    browser: httpx.AsyncClient, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> str:
    """Both sides connected and organisations chosen; not installed."""
    cid: str = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
    url = f"/v1/connections/{cid}"
    assert portal_page(await connect_xero(browser, cid), cid) == {"connected": "xero"}
    await browser.put(f"{url}/xero/organisation", json={"tenant_id": xero.settings.demo_tenant_id})
    assert portal_page(await connect_dynamics(browser, cid, dynamics), cid) == {
        "connected": "dynamics"
    }
    picked = await browser.put(
        f"{url}/dynamics/organisation", json={"org_url": dynamics.org_url("demo")}
    )
    assert picked.status_code == 200, picked.text
    return cid


async def test_missing_privileges_are_reported_in_words(
    portal: Portal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    user = dynamics.settings.demo_user
    await asyncio.to_thread(
        dynamics.admin, "PUT", f"orgs/demo/privileges/{user}", json={"denied": ["prvWriteInvoice"]}
    )
    try:
        async with portal.signed_up() as browser:
            cid = await connected(browser, xero, dynamics)
            url = f"/v1/connections/{cid}"
            not_yet = await browser.post(f"/v1/connections/{cid}/refresh")
            assert not_yet.status_code == 409

            installed = await browser.post(f"{url}/dynamics/install")
            assert installed.status_code == 200, installed.text
            assert installed.json()["missing_privileges"] == ["update invoices and their lines"]
            steps = {s["key"]: s for s in (await browser.get(f"{url}/checklist")).json()["steps"]}
            assert steps["tables_installed"]["done"] is True
            assert steps["permissions"]["done"] is False
            assert "update invoices and their lines" in steps["permissions"]["tip"]

            await asyncio.to_thread(
                dynamics.admin, "PUT", f"orgs/demo/privileges/{user}", json={"denied": []}
            )
            refreshed = await browser.post(f"{url}/refresh")
            assert refreshed.status_code == 200, refreshed.text
            assert refreshed.json()["settings"] is None
            steps = {s["key"]: s for s in (await browser.get(f"{url}/checklist")).json()["steps"]}
            assert steps["permissions"]["done"] is True
    finally:
        await asyncio.to_thread(
            dynamics.admin, "PUT", f"orgs/demo/privileges/{user}", json={"denied": []}
        )


async def test_a_revoked_grant_stops_the_install_with_a_clear_message(
    portal: Portal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        cid = await connected(browser, xero, dynamics)
        url = f"/v1/connections/{cid}"
        await asyncio.to_thread(dynamics.revoke_demo_user_sessions)

        refused = await browser.post(f"{url}/dynamics/install")
        assert refused.status_code == 409
        assert refused.json()["detail"] == REVOKED
        connection = (await browser.get(url)).json()
        assert connection["status"] == "reauthorisation_needed"
        assert connection["dynamics"]["error"] == REVOKED
        assert connection["tables_installed"] is False

        # Connecting again clears it.
        assert portal_page(await connect_dynamics(browser, cid, dynamics), cid) == {
            "connected": "dynamics"
        }
        assert (await browser.get(url)).json()["dynamics"]["error"] is None
        assert (await browser.post(f"{url}/dynamics/install")).status_code == 200
