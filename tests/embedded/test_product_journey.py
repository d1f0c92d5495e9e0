"""The product as a newcomer runs it (`dxc dev`'s app over real HTTP, SQLite, the in-process bus,
both sandboxes mounted): sign up and connect through the portal API, hand an invoice over in
Dynamics, see it reach Xero within the plan's interval, pay it in Xero and see Dynamics mark it
Paid through the webhook."""

from __future__ import annotations

import asyncio
import re
from html import unescape
from pathlib import Path
from typing import Any

import httpx
from dxc.demo import hand_over, review_settings
from dxc.embedded import create_embedded_app
from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.dynamics.schema import (
    DefaultInvoiceStatus,
    ExportStatus,
)
from dynamics_sandbox.settings import DynamicsSandboxSettings

from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.http_server import free_port, serve_in_thread
from tests.support.mailbox import wait_for_link
from tests.support.polling import eventually_async

PASSWORD = "correct horse battery staple 42"
PAID = 2  # invoice statecode


async def _follow_to_portal(browser: httpx.AsyncClient, response: httpx.Response) -> str:
    """The provider's redirect back to the portal's callback, then the callback's own redirect
    to the portal's page; returns that page's address."""
    assert response.status_code == 302, response.text
    callback = await browser.get(response.headers["location"])
    assert callback.status_code == 303, callback.text
    location: str = callback.headers["location"]
    return location


async def _sign_in_at_microsoft(page: httpx.Response, dynamics: RunningDynamicsSandbox) -> Any:
    action = unescape(re.search(r"<form method='post' action='([^']+)'", page.text)[1])  # type: ignore[index]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    async with httpx.AsyncClient(timeout=30) as outside:
        return await outside.post(
            action,
            data=fields
            | {
                "username": dynamics.settings.demo_user,
                "password": dynamics.settings.demo_password,
                "step": "login",
            },
        )


async def test_an_invoice_goes_to_xero_and_its_payment_comes_back(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    app = create_embedded_app(data_dir, url)
    dynamics = RunningDynamicsSandbox(
        f"{url}/sandbox/dynamics",
        DynamicsSandboxSettings(
            demo_redirect_uris=[f"{url}/portal-api/v1/oauth/dynamics/callback"]
        ),
    )
    with serve_in_thread(app, port=port):
        async with (
            httpx.AsyncClient(base_url=f"{url}/portal-api", timeout=30) as browser,
            httpx.AsyncClient(base_url=url, timeout=30) as outside,
        ):
            # Sign up, confirm from the development mailbox, log in.
            email = "finance@contoso.example"
            registered = await browser.post(
                "/v1/auth/register",
                json={"email": email, "name": "Jo Finance", "company_name": "Contoso"},
            )
            assert registered.status_code == 201, registered.text
            link = await asyncio.to_thread(wait_for_link, data_dir, email, "/confirm")
            token = link.split("token=", 1)[1]
            confirmed = await browser.post(
                "/v1/auth/confirm", json={"token": token, "password": PASSWORD}
            )
            assert confirmed.status_code == 200, confirmed.text
            browser.headers["X-CSRF-Token"] = browser.cookies["dxc_csrf"]

            # A connection, both sides connected, organisations picked, tables installed.
            created = await browser.post(
                "/v1/connections", json={"name": "Contoso books", "time_zone": "Pacific/Auckland"}
            )
            assert created.status_code == 201, created.text
            cid = created.json()["id"]
            authorize = (await browser.post(f"/v1/connections/{cid}/xero/authorize")).json()
            at_xero = await outside.get(authorize["authorize_url"])  # the demo user pre-approved
            assert "connected=xero" in await _follow_to_portal(browser, at_xero)
            [organisation] = (await browser.get(f"/v1/connections/{cid}/xero/organisations")).json()
            picked = await browser.put(
                f"/v1/connections/{cid}/xero/organisation",
                json={"tenant_id": organisation["tenant_id"]},
            )
            assert picked.status_code == 200, picked.text

            authorize = (await browser.post(f"/v1/connections/{cid}/dynamics/authorize")).json()
            sign_in_page = await outside.get(authorize["authorize_url"])
            signed_in = await _sign_in_at_microsoft(sign_in_page, dynamics)
            assert "connected=dynamics" in await _follow_to_portal(browser, signed_in)
            org_url = dynamics.org_url("demo")
            picked = await browser.put(
                f"/v1/connections/{cid}/dynamics/organisation", json={"org_url": org_url}
            )
            assert picked.status_code == 200, picked.text
            installed = await browser.post(f"/v1/connections/{cid}/dynamics/install")
            assert installed.status_code == 200, installed.text
            assert (await browser.get(f"/v1/connections/{cid}")).json()["status"] == "active"

            # In Dynamics, as its user (the demo's `dxc review-settings`): settings saved with
            # AUTHORISED, so the invoice can be paid; the checklist is then complete.
            await review_settings(url, default_status=DefaultInvoiceStatus.AUTHORISED)
            assert (await browser.post(f"/v1/connections/{cid}/refresh")).status_code == 200
            assert (await browser.get(f"/v1/connections/{cid}/checklist")).json()["complete"]

            # What a Dynamics user does to say "ready": the demo's `dxc hand-over`.
            [invoice_id] = await hand_over(url, ["INV-1001"])

            user_token = await asyncio.to_thread(dynamics.user_access_token, "demo")

            async def as_user() -> str:
                return user_token

            dataverse = DataverseClient(outside, org_url=org_url, access_token=as_user)

            async def row() -> dict[str, Any]:
                [found] = await dataverse.query(
                    "invoices",
                    select=["statecode", "dxc_exportstatus", "dxc_xeroinvoiceid", "dxc_amountdue"],
                    filter=f"invoiceid eq {invoice_id}",
                )
                return found

            async def exported() -> bool:
                return bool((await row())["dxc_exportstatus"] == ExportStatus.YES.value)

            # Within the plan's interval anyway; "sync now" spares the test the wait.
            assert (await browser.post(f"/v1/connections/{cid}/sync")).status_code == 202
            await eventually_async(exported)

            # Paid in Xero: the webhook brings it back.
            xero_invoice_id = (await row())["dxc_xeroinvoiceid"]
            tenant = organisation["tenant_id"]
            payment = await outside.post(
                f"/sandbox/xero/sandbox-admin/organisations/{tenant}/payments",
                json={
                    "Payments": [
                        {
                            "Invoice": {"InvoiceID": xero_invoice_id},
                            "Account": {"Code": "090"},
                            "Amount": (await row())["dxc_amountdue"],
                            "Date": "2026-11-23",
                        }
                    ]
                },
            )
            assert payment.status_code == 200, payment.text

            async def paid() -> bool:
                return bool((await row())["statecode"] == PAID)

            await eventually_async(paid)

            # The export's run report reaches the portal over the bus, maybe after the payment.
            async def export_reported() -> bool:
                activity = (await browser.get(f"/v1/connections/{cid}/activity")).json()
                return any(
                    run["direction"] == "invoices" and run["succeeded"] >= 1
                    for run in activity["runs"]
                )

            await eventually_async(export_reported)
