"""What "faithful" means for the Dataverse Web API, as the connector and Microsoft's own
clients rely on it. Every assertion holds on a real organisation (the sources are named in
sandboxes/dynamics/README.md); those that must move time run on the sandbox only."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET

from tests.sandboxes.dynamics.conftest import Sandbox

from .conftest import Target, unique_name

GUID_LENGTH = 36
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _row_id(location: str) -> str:
    return location.rsplit("(", 1)[1].rstrip(")")


def test_who_am_i(dataverse: Target) -> None:
    body = dataverse.get("WhoAmI").json()
    for name in ("UserId", "BusinessUnitId", "OrganizationId"):
        assert len(body[name]) == GUID_LENGTH


def test_unsupported_query_parameters_are_refused(dataverse: Target) -> None:
    system = dataverse.get("accounts?$skip=1")
    assert system.status_code == 400
    assert system.json()["error"] == {
        "code": "0x80060888",
        "message": "The query parameter $skip is not supported",
    }
    custom = dataverse.get("accounts?utm_source=contract")
    assert custom.status_code == 400
    assert custom.json()["error"]["message"] == "The query parameter utm_source is not supported"


def test_boolean_literals_filter(dataverse: Target) -> None:
    enabled = dataverse.get("systemusers?$select=isdisabled&$filter=isdisabled eq false&$top=5")
    assert enabled.status_code == 200
    assert all(row["isdisabled"] is False for row in enabled.json()["value"])


def test_counts(dataverse: Target) -> None:
    name = unique_name()
    dataverse.create("accounts", {"name": name})
    dataverse.create("accounts", {"name": name})
    counted = dataverse.get(f"accounts?$select=name&$filter=name eq '{name}'&$count=true")
    assert counted.json()["@odata.count"] == 2
    plain = dataverse.get(f"accounts/$count?$filter=name eq '{name}'")
    assert plain.status_code == 200
    assert plain.text.strip().lstrip("\ufeff") == "2"


def test_fetch_xml_is_applied(dataverse: Target) -> None:
    prefix = unique_name()
    dataverse.create("accounts", {"name": f"{prefix}-a", "telephone1": "1"})
    dataverse.create("accounts", {"name": f"{prefix}-b", "telephone1": "2"})
    dataverse.create("accounts", {"name": f"other-{prefix}"})
    fetch = (
        "<fetch><entity name='account'><attribute name='name'/>"
        f"<filter><condition attribute='name' operator='like' value='{prefix}%'/></filter>"
        "<order attribute='name' descending='true'/></entity></fetch>"
    )
    rows = dataverse.get(f"accounts?fetchXml={fetch}").json()["value"]
    assert [r["name"] for r in rows] == [f"{prefix}-b", f"{prefix}-a"]
    assert "telephone1" not in rows[0]


def test_lambda_and_query_functions(dataverse: Target) -> None:
    name = unique_name()
    account = dataverse.create("accounts", {"name": name})
    dataverse.create(
        "contacts",
        {"lastname": name, "parentcustomerid_account@odata.bind": f"/accounts({_row_id(account)})"},
    )
    with_contact = dataverse.get(
        f"accounts?$select=name&$filter=contact_customer_accounts/any(c:c/lastname eq '{name}')"
    ).json()["value"]
    assert [r["name"] for r in with_contact] == [name]
    listed = dataverse.get(
        "accounts?$select=name&$filter=Microsoft.Dynamics.CRM.In("
        f"PropertyName='name',PropertyValues=['{name}','{unique_name()}'])"
    ).json()["value"]
    assert [r["name"] for r in listed] == [name]


def test_single_property(dataverse: Target) -> None:
    name = unique_name()
    account = dataverse.create("accounts", {"name": name})
    assert dataverse.get(f"{account}/name").json()["value"] == name
    assert dataverse.get(f"{account}/name/$value").text == name


def test_metadata_document(dataverse: Target) -> None:
    response = dataverse.get("$metadata", Accept="application/xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    account = next(t for t in root.iter(f"{EDM}EntityType") if t.get("Name") == "account")
    key = account.find(f"{EDM}Key/{EDM}PropertyRef")
    assert key is not None
    assert key.get("Name") == "accountid"
    sets = {s.get("Name") for s in root.iter(f"{EDM}EntitySet")}
    assert "accounts" in sets


def _batch(dataverse: Target, parts: list[str], prefer: str | None = None) -> tuple[int, str]:
    boundary = f"batch_{uuid.uuid4()}"
    body = "".join(f"--{boundary}\r\n{p}" for p in parts) + f"--{boundary}--\r\n"
    headers = {**dataverse.headers, "Content-Type": f"multipart/mixed; boundary={boundary}"}
    if prefer:
        headers["Prefer"] = prefer
    response = dataverse.http.post(dataverse.url("$batch"), content=body, headers=headers)
    return response.status_code, response.text


def _part(method: str, url: str, body: object, content_id: int | None = None) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id is not None:
        head += f"Content-ID: {content_id}\r\n"
    request = f"{method} {url} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
    return head + "\r\n" + request + json.dumps(body) + "\r\n"


def test_batch_answers_with_the_first_failure_without_continue_on_error(
    dataverse: Target,
) -> None:
    name = unique_name()
    parts = [
        _part("POST", dataverse.url("accounts"), {"nosuchcolumn": 1}),
        _part("POST", dataverse.url("accounts"), {"name": name}),
    ]
    status, text = _batch(dataverse, parts)
    assert status == 400
    assert "HTTP/1.1 400" in text
    assert dataverse.get(f"accounts?$select=name&$filter=name eq '{name}'").json()["value"] == []


def test_undeclared_content_id_is_refused(dataverse: Target) -> None:
    boundary = f"changeset_{uuid.uuid4()}"
    name = unique_name()
    inner = (
        f"--{boundary}\r\n"
        + _part(
            "POST",
            dataverse.url("contacts"),
            {"lastname": name, "parentcustomerid_account@odata.bind": "$1"},
            2,
        )
        + f"--{boundary}\r\n"
        + _part("POST", dataverse.url("accounts"), {"name": name}, 1)
        + f"--{boundary}--\r\n"
    )
    changeset = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{inner}"
    status, _ = _batch(dataverse, [changeset])
    assert status == 400
    assert dataverse.get(f"accounts?$select=name&$filter=name eq '{name}'").json()["value"] == []


def test_change_tracking_returns_new_rows(dataverse: Target) -> None:
    first = dataverse.get("accounts?$select=name", Prefer="odata.track-changes")
    assert "odata.track-changes" in first.headers["Preference-Applied"]
    delta = first.json()
    while "@odata.nextLink" in delta:
        delta = dataverse.get(delta["@odata.nextLink"]).json()
    name = unique_name()
    dataverse.create("accounts", {"name": name})
    changes = dataverse.get(delta["@odata.deltaLink"]).json()
    assert name in [row.get("name") for row in changes["value"]]


def test_expired_delta_token(dataverse: Target, sandbox_only: Sandbox) -> None:
    delta = dataverse.get("accounts?$select=name", Prefer="odata.track-changes").json()
    sandbox_only.clock.advance(8 * 86400)
    expired = sandbox_only.http.get(delta["@odata.deltaLink"], headers=sandbox_only.headers())
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == "0x80044352"
