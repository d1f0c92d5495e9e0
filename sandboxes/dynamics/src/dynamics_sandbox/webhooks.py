"""Delivery of registered webhooks, as Dataverse's asynchronous service does it.

After an Update or Delete commits, every enabled asynchronous post-operation step registered on
that message and table (for Update: naming one of the columns the request set, when the step
has `filteringattributes`) gets the operation's RemoteExecutionContext POSTed, as JSON, to its
service endpoint, with the endpoint's authentication; the write that raised it never waits.
A delivery that fails (no answer, or an answer outside 2xx) is tried again after each of
`webhook_retry_delays_seconds`, then recorded as failed, as a system job is.

Sources (Microsoft Learn):
- Use webhooks to create external handlers for server events (the request: POST, JSON body,
  the `x-request-id`, `x-ms-dynamics-organization`, `x-ms-dynamics-entity-name`,
  `x-ms-dynamics-request-name` and `x-ms-correlation-request-id` headers; asynchronous steps
  run as system jobs): https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks
- Register a WebHook (HttpHeader: key/value pairs sent as headers; WebhookKey: `?code=`;
  HttpQueryString: key/value pairs as query parameters; the keys' `<settings><setting name=""
  value="" /></settings>` form): https://learn.microsoft.com/power-apps/developer/data-platform/register-web-hook
- RemoteExecutionContext (the body's members):
  https://learn.microsoft.com/dotnet/api/microsoft.xrm.sdk.remoteexecutioncontext
- Asynchronous service (system jobs retried after a failure):
  https://learn.microsoft.com/power-apps/developer/data-platform/asynchronous-service
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from xml.etree import ElementTree

import httpx
from sandbox_kit.clock import Clock

from .metadata import CHOICE_TYPES, Attribute, AttributeType, Entity
from .store.engine import ChangeEvent, TableEngine
from .store.registration import parse_filtering_attributes
from .store.values import EntityRef, Record, to_json

XRM = "http://schemas.microsoft.com/xrm/2011/Contracts"


class Organization(Protocol):
    """What a delivery needs of the organisation (`state.Organization`)."""

    unique_name: str
    id: uuid.UUID
    business_unit_id: uuid.UUID
    engine: TableEngine


WEBHOOK_KEY, HTTP_HEADER, HTTP_QUERY_STRING = 4, 5, 6
# The error a system job records when the endpoint's keys are not in the settings form.
INVALID_AUTH_VALUE = (
    "0x80050203",
    "The webhook call failed because of invalid http headers in authValue. Check if the "
    "authValue format, header names and values are valid for your Service Endpoint entity.",
)


def _json_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


def _reference(ref: EntityRef) -> dict[str, Any]:
    return {
        "__type": f"EntityReference:{XRM}",
        "Id": str(ref.id),
        "KeyAttributes": [],
        "LogicalName": ref.entity,
        "Name": None,
        "RowVersion": None,
    }


def xrm_value(attribute: Attribute | None, value: Any) -> Any:
    """A column's value as the organisation service's data contract serialises it."""
    if isinstance(value, EntityRef):
        return _reference(value)
    if attribute is not None and attribute.type in CHOICE_TYPES and isinstance(value, int):
        return {"__type": f"OptionSetValue:{XRM}", "Value": value}
    if attribute is not None and attribute.type is AttributeType.MONEY and value is not None:
        return {"__type": f"Money:{XRM}", "Value": float(value)}
    if isinstance(value, datetime):
        return _json_date(value)
    if isinstance(value, uuid.UUID | Decimal):
        return to_json(value)
    return value


def xrm_entity(entity: Entity, record_id: uuid.UUID, values: Record) -> dict[str, Any]:
    return {
        "__type": f"Entity:{XRM}",
        "Attributes": [
            {"key": name, "value": xrm_value(entity.attribute(name), value)}
            for name, value in values.items()
        ],
        "EntityState": None,
        "FormattedValues": [],
        "Id": str(record_id),
        "KeyAttributes": [],
        "LogicalName": entity.logical_name,
        "RelatedEntities": [],
        "RowVersion": str(values.get("versionnumber") or ""),
    }


def remote_execution_context(
    org: Organization, event: ChangeEvent, step_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The body Dataverse posts: the operation's execution context."""
    target: dict[str, Any] = (
        _reference(EntityRef(event.entity.logical_name, event.record_id))
        if event.message == "Delete"
        else xrm_entity(
            event.entity,
            event.record_id,
            {event.entity.primary_id: event.record_id, **event.target},
        )
    )
    user = str(event.actor.id) if event.actor else str(uuid.UUID(int=0))
    return {
        "BusinessUnitId": str(org.business_unit_id),
        "CorrelationId": str(uuid.uuid4()),
        "Depth": 1,
        "InitiatingUserAzureActiveDirectoryObjectId": str(uuid.UUID(int=0)),
        "InitiatingUserId": user,
        "InputParameters": [{"key": "Target", "value": target}],
        "IsExecutingOffline": False,
        "IsInTransaction": False,
        "IsOfflinePlayback": False,
        "IsolationMode": 1,
        "MessageName": event.message,
        "Mode": 1,
        "OperationCreatedOn": _json_date(now),
        "OperationId": str(uuid.uuid4()),
        "OrganizationId": str(org.id),
        "OrganizationName": org.unique_name,
        "OutputParameters": [],
        "OwningExtension": _reference(EntityRef("sdkmessageprocessingstep", step_id)),
        "ParentContext": None,
        # Step images (sdkmessageprocessingstepimage) are not emulated: none are sent.
        "PostEntityImages": [],
        "PreEntityImages": [],
        "PrimaryEntityId": str(event.record_id),
        "PrimaryEntityName": event.entity.logical_name,
        "RequestId": str(uuid.uuid4()),
        "SecondaryEntityName": "none",
        "SharedVariables": [],
        "Stage": 40,
        "UserAzureActiveDirectoryObjectId": str(uuid.UUID(int=0)),
        "UserId": user,
    }


