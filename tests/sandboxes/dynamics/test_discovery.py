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


def test_one_instance_by_unique_name_or_id(sandbox: Sandbox) -> None:
    code = sandbox.authorize(f"{sandbox.base}/user_impersonation")
    headers = {"Authorization": f"Bearer {sandbox.redeem(code).json()['access_token']}"}
    discovery = f"{sandbox.base}/api/discovery/v2.0"
    by_name = sandbox.http.get(f"{discovery}/Instances(UniqueName='demo')", headers=headers)
    assert by_name.status_code == 200
    assert by_name.json()["UniqueName"] == "demo"
    assert by_name.json()["@odata.context"].endswith("$metadata#Instances/$entity")
    by_id = sandbox.http.get(f"{discovery}/Instances({by_name.json()['Id']})", headers=headers)
    assert by_id.json()["UniqueName"] == "demo"
    missing = sandbox.http.get(f"{discovery}/Instances(UniqueName='nope')", headers=headers)
    assert missing.status_code == 404
