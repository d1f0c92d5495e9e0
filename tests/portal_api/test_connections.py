"""Connections: create, read, update, archive; one user never sees another's; every change is
announced to the scheduler."""

from __future__ import annotations

import uuid

from dxc_shared.messages import ConnectionArchived, ConnectionChanged

from tests.portal_api.conftest import Bus, Portal
from tests.support.polling import eventually


async def test_create_update_and_archive(portal: Portal, bus: Bus) -> None:
    async with portal.signed_up() as browser:
        created = await browser.post(
            "/v1/connections", json={"name": "Contoso books", "time_zone": "Pacific/Auckland"}
        )
        assert created.status_code == 201, created.text
        connection = created.json()
        me = (await browser.get("/v1/auth/me")).json()
        assert connection["type"] == "Dynamics Xero Connector"
        assert connection["status"] == "draft"
        assert connection["plan"] == "starter"
        assert connection["trial_ends_at"] == me["trial_ends_at"]
        assert connection["subscription"] is None
        assert connection["xero"] == {
            "connected": False,
            "tenant_id": None,
            "tenant_name": None,
            "error": None,
        }
        assert connection["tables_installed"] is False
        url = f"/v1/connections/{connection['id']}"

        await eventually(lambda: len(bus.of(ConnectionChanged, connection["id"])) == 1)
        first = bus.of(ConnectionChanged, connection["id"])[0]
        assert first.syncable is False
        assert first.profile.time_zone == "Pacific/Auckland"
        assert first.profile.sync_interval_seconds == 60
        assert first.profile.max_invoices_per_month == 500  # the run keeps the plan's limit

        bad_zone = await browser.patch(url, json={"time_zone": "Mars/Olympus_Mons"})
        assert bad_zone.status_code == 422
        assert bad_zone.json()["field"] == "time_zone"
        assert "Mars/Olympus_Mons" in bad_zone.json()["detail"]
        bad_plan = await browser.patch(url, json={"plan": "platinum"})
        assert bad_plan.json()["field"] == "plan"

        updated = await browser.patch(url, json={"name": "Renamed", "plan": "scale"})
        assert updated.status_code == 200
        assert (updated.json()["name"], updated.json()["plan"]) == ("Renamed", "scale")
        assert (await browser.get(url)).json() == updated.json()
        listed = (await browser.get("/v1/connections")).json()
        assert [c["id"] for c in listed] == [connection["id"]]
        await eventually(lambda: len(bus.of(ConnectionChanged, connection["id"])) == 2)
        upgraded = bus.of(ConnectionChanged, connection["id"])[1].profile
        assert (upgraded.sync_interval_seconds, upgraded.max_invoices_per_month) == (15, 20000)

        assert (await browser.delete(url)).status_code == 204
        archived = (await browser.get(url)).json()
        assert archived["status"] == "archived"
        assert archived["health"]["state"] == "paused"
        assert (await browser.get(f"{url}/health")).json() == archived["health"]
        await eventually(lambda: len(bus.of(ConnectionArchived, connection["id"])) == 1)
        refused = await browser.patch(url, json={"name": "Again"})
        assert refused.status_code == 409
        assert (
            refused.json()["detail"] == "This connection is archived and can no longer be changed."
        )


async def test_another_users_connection_is_not_found(portal: Portal) -> None:
    async with portal.signed_up() as owner, portal.signed_up() as stranger:
        connection = (await owner.post("/v1/connections", json={"name": "Mine"})).json()
        url = f"/v1/connections/{connection['id']}"
        for method, path, body in (
            ("GET", url, None),
            ("PATCH", url, {"name": "Theirs now"}),
            ("DELETE", url, None),
            ("POST", f"{url}/xero/authorize", None),
            ("GET", f"{url}/dynamics/organisations", None),
            ("PUT", f"{url}/xero/organisation", {"tenant_id": "x"}),
            ("POST", f"{url}/dynamics/install", None),
            ("GET", f"{url}/checklist", None),
            ("POST", f"{url}/refresh", None),
            ("GET", f"{url}/activity", None),
            ("POST", f"{url}/sync", None),
            ("POST", f"{url}/subscription", {"plan": "starter"}),
            ("DELETE", f"{url}/subscription", None),
        ):
            response = await stranger.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["detail"] == "The connection was not found."
        assert (await stranger.get("/v1/connections")).json() == []
        assert (await owner.get(url)).json()["name"] == "Mine"
        missing = await owner.get(f"/v1/connections/{uuid.uuid4()}")
        assert missing.status_code == 404
        malformed = await owner.get("/v1/connections/not-a-uuid")
        assert malformed.status_code == 422
        assert malformed.json()["field"] == "connection_id"


async def test_time_zones_are_iana_names(portal: Portal) -> None:
    async with portal.browser() as browser:
        zones = (await browser.get("/v1/time-zones")).json()
    assert "Europe/London" in zones
    assert "Pacific/Auckland" in zones
    assert zones[0] == "UTC"
    assert zones[1:] == sorted(zones[1:])
    # What a person picks from: no aliases or oddities (they are still accepted if stored).
    assert not {"localtime", "Factory", "Etc/GMT+3", "US/Pacific", "GB"} & set(zones)


async def test_the_mapping_template_is_validated_and_sent_to_the_workers(
    portal: Portal, bus: Bus
) -> None:
    async with portal.signed_up() as browser:
        created = (await browser.post("/v1/connections", json={"name": "Mapped"})).json()
        url = f"/v1/connections/{created['id']}"

        wrong_field = await browser.patch(url, json={"field_mappings": {"name": "Total"}})
        assert wrong_field.status_code == 422
        assert wrong_field.json()["field"] == "field_mappings"
        assert "not 'Total'" in wrong_field.json()["detail"]
        wrong_column = await browser.patch(
            url, json={"field_mappings": {"Name; DROP": "Reference"}}
        )
        assert wrong_column.status_code == 422
        assert "logical name" in wrong_column.json()["detail"]

        mapped = await browser.patch(url, json={"field_mappings": {"description": "Reference"}})
        assert mapped.status_code == 200, mapped.text
        assert mapped.json()["field_mappings"] == {"description": "Reference"}
        await eventually(lambda: len(bus.of(ConnectionChanged, created["id"])) == 2)
        profile = bus.of(ConnectionChanged, created["id"])[1].profile
        assert profile.field_mappings == {"description": "Reference"}
