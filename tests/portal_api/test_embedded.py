"""portal-api in the embedded mode (SQLite, the in-process bus, the mounted sandboxes and
token-broker, all reached at the public URL): sign up through the development mailbox, connect
both sides, install, and read the checklist."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from dxc.embedded import create_embedded_app
from dynamics_sandbox.settings import DynamicsSandboxSettings
from xero_sandbox.settings import XeroSandboxSettings

from tests.portal_api.conftest import PASSWORD
from tests.portal_api.oauth_flow import connect_dynamics, connect_xero, portal_page
from tests.support.http_server import free_port, serve_in_thread
from tests.support.polling import eventually


@pytest.fixture
def public_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve_in_thread(create_embedded_app(tmp_path, public_url=url), port=port):
        yield url


def mails(mailbox: Path) -> list[dict[str, str]]:
    return [json.loads(path.read_text()) for path in mailbox.glob("*.json")]


async def test_sign_up_connect_and_install_in_embedded_mode(
    public_url: str, tmp_path: Path
) -> None:
    mailbox = tmp_path / "mailbox"
    async with httpx.AsyncClient(base_url=f"{public_url}/portal-api", timeout=60) as browser:
        email = "embedded@example.com"
        registered = await browser.post(
            "/v1/auth/register", json={"email": email, "name": "Em", "company_name": "Bedded"}
        )
        assert registered.status_code == 201, registered.text
        await eventually(lambda: mailbox.exists() and len(mails(mailbox)) == 1)
        [mail] = mails(mailbox)
        assert (tmp_path / "mailbox" / f"{mail['id']}.eml").exists()
        link = next(word for word in mail["body"].split() if "/confirm?token=" in word)
        assert link.startswith(f"{public_url}/confirm?token=")  # the portal's web pages
        token = parse_qs(urlparse(link).query)["token"][0]
        confirmed = await browser.post(
            "/v1/auth/confirm", json={"token": token, "password": PASSWORD}
        )
        assert confirmed.status_code == 200, confirmed.text
        browser.headers["X-CSRF-Token"] = browser.cookies["dxc_csrf"]

        cid = (await browser.post("/v1/connections", json={"name": "Demo"})).json()["id"]
        url = f"/v1/connections/{cid}"
        connected = await connect_xero(browser, cid)
        assert portal_page(connected, cid, web_url=public_url) == {"connected": "xero"}
        xero = XeroSandboxSettings()
        [organisation] = (await browser.get(f"{url}/xero/organisations")).json()
        assert organisation == {"tenant_id": xero.demo_tenant_id, "name": xero.demo_org_name}
        await browser.put(f"{url}/xero/organisation", json={"tenant_id": xero.demo_tenant_id})

        connected = await connect_dynamics(browser, cid, DynamicsSandboxSettings())
        assert portal_page(connected, cid, web_url=public_url) == {"connected": "dynamics"}
        [instance] = (await browser.get(f"{url}/dynamics/organisations")).json()
        assert instance["org_url"] == f"{public_url}/sandbox/dynamics/orgs/demo"
        await browser.put(f"{url}/dynamics/organisation", json={"org_url": instance["org_url"]})
        installed = await browser.post(f"{url}/dynamics/install")
        assert installed.status_code == 200, installed.text

        checklist = (await browser.get(f"{url}/checklist")).json()
        pending = [step["key"] for step in checklist["steps"] if not step["done"]]
        assert pending == ["settings_reviewed"]
        assert (await browser.get(url)).json()["status"] == "active"
