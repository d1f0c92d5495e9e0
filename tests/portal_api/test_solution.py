"""The connector's Dynamics solution from the portal: downloaded for an administrator to import
by hand (and recognised once imported), removed again, and removed when a connection is archived
with "remove from Dynamics"."""

from __future__ import annotations

import io
import zipfile

from dxc_shared.dynamics import solution
from dxc_shared.dynamics.installer import install, installed

from tests.portal_api.conftest import Portal
from tests.portal_api.test_install import connected
from tests.support.dynamics_sandbox import RunningDynamicsSandbox, demo_user_dataverse
from tests.support.solution_packages import older_package
from tests.support.xero_sandbox import XeroSandbox


async def test_a_solution_imported_by_hand_is_recognised_and_can_be_removed(
    portal: Portal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        download = await browser.get("/v1/dynamics/solution")
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/zip"
        assert solution.FILE_NAME in download.headers["content-disposition"]
        names = set(zipfile.ZipFile(io.BytesIO(download.content)).namelist())
        assert names == {"solution.xml", "customizations.xml", "[Content_Types].xml"}

        cid = await connected(browser, xero, dynamics)
        url = f"/v1/connections/{cid}"
        not_yet = await browser.post(f"{url}/refresh")
        assert not_yet.status_code == 409
        assert "Settings > Solutions > Import" in not_yet.json()["detail"]

        # The administrator imports a file downloaded earlier, an older release, by hand.
        async with demo_user_dataverse(dynamics) as client:
            await install(client, older_package(without_column="dxc_PaymentState"))
        recognised = await browser.post(f"{url}/refresh")
        assert recognised.status_code == 200, recognised.text
        assert recognised.json()["tables_installed"] is True
        steps = {s["key"]: s for s in (await browser.get(f"{url}/checklist")).json()["steps"]}
        assert steps["tables_installed"]["done"] is True
        upgraded = (await browser.post(f"{url}/dynamics/install")).json()
        assert (upgraded["action"], upgraded["previous_version"]) == ("upgraded", "0.9.0.0")
        assert (await browser.post(f"{url}/dynamics/install")).json()["action"] == "current"

        removed = await browser.delete(f"{url}/dynamics/install")
        assert removed.json() == {"removed": True}
        assert (await browser.get(url)).json()["tables_installed"] is False
        async with demo_user_dataverse(dynamics) as client:
            assert await installed(client) is None


async def test_archiving_with_remove_from_dynamics_deletes_the_solution(
    portal: Portal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        cid = await connected(browser, xero, dynamics)
        url = f"/v1/connections/{cid}"
        assert (await browser.post(f"{url}/dynamics/install")).status_code == 200

        archived = await browser.delete(url, params={"remove_from_dynamics": "true"})

        assert archived.status_code == 204, archived.text
        assert (await browser.get(url)).json()["status"] == "archived"
        async with demo_user_dataverse(dynamics) as client:
            assert await installed(client) is None
