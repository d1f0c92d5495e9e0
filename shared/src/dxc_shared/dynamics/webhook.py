"""Register (and remove) the connector's Dataverse webhook: Dynamics tells the connector at once
when an invoice is handed over, changes export status or is cancelled or deleted, instead of
waiting for the next poll.

One `serviceendpoint` per connection (Contract 8, Webhook; AuthType 5, HttpHeader: the
connection's secret travels in `PUSH_SECRET_HEADER`) and two asynchronous (Mode 1)
post-operation (Stage 40) `sdkmessageprocessingstep`s on the invoice table: Update, filtered to
`PUSH_COLUMNS`, and Delete. Registering again updates the endpoint's URL and secret in place and
adds what is missing, so a re-install rotates the secret.

Microsoft Learn: "Register a WebHook" (power-apps/developer/data-platform/register-web-hook),
"Use webhooks to create external handlers for server events" (.../use-webhooks), and the
ServiceEndpoint and SdkMessageProcessingStep table references (.../reference/entities/...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from dxc_shared.clients.dataverse import DataverseClient, odata_literal
from dxc_shared.dynamics.columns import Common, InvoiceColumns
from dxc_shared.dynamics.schema import INVOICE, INVOICE_CONNECTOR

PUSH_SECRET_HEADER = "x-dxc-push-secret"
WEBHOOK_CONTRACT = 8
HTTP_HEADER_AUTH = 5
ASYNCHRONOUS = 1
POST_OPERATION = 40
# The invoice columns whose change can make an invoice ready (handed to the connector, export
# status back to No, reactivated), or cancel an exported one (its state).
PUSH_COLUMNS = (INVOICE_CONNECTOR.logical_name, InvoiceColumns.EXPORT_STATUS, Common.STATE)
MESSAGES = ("Update", "Delete")
_ENDPOINTS = "serviceendpoints"
_STEPS = "sdkmessageprocessingsteps"


@dataclass
class Registration:
    endpoint_id: str
    step_ids: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def endpoint_name(connection_id: str) -> str:
    return f"dx-connector push {connection_id}"


def auth_value(secret: str) -> str:
    """HttpHeader keys in the form Dataverse reads: `<settings><setting name= value= />`."""
    name, value = quoteattr(PUSH_SECRET_HEADER), quoteattr(secret)
    return f"<settings><setting name={name} value={value} /></settings>"


async def _endpoint_id(client: DataverseClient, name: str) -> str | None:
    rows = await client.query(
        _ENDPOINTS,
        select=["serviceendpointid"],
        filter=f"name eq {odata_literal(name)} and contract eq {WEBHOOK_CONTRACT}",
        top=1,
    )
    return str(rows[0]["serviceendpointid"]) if rows else None


async def _steps_of(client: DataverseClient, endpoint_id: str) -> dict[str, str]:
    rows = await client.query(
        _STEPS,
        select=["sdkmessageprocessingstepid", "name"],
        filter=f"_eventhandler_value eq {endpoint_id}",
    )
    return {str(row["name"]): str(row["sdkmessageprocessingstepid"]) for row in rows}


async def _message_and_filter(client: DataverseClient, message: str) -> tuple[str, str]:
    messages = await client.query(
        "sdkmessages", select=["sdkmessageid"], filter=f"name eq {odata_literal(message)}", top=1
    )
    message_id = str(messages[0]["sdkmessageid"])
    filters = await client.query(
        "sdkmessagefilters",
        select=["sdkmessagefilterid"],
        filter=f"primaryobjecttypecode eq {odata_literal(INVOICE.logical_name)} "
        f"and _sdkmessageid_value eq {message_id}",
        top=1,
    )
    return message_id, str(filters[0]["sdkmessagefilterid"])


async def register(
    client: DataverseClient, *, connection_id: str, url: str, secret: str
) -> Registration:
    name = endpoint_name(connection_id)
    endpoint = {
        "name": name,
        "url": url,
        "contract": WEBHOOK_CONTRACT,
        "authtype": HTTP_HEADER_AUTH,
        "authvalue": auth_value(secret),
        "description": "dx-connector: invoice changes, pushed so they reach Xero in seconds",
    }
    registration = Registration(endpoint_id=await _endpoint_id(client, name) or "")
    if registration.endpoint_id:
        await client.update(_ENDPOINTS, registration.endpoint_id, endpoint)
    else:
        registration.endpoint_id = await client.create(_ENDPOINTS, endpoint)
        registration.created.append(name)
    existing = await _steps_of(client, registration.endpoint_id)
    for message in MESSAGES:
        step_name = f"{name}: {message} of {INVOICE.logical_name}"
        step: dict[str, object] = {
            "filteringattributes": ",".join(PUSH_COLUMNS) if message == "Update" else None
        }
        if step_name in existing:
            await client.update(_STEPS, existing[step_name], step)
            registration.step_ids.append(existing[step_name])
            continue
        message_id, filter_id = await _message_and_filter(client, message)
        step |= {
            "name": step_name,
            "mode": ASYNCHRONOUS,
            "stage": POST_OPERATION,
            "rank": 1,
            "supporteddeployment": 0,
            "asyncautodelete": True,
            "sdkmessageid@odata.bind": f"/sdkmessages({message_id})",
            "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({filter_id})",
            "eventhandler_serviceendpoint@odata.bind": (
                f"/{_ENDPOINTS}({registration.endpoint_id})"
            ),
        }
        registration.step_ids.append(await client.create(_STEPS, step))
        registration.created.append(step_name)
    return registration


async def unregister(client: DataverseClient, *, connection_id: str) -> bool:
    """Remove the steps, then the endpoint; False when nothing was registered."""
    endpoint_id = await _endpoint_id(client, endpoint_name(connection_id))
    if endpoint_id is None:
        return False
    for step_id in (await _steps_of(client, endpoint_id)).values():
        await client.request(
            "DELETE", f"{_STEPS}({step_id})", operation="delete_step", allow_not_found=True
        )
    await client.request(
        "DELETE", f"{_ENDPOINTS}({endpoint_id})", operation="delete_endpoint", allow_not_found=True
    )
    return True
