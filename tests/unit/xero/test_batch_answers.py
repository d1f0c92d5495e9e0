"""How the Xero client reads each element of a batch write's answer: the typed document Xero
answered, and its validation errors. Xero's answer is served by httpx's MockTransport (the
client itself is not replaced)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.xero.documents import InvoiceStatus

pytestmark = pytest.mark.unit

Json = dict[str, Any]


async def _answer(element: Json) -> tuple[str | None, InvoiceStatus | None, list[str]]:
    def xero(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"Invoices": [element]})

    async def access_token() -> str:
        return "token"

    async with httpx.AsyncClient(transport=httpx.MockTransport(xero)) as http:
        client = XeroAccountingClient(
            http, base_url="https://xero.test", tenant_id="t-1", access_token=access_token
        )
        [result] = await client.create_invoices([{}], idempotency_key="k")
    return result.element.invoice_id, result.element.status, result.errors


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ({"InvoiceID": "x-1", "Status": "DRAFT"}, ("x-1", InvoiceStatus.DRAFT, [])),
        (
            {"HasErrors": True, "ValidationErrors": [{"Message": "Account code '9' is unknown"}]},
            (None, None, ["Account code '9' is unknown"]),
        ),
        ({"HasErrors": True}, (None, None, ["Xero reported an error without a message"])),
        (
            # A refused element echoes what was sent, which need not be a valid document.
            {"Status": "NOT A STATUS", "ValidationErrors": [{"Message": "Status is not valid"}]},
            (None, None, ["Status is not valid"]),
        ),
    ],
    ids=["created", "refused", "refused without words", "refused, echoing nonsense"],
)
async def test_each_element_is_a_typed_document_with_its_errors(
    element: Json, expected: tuple[str | None, InvoiceStatus | None, list[str]]
) -> None:
    assert await _answer(element) == expected


async def test_an_accepted_element_that_is_not_a_document_is_an_error() -> None:
    with pytest.raises(ValueError, match="Status"):
        await _answer({"InvoiceID": "x-1", "Status": "NOT A STATUS"})
