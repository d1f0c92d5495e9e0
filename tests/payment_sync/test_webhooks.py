"""The webhook path: the Xero sandbox delivers its signed events to payment-sync over real HTTP;
valid ones reach Dynamics through the bus, badly signed ones are refused with 401."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from dxc_shared.clients.dataverse import JSON
from dxc_shared.dynamics import schema
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import XeroChangesNotified
from payment_sync.app import create_service
from payment_sync.webhooks.endpoints import MAX_BODY_BYTES
from payment_sync.webhooks.service import signature_of

from tests.payment_sync.conftest import WEBHOOK_KEY, Connection, PaymentSyncUnderTest, sample
from tests.support.polling import WITHIN
from tests.support.xero_sandbox import XeroSandbox

EVENTS = "dxc_payment_sync_webhook_events_total"


@pytest.fixture
def webhooks(xero: XeroSandbox, payment_sync: PaymentSyncUnderTest) -> Iterator[str]:
    """The Xero sandbox's webhook subscription points at payment-sync, signed with its key."""
    url = f"{payment_sync.url}/v1/webhooks/xero"
    xero.admin("PUT", "webhooks", json={"url": url, "key": WEBHOOK_KEY}).raise_for_status()
    yield url
    xero.admin("PUT", "webhooks", json={"url": None}).raise_for_status()


def delivery(tenant_id: str, invoice_id: str) -> bytes:
    return json.dumps(
        {
            "events": [
                {
                    "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
                    "resourceId": invoice_id,
                    "eventDateUtc": "2025-03-03T09:00:00.000",
                    "eventType": "UPDATE",
                    "eventCategory": "INVOICE",
                    "tenantId": tenant_id,
                    "tenantType": "ORGANISATION",
                }
            ],
            "firstEventSequence": 1,
            "lastEventSequence": 1,
            "entropy": "ABCDEFGHIJ0123456789",
        }
    ).encode()


async def post(url: str, body: bytes, signature: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "x-xero-signature": signature},
        )


async def until(connection: Connection, invoice_id: str, condition: Any) -> JSON:
    """The Dynamics invoice once `condition(row)` holds (fails after WITHIN s)."""
    deadline = time.monotonic() + WITHIN
    while True:
        row = await connection.dynamics_row(schema.INVOICE.entity_set, invoice_id)
        if condition(row):
            return row
        assert time.monotonic() < deadline, f"the invoice never got there: {row}"
        await asyncio.sleep(0.1)


async def test_a_payment_reaches_dynamics_through_the_webhook(
    connection: Connection, webhooks: str
) -> None:
    contact = connection.xero_contact("Adventure Works")
    invoice = connection.xero_invoice(contact, 80)
    account = await connection.dynamics_account("Adventure Works", contact)
    exported = await connection.exported_invoice(account, invoice)
    accepted = sample(EVENTS, {"result": "accepted"})

    connection.xero_payment(invoice["InvoiceID"], 92)  # no polling job is ever sent

    row = await until(connection, exported, lambda row: row["statecode"] == 2)
    assert (row["statuscode"], row["dxc_xerostatus"], row["dxc_amountdue"]) == (
        100001,
        "PAID",
        0.0,
    )
    deliveries = connection.xero.admin("GET", "webhooks/deliveries").json()
    assert {d["status"] for d in deliveries if d["url"] == webhooks} == {200}
    assert sample(EVENTS, {"result": "accepted"}) > accepted
    await connection.bus.next_run(connection.connection_id, "payments", after=0)
    runs = connection.bus.runs_of(connection.connection_id, "payments")
    assert all((run.failed, run.error) == (0, None) for run in runs)


async def test_xero_intent_to_receive_check_passes(xero: XeroSandbox, webhooks: str) -> None:
    check = xero.admin("POST", "webhooks/intent-to-receive").json()
    assert check == {
        "valid_signature_status": 200,
        "invalid_signature_status": 401,
        "passed": True,
    }


async def test_a_valid_signature_is_accepted_and_an_unknown_tenant_ignored(
    payment_sync: PaymentSyncUnderTest,
) -> None:
    url = f"{payment_sync.url}/v1/webhooks/xero"
    body = delivery("00000000-0000-0000-0000-00000000abcd", "11111111-2222-3333-4444-555555555555")
    unknown = sample(EVENTS, {"result": "unknown_tenant"})

    response = await post(url, body, signature_of(body, WEBHOOK_KEY))

    assert response.status_code == 200
    assert sample(EVENTS, {"result": "unknown_tenant"}) == unknown + 1


async def test_a_tampered_body_is_rejected(payment_sync: PaymentSyncUnderTest) -> None:
    url = f"{payment_sync.url}/v1/webhooks/xero"
    body = delivery("00000000-0000-0000-0000-00000000abcd", "11111111-2222-3333-4444-555555555555")
    signature = signature_of(body, WEBHOOK_KEY)
    tampered = body.replace(b"UPDATE", b"DELETE")
    rejected = sample(EVENTS, {"result": "rejected_signature"})

    response = await post(url, tampered, signature)

    assert response.status_code == 401
    assert response.content == b""
    assert sample(EVENTS, {"result": "rejected_signature"}) == rejected + 1


