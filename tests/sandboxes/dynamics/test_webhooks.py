"""Webhooks in the Dynamics sandbox: registered through the `serviceendpoints` and
`sdkmessageprocessingsteps` tables of the Web API, delivered after an Update or Delete of an
invoice as Dataverse's asynchronous service does it (RemoteExecutionContext, header auth,
retried on failure), unsupported options refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from tests.sandboxes.dynamics.conftest import Sandbox, make_sandbox
from tests.support.http_server import serve_in_thread
from tests.support.polling import eventually

SECRET_HEADER = "x-test-secret"


@dataclass
class Receiver:
    url: str
    failures_left: int = 0
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    state = Receiver("")

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        state.received.append((dict(request.headers), await request.json()))
        status = 503 if state.failures_left > 0 else 200
        state.failures_left -= 1
        state.answers.append(status)
        return Response(status_code=status)

    with serve_in_thread(app) as base:
        state.url = f"{base}/hook"
        yield state


@pytest.fixture
def fast_retries() -> Iterator[Sandbox]:
    yield from make_sandbox(webhook_retry_delays_seconds=[0.05, 0.05, 0.05])


def _id_of(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    return str(response.headers["OData-EntityId"]).rsplit("(", 1)[-1].rstrip(")")


def _one(sandbox: Sandbox, headers: dict[str, str], table: str, condition: str) -> str:
    response = sandbox.http.get(
        f"{sandbox.api()}/{table}s",
        headers=headers,
        params={"$select": f"{table}id", "$filter": condition},
    )
    assert response.status_code == 200, response.text
    rows = response.json()["value"]
    assert len(rows) == 1, rows
    return str(rows[0][f"{table}id"])


def _message_and_filter(sandbox: Sandbox, headers: dict[str, str], message: str) -> tuple[str, str]:
    message_id = _one(sandbox, headers, "sdkmessage", f"name eq '{message}'")
    filter_id = _one(
        sandbox,
        headers,
        "sdkmessagefilter",
        f"primaryobjecttypecode eq 'invoice' and _sdkmessageid_value eq {message_id}",
    )
    return message_id, filter_id


def _register(
    sandbox: Sandbox,
    headers: dict[str, str],
    url: str,
    *,
    filtering: str | None = "name,statecode",
    auth_value: str = f'<settings><setting name="{SECRET_HEADER}" value="s3cret" /></settings>',
) -> str:
    api = sandbox.api()
    endpoint = _id_of(
        sandbox.http.post(
            f"{api}/serviceendpoints",
            headers=headers,
            json={
                "name": "test hook",
                "url": url,
                "contract": 8,
                "authtype": 5,
                "authvalue": auth_value,
            },
        )
    )
    for message in ("Update", "Delete"):
        message_id, filter_id = _message_and_filter(sandbox, headers, message)
        body: dict[str, Any] = {
            "name": f"test hook: {message} of invoice",
            "mode": 1,
            "stage": 40,
            "rank": 1,
            "sdkmessageid@odata.bind": f"/sdkmessages({message_id})",
            "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({filter_id})",
            "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint})",
        }
        if message == "Update" and filtering:
            body["filteringattributes"] = filtering
        _id_of(sandbox.http.post(f"{api}/sdkmessageprocessingsteps", headers=headers, json=body))
    return endpoint


def _an_invoice(sandbox: Sandbox, headers: dict[str, str]) -> str:
    response = sandbox.http.get(
        f"{sandbox.api()}/invoices",
        headers=headers,
        params={"$select": "invoiceid", "$filter": "statecode eq 0", "$top": "1"},
    )
    return str(response.json()["value"][0]["invoiceid"])


async def test_an_update_touching_a_filtered_column_is_posted_with_its_context(
    dv: tuple[Sandbox, dict[str, str]], receiver: Receiver
) -> None:
    sandbox, headers = dv
    _register(sandbox, headers, receiver.url)
    invoice = _an_invoice(sandbox, headers)
    api = sandbox.api()

    # Not a filtered column: nothing is posted.
    patched = sandbox.http.patch(
        f"{api}/invoices({invoice})", headers=headers, json={"description": "no event"}
    )
    assert patched.status_code == 204, patched.text
    patched = sandbox.http.patch(
        f"{api}/invoices({invoice})", headers=headers, json={"name": "Ready", "statecode": 0}
    )
    assert patched.status_code == 204, patched.text
    await eventually(lambda: len(receiver.received) == 1)
    request_headers, context = receiver.received[0]
    assert request_headers[SECRET_HEADER] == "s3cret"
    assert request_headers["x-ms-dynamics-entity-name"] == "invoice"
    assert request_headers["x-ms-dynamics-request-name"] == "Update"
    assert context["MessageName"] == "Update"
    assert context["PrimaryEntityName"] == "invoice"
    assert context["PrimaryEntityId"] == invoice
    assert (context["Stage"], context["Mode"], context["Depth"]) == (40, 1, 1)
    org = sandbox.state.org("demo")
    assert org is not None
    assert context["OrganizationId"] == str(org.id)
    target = context["InputParameters"][0]
    assert target["key"] == "Target"
    attributes = {a["key"]: a["value"] for a in target["value"]["Attributes"]}
    assert attributes["name"] == "Ready"
    assert attributes["statecode"]["Value"] == 0
    assert "description" not in attributes
    assert context["PostEntityImages"] == []

    deleted = sandbox.http.delete(f"{api}/invoices({invoice})", headers=headers)
    assert deleted.status_code == 204, deleted.text
    await eventually(lambda: len(receiver.received) == 2)
    _, context = receiver.received[1]
    assert context["MessageName"] == "Delete"
    assert context["InputParameters"][0]["value"]["Id"] == invoice


async def test_a_failed_delivery_is_tried_again_until_the_endpoint_answers(
    fast_retries: Sandbox, receiver: Receiver
) -> None:
    sandbox = fast_retries
    headers = sandbox.headers()
    _register(sandbox, headers, receiver.url, filtering=None)
    receiver.failures_left = 2
    invoice = _an_invoice(sandbox, headers)
    sandbox.http.patch(
        f"{sandbox.api()}/invoices({invoice})", headers=headers, json={"description": "retry me"}
    )
    await eventually(lambda: receiver.answers == [503, 503, 200])

    def deliveries() -> list[dict[str, Any]]:
        url = f"{sandbox.base}/sandbox-admin/orgs/demo/webhook-deliveries"
        found: list[dict[str, Any]] = sandbox.http.get(url).json()
        return found

    await eventually(lambda: [d["state"] for d in deliveries()] == ["succeeded"])
    assert [a["status"] for a in deliveries()[0]["attempts"]] == [503, 503, 200]


async def test_keys_not_in_the_settings_form_fail_the_job_as_dataverse_does(
    dv: tuple[Sandbox, dict[str, str]], receiver: Receiver
) -> None:
    sandbox, headers = dv
    _register(sandbox, headers, receiver.url, filtering=None, auth_value="x-test-secret: s3cret")
    invoice = _an_invoice(sandbox, headers)
    sandbox.http.patch(
        f"{sandbox.api()}/invoices({invoice})", headers=headers, json={"description": "x"}
    )
    deliveries = sandbox.http.get(
        f"{sandbox.base}/sandbox-admin/orgs/demo/webhook-deliveries"
    ).json()
    assert [d["state"] for d in deliveries] == ["failed"]
    assert deliveries[0]["attempts"][0]["error"].startswith("0x80050203")
    assert receiver.received == []


@pytest.mark.parametrize(
    ("table", "body", "words"),
    [
        ("serviceendpoints", {"contract": 1}, "contract 1 is not emulated"),
        ("serviceendpoints", {"authtype": 2}, "WebhookKey (4), HttpHeader (5)"),
        ("sdkmessageprocessingsteps", {"mode": 0}, "synchronous step"),
        ("sdkmessageprocessingsteps", {"stage": 20}, "stage 20"),
        ("sdkmessageprocessingsteps", {"filteringattributes": "nosuchcolumn"}, "nosuchcolumn"),
    ],
)
def test_unsupported_registrations_are_refused(
    dv: tuple[Sandbox, dict[str, str]], table: str, body: dict[str, Any], words: str
) -> None:
    sandbox, headers = dv
    endpoint = _register(sandbox, headers, "https://example.test/hook", filtering="statecode")
    message, message_filter = _message_and_filter(sandbox, headers, "Update")
    bases: dict[str, dict[str, Any]] = {
        "serviceendpoints": {
            "name": "x",
            "url": "https://example.test/x",
            "contract": 8,
            "authtype": 5,
            "authvalue": '<settings><setting name="a" value="b" /></settings>',
        },
        "sdkmessageprocessingsteps": {
            "name": "x",
            "mode": 1,
            "stage": 40,
            "rank": 1,
            "sdkmessageid@odata.bind": f"/sdkmessages({message})",
            "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({message_filter})",
            "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint})",
        },
    }
    response = sandbox.http.post(
        f"{sandbox.api()}/{table}", headers=headers, json=bases[table] | body
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "0x80040203"
    assert words in error["message"]


def test_the_keys_are_never_read_back(dv: tuple[Sandbox, dict[str, str]]) -> None:
    sandbox, headers = dv
    endpoint = _register(sandbox, headers, "https://example.test/hook", filtering=None)
    row = sandbox.http.get(f"{sandbox.api()}/serviceendpoints({endpoint})", headers=headers)
    assert row.status_code == 200, row.text
    assert "authvalue" not in row.json()
    assert row.json()["contract"] == 8
