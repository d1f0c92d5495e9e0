"""The whole journey against the sandboxes over real HTTP: register → confirm → log in → create
connection → connect Xero → pick org → connect Dynamics → pick org → install tables → checklist
all green → subscribe → cancel → archived."""

from __future__ import annotations

import asyncio

from dxc_shared.dynamics import solution
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ReferenceDataRefreshRequested,
    SyncRequested,
)
from portal_api.billing.payments import FakePaymentProvider

from tests.portal_api.conftest import PASSWORD, Bus, Portal
from tests.portal_api.oauth_flow import (
    connect_dynamics,
    connect_xero,
    portal_page,
    settings_reviewed_in_dynamics,
)
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.polling import eventually
from tests.support.xero_sandbox import XeroSandbox


def checklist_state(checklist: dict[str, object]) -> dict[str, bool]:
    return {step["key"]: step["done"] for step in checklist["steps"]}  # type: ignore[attr-defined]


async def test_the_whole_journey(
    portal: Portal, bus: Bus, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    email = "journey@example.com"
    async with portal.browser() as signup:
        registered = await signup.post(
            "/v1/auth/register",
            json={"email": email, "name": "Jo Finance", "company_name": "Contoso Ltd"},
        )
        assert registered.status_code == 201
        token = await portal.link_sent_to(email, "confirm")
        confirmed = await signup.post(
            "/v1/auth/confirm", json={"token": token, "password": PASSWORD}
        )
        assert confirmed.status_code == 200

    async with portal.browser() as browser:
        login = await browser.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        browser.headers["X-CSRF-Token"] = browser.cookies["dxc_csrf"]

        created = await browser.post(
            "/v1/connections", json={"name": "Contoso books", "time_zone": "Europe/London"}
        )
        assert created.status_code == 201
        cid = created.json()["id"]
        url = f"/v1/connections/{cid}"
        fresh = (await browser.get(f"{url}/checklist")).json()
        assert fresh["complete"] is False
        assert checklist_state(fresh) == {
            "xero_connected": False,
            "xero_organisation": False,
            "dynamics_connected": False,
            "dynamics_organisation": False,
            "tables_installed": False,
            "permissions": False,
            "settings_reviewed": False,
            "subscription_active": True,  # the trial
        }
        assert all(step["tip"] for step in fresh["steps"])

        assert portal_page(await connect_xero(browser, cid), cid) == {"connected": "xero"}
        [organisation] = (await browser.get(f"{url}/xero/organisations")).json()
        picked = await browser.put(
            f"{url}/xero/organisation", json={"tenant_id": organisation["tenant_id"]}
        )
        assert picked.json()["xero"]["tenant_id"] == xero.settings.demo_tenant_id

        page = await connect_dynamics(browser, cid, dynamics)
        assert portal_page(page, cid) == {"connected": "dynamics"}
        [instance] = (await browser.get(f"{url}/dynamics/organisations")).json()
        picked = await browser.put(
            f"{url}/dynamics/organisation", json={"org_url": instance["org_url"]}
        )
        assert picked.json()["dynamics"]["org_url"] == dynamics.org_url("demo")

        installed = await browser.post(f"{url}/dynamics/install")
        assert installed.status_code == 200, installed.text
        report = installed.json()
        assert report["action"] in ("installed", "current")  # the module shares the sandbox
        assert report["version"] == solution.VERSION
        assert report["missing_privileges"] == []
        again = (await browser.post(f"{url}/dynamics/install")).json()
        assert (again["action"], again["previous_version"]) == ("current", solution.VERSION)

        before_review = (await browser.get(f"{url}/checklist")).json()
        assert [k for k, done in checklist_state(before_review).items() if not done] == [
            "settings_reviewed"
        ]
        await asyncio.to_thread(settings_reviewed_in_dynamics, dynamics, cid)
        refreshed = await browser.post(f"{url}/refresh")
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["settings"] == {
            "use_xero_invoice_number": False,
            "create_contacts": True,
            "create_products": False,
            "default_invoice_status": "AUTHORISED",
            "default_sales_account_code": "200",
            "default_purchase_account_code": None,
            "create_credit_notes": True,
        }
        checklist = (await browser.get(f"{url}/checklist")).json()
        assert checklist["complete"] is True, checklist
        assert (await browser.get(url)).json()["status"] == "active"

        await eventually(lambda: any(m.syncable for m in bus.of(ConnectionChanged, cid)))
        ready = next(m for m in bus.of(ConnectionChanged, cid) if m.syncable)
        assert ready.profile.xero_tenant_id == xero.settings.demo_tenant_id
        assert ready.profile.dynamics_org_url == dynamics.org_url("demo")
        assert ready.profile.time_zone == "Europe/London"
        assert ready.set_up  # kept by the scheduler (held jobs) should the plan end

        no_card = await browser.post(f"{url}/subscription", json={"plan": "growth"})
        assert no_card.status_code == 402
        assert no_card.json()["detail"] == "Add a card in your billing details first."
        declined = await browser.put("/v1/billing", json={"card_token": "tok_declined"})
        assert declined.status_code == 402
        billing = await browser.put(
            "/v1/billing",
            json={
                "name": "Contoso Ltd",
                "email": "accounts@contoso.example",
                "address_line1": "1 High Street",
                "city": "London",
                "postcode": "EC1A 1BB",
                "country": "gb",
                "vat_number": "GB123456789",
                "card_token": "tok_visa",
            },
        )
        assert billing.status_code == 200, billing.text
        assert billing.json()["payment_method"] == {"brand": "visa", "last4": "4242"}
        assert billing.json()["country"] == "GB"
        assert (await browser.get("/v1/billing")).json() == billing.json()

        subscribed = await browser.post(f"{url}/subscription", json={"plan": "growth"})
        assert subscribed.status_code == 200, subscribed.text
        connection = subscribed.json()
        assert connection["subscription"]["status"] == "active"
        assert connection["subscription"]["plan"] == connection["plan"] == "growth"
        assert connection["status"] == "active"
        # Subscribed during the trial: nothing is charged until the trial ends.
        payments: FakePaymentProvider = portal.app.state.portal.payments
        assert payments.charges == []  # this module's only subscription
        assert connection["subscription"]["billing_starts_at"] == connection["trial_ends_at"]
        await eventually(
            lambda: bus.of(ConnectionChanged, cid)[-1].profile.sync_interval_seconds == 30
        )

        assert (await browser.post(f"{url}/sync")).status_code == 202
        await eventually(lambda: len(bus.of(SyncRequested, cid)) == 1)
        assert (await browser.post(f"{url}/reference-data")).status_code == 202
        await eventually(lambda: len(bus.of(ReferenceDataRefreshRequested, cid)) == 1)

        cancelled = await browser.delete(f"{url}/subscription")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "archived"
        assert cancelled.json()["subscription"]["status"] == "cancelled"
        assert cancelled.json()["subscription"]["cancelled_at"] is not None
        await eventually(lambda: len(bus.of(ConnectionArchived, cid)) == 1)
        assert (await browser.post(f"{url}/sync")).status_code == 409
        assert (await browser.post(f"{url}/reference-data")).status_code == 409
        assert (await browser.get(url)).json()["status"] == "archived"
        listed = (await browser.get("/v1/connections")).json()
        assert [(c["id"], c["status"]) for c in listed] == [(cid, "archived")]

        metrics = (await browser.get("/metrics")).text
        for series in (
            "dxc_portal_signups_total",
            'dxc_portal_logins_total{result="ok"}',
            'dxc_portal_emails_total{result="sent"}',
            'dxc_portal_oauth_callbacks_total{provider="xero",result="connected"}',
            'dxc_portal_oauth_callbacks_total{provider="dynamics",result="connected"}',
        ):
            assert metric_value(metrics, series) >= 1, series


def metric_value(exposition: str, series: str) -> float:
    for line in exposition.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    raise AssertionError(f"{series} is not exposed")