async def test_a_signature_made_with_another_key_is_rejected(
    payment_sync: PaymentSyncUnderTest,
) -> None:
    url = f"{payment_sync.url}/v1/webhooks/xero"
    body = delivery("00000000-0000-0000-0000-00000000abcd", "11111111-2222-3333-4444-555555555555")

    wrong_key = await post(url, body, signature_of(body, "not-the-webhook-key"))
    missing = await post(url, body, "")

    assert (wrong_key.status_code, wrong_key.content) == (401, b"")
    assert (missing.status_code, missing.content) == (401, b"")


async def test_a_signed_body_that_is_not_a_webhook_payload_is_a_400_in_words(
    payment_sync: PaymentSyncUnderTest,
) -> None:
    url = f"{payment_sync.url}/v1/webhooks/xero"
    body = b'{"event": "not a list"}'

    response = await post(url, body, signature_of(body, WEBHOOK_KEY))

    assert response.status_code == 400
    assert '"events" list was expected' in response.json()["detail"]


async def test_a_redelivered_notification_writes_nothing_twice(connection: Connection) -> None:
    contact = connection.xero_contact("Wide World Importers")
    invoice = connection.xero_invoice(contact, 40)
    account = await connection.dynamics_account("Wide World Importers", contact)
    exported = await connection.exported_invoice(account, invoice)
    connection.xero_payment(invoice["InvoiceID"], 10)
    notification = XeroChangesNotified(
        connection_id=connection.connection_id,
        tenant_id=connection.tenant_id,
        invoice_ids=[invoice["InvoiceID"]],
    )

    runs = len(connection.bus.runs_of(connection.connection_id, "payments"))
    await connection.bus.publish(notification)
    first = await connection.bus.next_run(connection.connection_id, "payments", after=runs)
    batches = await asyncio.to_thread(connection.dynamics_batches)
    await connection.bus.publish(notification)
    again = await connection.bus.next_run(connection.connection_id, "payments", after=runs + 1)

    assert (first.succeeded, first.failed) == (2, 0)  # the invoice and the account's balances
    assert (again.succeeded, again.failed, again.error) == (0, 0, None)
    assert await asyncio.to_thread(connection.dynamics_batches) == batches
    row = await connection.dynamics_row(schema.INVOICE.entity_set, exported)
    assert (row["statecode"], row["dxc_amountdue"]) == (0, 36.0)


@pytest.fixture
async def in_process(payment_sync: PaymentSyncUnderTest) -> AsyncIterator[httpx.AsyncClient]:
    """payment-sync's app called in process, where the test sees how much of a request body
    the app reads (httpx hands it over chunk by chunk, as asked for)."""
    settings = payment_sync.settings
    service = create_service(Infrastructure.from_settings(settings), settings)
    transport = httpx.ASGITransport(service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://payment-sync") as client:
        yield client
    await service.infrastructure.database.dispose()


async def test_an_oversized_body_is_refused_before_it_is_read_whole(
    in_process: httpx.AsyncClient,
) -> None:
    chunk = b" " * 65536
    total_chunks = 200 * 1024 * 1024 // len(chunk)  # 200 MiB, unsigned
    sent = 0

    async def streamed() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(total_chunks):
            sent += 1
            yield chunk

    rejected = sample(EVENTS, {"result": "rejected_size"})
    response = await in_process.post("/v1/webhooks/xero", content=streamed())

    assert response.status_code == 413
    assert sent * len(chunk) <= MAX_BODY_BYTES + 2 * len(chunk), "read past the cap"
    assert sample(EVENTS, {"result": "rejected_size"}) == rejected + 1

    announced = await in_process.post(
        "/v1/webhooks/xero",
        content=b"{}",
        headers={"Content-Length": str(MAX_BODY_BYTES + 1)},
    )
    assert announced.status_code == 413


async def test_a_body_at_the_cap_is_still_read(in_process: httpx.AsyncClient) -> None:
    body = b'{"events": []' + b" " * (MAX_BODY_BYTES - 14) + b"}"
    assert len(body) == MAX_BODY_BYTES

    response = await in_process.post(
        "/v1/webhooks/xero", content=body, headers={"x-xero-signature": "not it"}
    )

    assert response.status_code == 401  # read, then refused for its signature


async def test_a_deeply_nested_signed_body_is_a_400_not_a_500(
    payment_sync: PaymentSyncUnderTest,
) -> None:
    url = f"{payment_sync.url}/v1/webhooks/xero"
    deep = b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    nested_in_a_string = json.dumps({"events": [], "note": "[" * 1000}).encode()

    response = await post(url, deep, signature_of(deep, WEBHOOK_KEY))
    in_a_string = await post(url, nested_in_a_string, signature_of(nested_in_a_string, WEBHOOK_KEY))

    assert response.status_code == 400
    assert "nested at most" in response.json()["detail"]
    assert in_a_string.status_code == 200  # brackets inside a string are not nesting
