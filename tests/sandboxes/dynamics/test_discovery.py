"""Global Discovery Service."""

from __future__ import annotations

from .conftest import Sandbox


def test_instances_lists_reachable_orgs(sandbox: Sandbox) -> None:
    sandbox.http.post(f"{sandbox.base}/sandbox-admin/orgs", json={"unique_name": "hidden"})
    code = sandbox.authorize(f"{sandbox.base}/user_impersonation")
    token = sandbox.redeem(code).json()["access_token"]
    body = sandbox.http.get(
        f"{sandbox.base}/api/discovery/v2.0/Instances", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert [i["UniqueName"] for i in body["value"]] == ["demo"]
    instance = body["value"][0]
    for field in (
        "Id",
        "UrlName",
        "FriendlyName",
        "State",
        "Version",
        "Region",
        "TenantId",
        "EnvironmentId",
        "LastUpdated",
        "Purpose",
        "OrganizationType",
    ):
        assert field in instance
    assert instance["Url"] == sandbox.org_url()
    assert instance["ApiUrl"] == sandbox.org_url()


def test_discovery_needs_a_discovery_token(sandbox: Sandbox) -> None:
    headers = sandbox.headers()
    response = sandbox.http.get(f"{sandbox.base}/api/discovery/v2.0/Instances", headers=headers)
    assert response.status_code == 401
