"""A browser going through the connect flows: the portal's authorize URL, the sandbox's sign-in
(Xero's demo auto-approval; Microsoft's sign-in form), and back to the portal's callback."""

from __future__ import annotations

import asyncio
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from dynamics_sandbox.settings import DynamicsSandboxSettings

from tests.portal_api.conftest import WEB_URL
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.xero_sandbox import XeroSandbox


def _get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, follow_redirects=False, timeout=30, **kwargs)


def _post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, follow_redirects=False, timeout=30, **kwargs)


async def back_to_portal(browser: httpx.AsyncClient, location: str) -> httpx.Response:
    """Follow the provider's redirect to the portal's callback, as the browser does."""
    portal_url = str(browser.base_url).rstrip("/")
    assert location.startswith(f"{portal_url}/v1/oauth/"), location
    return await browser.get(location.removeprefix(portal_url))


async def authorize_url(browser: httpx.AsyncClient, connection_id: str, provider: str) -> str:
    response = await browser.post(f"/v1/connections/{connection_id}/{provider}/authorize")
    assert response.status_code == 200, response.text
    url: str = response.json()["authorize_url"]
    return url


async def connect_xero(browser: httpx.AsyncClient, connection_id: str) -> httpx.Response:
    """The Xero sandbox's demo user is pre-approved: authorize redirects straight back."""
    url = await authorize_url(browser, connection_id, "xero")
    at_xero = await asyncio.to_thread(_get, url)
    assert at_xero.status_code == 302, at_xero.text
    return await back_to_portal(browser, at_xero.headers["location"])


async def connect_dynamics(
    browser: httpx.AsyncClient,
    connection_id: str,
    dynamics: RunningDynamicsSandbox | DynamicsSandboxSettings,
) -> httpx.Response:
    """Microsoft's sign-in page: the form is filled in with the demo user's password."""
    settings = dynamics if isinstance(dynamics, DynamicsSandboxSettings) else dynamics.settings
    url = await authorize_url(browser, connection_id, "dynamics")
    page = await asyncio.to_thread(_get, url)
    assert page.status_code == 200, page.text
    action = unescape(re.search(r"<form method='post' action='([^']+)'", page.text)[1])  # type: ignore[index]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    form = fields | {
        "username": settings.demo_user,
        "password": settings.demo_password,
        "step": "login",
    }
    signed_in = await asyncio.to_thread(_post, action, data=form)
    assert signed_in.status_code == 302, signed_in.text
    return await back_to_portal(browser, signed_in.headers["location"])


def portal_page(
    response: httpx.Response, connection_id: str, web_url: str = WEB_URL
) -> dict[str, str]:
    """Where the callback sent the browser: the connection's page and its query."""
    assert response.status_code == 303, response.text
    location = urlparse(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == web_url
    assert location.path == f"/connections/{connection_id}"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def settings_reviewed_in_dynamics(dynamics: RunningDynamicsSandbox, connection_id: str) -> None:
    """A Dynamics user opens the connector's settings, reviews them and saves the row."""
    token = dynamics.user_access_token()
    api = f"{dynamics.org_url()}/api/data/v9.2"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    connectors = httpx.get(
        f"{api}/dxc_connectors",
        params={"$filter": f"dxc_connectionid eq '{connection_id}'", "$select": "dxc_connectorid"},
        headers=headers,
    )
    connectors.raise_for_status()
    [connector] = connectors.json()["value"]
    created = httpx.post(
        f"{api}/dxc_connectorsettings",
        json={
            "dxc_name": "Settings",
            "dxc_usexeroinvoicenumber": False,
            "dxc_createcontacts": True,
            "dxc_createproducts": False,
            "dxc_defaultinvoicestatus": 100000002,
            "dxc_defaultsalesaccountcode": "200",
            "dxc_createcreditnotes": True,
            "dxc_ConnectorId@odata.bind": f"/dxc_connectors({connector['dxc_connectorid']})",
        },
        headers=headers,
    )
    assert created.status_code == 204, created.text


async def ready_connection(
    browser: httpx.AsyncClient,
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
    name: str = "Contoso",
) -> str:
    """A connection with both sides connected, organisations chosen and tables installed."""
    cid: str = (await browser.post("/v1/connections", json={"name": name})).json()["id"]
    url = f"/v1/connections/{cid}"
    assert portal_page(await connect_xero(browser, cid), cid) == {"connected": "xero"}
    chosen = await browser.put(
        f"{url}/xero/organisation", json={"tenant_id": xero.settings.demo_tenant_id}
    )
    assert chosen.status_code == 200, chosen.text
    page = await connect_dynamics(browser, cid, dynamics)
    assert portal_page(page, cid) == {"connected": "dynamics"}
    picked = await browser.put(
        f"{url}/dynamics/organisation", json={"org_url": dynamics.org_url("demo")}
    )
    assert picked.status_code == 200, picked.text
    installed = await browser.post(f"{url}/dynamics/install")
    assert installed.status_code == 200, installed.text
    return cid
