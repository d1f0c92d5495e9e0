"""Change tracking with delta links."""

from __future__ import annotations

from .conftest import Sandbox
from .test_metadata import CONNECTOR_TABLE

Dv = tuple[Sandbox, dict[str, str]]


def test_delta_link_returns_changes_and_deletions(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    first = sandbox.http.get(
        f"{api}/accounts?$select=name", headers={**headers, "Prefer": "odata.track-changes"}
    )
    assert first.status_code == 200
    assert "odata.track-changes" in first.headers["Preference-Applied"]
    body = first.json()
    assert len(body["value"]) == 5
    delta = body["@odata.deltaLink"]
    assert "$deltatoken=" in delta
    created = sandbox.http.post(
        f"{api}/accounts", json={"name": "Newcomer"}, headers=headers
    ).headers["OData-EntityId"]
    changed_id = body["value"][0]["accountid"]
    sandbox.http.patch(f"{api}/accounts({changed_id})", json={"name": "Renamed"}, headers=headers)
    doomed = body["value"][1]["accountid"]
    # Invoices point at this account, so delete a fresh one instead.
    temp = sandbox.http.post(f"{api}/accounts", json={"name": "Temp"}, headers=headers).headers[
        "OData-EntityId"
    ]
    sandbox.http.delete(temp, headers=headers)
    changes = sandbox.http.get(delta, headers=headers).json()
    names = [r.get("name") for r in changes["value"] if "name" in r]
    assert names == ["Newcomer", "Renamed"]
    deleted = [r for r in changes["value"] if r.get("reason") == "deleted"]
    assert [d["id"] for d in deleted] == [temp.rsplit("(", 1)[1].rstrip(")")]
    assert deleted[0]["@odata.context"].endswith("/$metadata#accounts/$deletedEntity")
    assert changes["@odata.context"].endswith("/$delta")
    assert doomed
    assert created
    empty = sandbox.http.get(changes["@odata.deltaLink"], headers=headers).json()
    assert empty["value"] == []


def test_initial_sync_pages_then_gives_delta_link(dv: Dv) -> None:
    sandbox, headers = dv
    prefer = {**headers, "Prefer": "odata.track-changes,odata.maxpagesize=2"}
    body = sandbox.http.get(f"{sandbox.api()}/accounts?$select=name", headers=prefer).json()
    seen = len(body["value"])
    while "@odata.nextLink" in body:
        assert "@odata.deltaLink" not in body
        body = sandbox.http.get(
            body["@odata.nextLink"], headers={**headers, "Prefer": "odata.maxpagesize=2"}
        ).json()
        seen += len(body["value"])
    assert seen == 5
    assert "@odata.deltaLink" in body


def test_filter_and_expand_rejected_and_tables_must_opt_in(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    track = {**headers, "Prefer": "odata.track-changes"}
    for query in ("$filter=name eq 'x'", "$expand=primarycontactid", "$orderby=name", "$top=1"):
        response = sandbox.http.get(f"{api}/accounts?$select=name&{query}", headers=track)
        assert response.status_code == 400
        assert (
            "isn't supported when Change Tracking is enabled" in response.json()["error"]["message"]
        )
    untracked = {**CONNECTOR_TABLE, "SchemaName": "dxc_Untracked", "ChangeTrackingEnabled": False}
    sandbox.http.post(f"{api}/EntityDefinitions", json=untracked, headers=headers)
    assert sandbox.http.get(f"{api}/dxc_untrackeds", headers=track).status_code == 400


def _delta_link(sandbox: Sandbox, headers: dict[str, str]) -> str:
    first = sandbox.http.get(
        f"{sandbox.api()}/accounts?$select=name",
        headers={**headers, "Prefer": "odata.track-changes"},
    )
    link: str = first.json()["@odata.deltaLink"]
    return link


def test_delta_token_expires_after_the_retention_period(dv: Dv) -> None:
    sandbox, headers = dv
    delta = _delta_link(sandbox, headers)
    sandbox.clock.advance(7 * 86400)
    headers = sandbox.headers()  # the access token has expired meanwhile
    assert sandbox.http.get(delta, headers=headers).status_code == 200
    sandbox.clock.advance(1)
    expired = sandbox.http.get(delta, headers=headers)
    assert expired.status_code == 400
    assert expired.json()["error"] == {
        "code": "0x80044352",
        "message": "Version stamp associated with the client has expired. Please perform a "
        "full sync.",
    }


def test_retention_is_the_organisations_setting(dv: Dv) -> None:
    sandbox, headers = dv
    answer = sandbox.http.put(
        f"{sandbox.base}/sandbox-admin/orgs/demo/change-tracking", json={"expire_in_days": 1}
    )
    assert answer.status_code == 200
    delta = _delta_link(sandbox, headers)
    sandbox.clock.advance(86400 + 1)
    assert (
        sandbox.http.get(delta, headers=sandbox.headers()).json()["error"]["code"] == "0x80044352"
    )