def auth_pairs(value: object) -> dict[str, str] | None:
    """`<settings><setting name="k" value="v" /></settings>` → {k: v}; None when malformed."""
    try:
        root = ElementTree.fromstring(str(value or ""))
    except ElementTree.ParseError:
        return None
    if root.tag != "settings":
        return None
    pairs = {s.get("name") or "": s.get("value") or "" for s in root.iter("setting")}
    return pairs if pairs and "" not in pairs else None


@dataclass
class Delivery:
    id: uuid.UUID
    org: str
    step_id: uuid.UUID
    url: str
    message: str
    entity: str
    record_id: uuid.UUID
    state: str = "pending"  # pending -> succeeded | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "org": self.org,
            "step_id": str(self.step_id),
            "url": self.url,
            "message": self.message,
            "entity": self.entity,
            "record_id": str(self.record_id),
            "state": self.state,
            "attempts": self.attempts,
        }


@dataclass
class Request:
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


class WebhookDispatcher:
    def __init__(
        self,
        clock: Clock,
        *,
        retry_delays: list[float],
        timeout_seconds: float,
        concurrency: int,
    ) -> None:
        self._clock = clock
        self._retry_delays = retry_delays
        self._timeout = timeout_seconds
        self._concurrency = concurrency
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries: list[Delivery] = []

    def clear(self) -> None:
        self.deliveries.clear()

    def on_change(self, org: Organization, event: ChangeEvent) -> None:
        """Called after a write commits: start a delivery for each step it matches."""
        for step, endpoint in _matching_steps(org, event):
            request = _request(org, event, step, endpoint, self._clock.now())
            delivery = Delivery(
                uuid.uuid4(),
                org.unique_name,
                step["sdkmessageprocessingstepid"],
                str(endpoint.get("url")),
                event.message,
                event.entity.logical_name,
                event.record_id,
            )
            self.deliveries.append(delivery)
            if request is None:
                code, message = INVALID_AUTH_VALUE
                delivery.attempts.append({"error": f"{code}: {message}"})
                delivery.state = "failed"
                continue
            task = asyncio.get_running_loop().create_task(self._deliver(delivery, request))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery, request: Request) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        for delay in [*self._retry_delays, None]:
            async with self._slots:
                outcome = await self._post(request)
            delivery.attempts.append({"at": self._clock.now().isoformat(), **outcome})
            if 200 <= int(outcome.get("status") or 0) < 300:
                delivery.state = "succeeded"
                return
            if delay is None:
                delivery.state = "failed"
                return
            await asyncio.sleep(delay)

    async def _post(self, request: Request) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(
                    request.url, params=request.params, headers=request.headers, json=request.body
                )
        except httpx.HTTPError as error:
            return {"error": type(error).__name__}
        return {"status": response.status_code}


def _matching_steps(org: Organization, event: ChangeEvent) -> list[tuple[Record, Record]]:
    engine = org.engine
    schema = engine.schema
    found: list[tuple[Record, Record]] = []
    for step in engine.rows(schema.entity("sdkmessageprocessingstep")):
        if step.get("statecode") != 0:
            continue
        message = engine.find(schema.entity("sdkmessage"), step["sdkmessageid"].id) or {}
        table = engine.find(schema.entity("sdkmessagefilter"), step["sdkmessagefilterid"].id)
        if (
            message.get("name") != event.message
            or (table or {}).get("primaryobjecttypecode") != event.entity.logical_name
        ):
            continue
        filtering = parse_filtering_attributes(step.get("filteringattributes"))
        if event.message == "Update" and filtering and not filtering & set(event.target):
            continue
        endpoint = engine.find(schema.entity("serviceendpoint"), step["eventhandler"].id)
        if endpoint is not None:
            found.append((step, endpoint))
    return found


def _request(
    org: Organization, event: ChangeEvent, step: Record, endpoint: Record, now: datetime
) -> Request | None:
    """The POST for one step; None when the endpoint's keys cannot be read."""
    body = remote_execution_context(org, event, step["sdkmessageprocessingstepid"], now)
    headers = {
        "x-request-id": body["RequestId"],
        "x-ms-correlation-request-id": body["CorrelationId"],
        "x-ms-dynamics-organization": org.unique_name,
        "x-ms-dynamics-entity-name": event.entity.logical_name,
        "x-ms-dynamics-request-name": event.message,
    }
    params: dict[str, str] = {}
    auth_type, auth_value = endpoint.get("authtype"), endpoint.get("authvalue")
    if auth_type == WEBHOOK_KEY:
        params["code"] = str(auth_value or "")
    else:
        pairs = auth_pairs(auth_value)
        if pairs is None:
            return None
        (headers if auth_type == HTTP_HEADER else params).update(pairs)
    return Request(str(endpoint["url"]), params, headers, body)
