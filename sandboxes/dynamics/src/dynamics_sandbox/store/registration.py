"""What Dataverse checks when a webhook is registered, and what the sandbox does not emulate
(refused, never ignored): see `plugin_tables.py` for the tables and their sources.

- ServiceEndpoint: only Contract 8 (Webhook) is emulated; a webhook authenticates with
  WebhookKey, HttpHeader or HttpQueryString ("Register a WebHook",
  https://learn.microsoft.com/power-apps/developer/data-platform/register-web-hook) and posts
  JSON ("Use webhooks to create external handlers for server events",
  https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks).
- SdkMessageProcessingStep: only asynchronous (Mode 1) post-operation (Stage 40) steps on the
  server (SupportedDeployment 0) are emulated; the step's filter must belong to its message;
  filtering attributes apply to Update only and must be columns of the filter's table
  (SdkMessageProcessingStep table reference,
  https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/sdkmessageprocessingstep).
"""

from __future__ import annotations

import uuid
from typing import Protocol
from urllib.parse import urlsplit

from ..errors import INVALID_ARGUMENT, DataverseError
from ..metadata import Entity
from .schema import Schema
from .values import EntityRef, Record

WEBHOOK_CONTRACT = 8
WEBHOOK_AUTH_TYPES = frozenset({4, 5, 6})  # WebhookKey, HttpHeader, HttpQueryString
JSON_FORMAT = 2
ASYNCHRONOUS = 1
POST_OPERATION = 40
SERVER_ONLY = 0


class Rows(Protocol):
    schema: Schema

    def find(self, entity: Entity, record_id: uuid.UUID) -> Record | None: ...


def _refuse(message: str) -> DataverseError:
    return DataverseError(400, INVALID_ARGUMENT, message)


def _not_emulated(what: str) -> DataverseError:
    return _refuse(f"{what} is not emulated by the sandbox.")


def check(engine: Rows, entity: Entity, record: Record) -> None:
    if entity.logical_name == "serviceendpoint":
        check_endpoint(record)
    elif entity.logical_name == "sdkmessageprocessingstep":
        check_step(engine, record)


def check_endpoint(record: Record) -> None:
    if record.get("contract") != WEBHOOK_CONTRACT:
        raise _not_emulated(f"A service endpoint with contract {record.get('contract')}")
    if record.get("authtype") not in WEBHOOK_AUTH_TYPES:
        raise _refuse(
            "A Webhook service endpoint authenticates with WebhookKey (4), HttpHeader (5) or "
            "HttpQueryString (6)."
        )
    if record.get("messageformat") not in (None, JSON_FORMAT):
        raise _not_emulated(f"Message format {record['messageformat']} for a Webhook")
    url = urlsplit(str(record.get("url") or ""))
    if url.scheme not in ("http", "https") or not url.netloc:
        raise _refuse("A Webhook service endpoint needs an absolute http or https url.")


def check_step(engine: Rows, record: Record) -> None:
    if record.get("mode") != ASYNCHRONOUS:
        raise _not_emulated("A synchronous step (mode 0)")
    if record.get("stage") != POST_OPERATION:
        raise _not_emulated(f"A step in stage {record.get('stage')} (only 40, post-operation,")
    if record.get("supporteddeployment") not in (None, SERVER_ONLY):
        raise _not_emulated("A step for the Outlook client")
    message, message_filter = record.get("sdkmessageid"), record.get("sdkmessagefilterid")
    if not isinstance(message, EntityRef):
        raise _refuse("Attribute 'sdkmessageid' cannot be NULL.")
    if not isinstance(message_filter, EntityRef):
        raise _not_emulated("A step without a table (sdkmessagefilterid)")
    filter_row = engine.find(engine.schema.entity("sdkmessagefilter"), message_filter.id) or {}
    if filter_row.get("sdkmessageid") != message:
        raise _refuse("The step's sdkmessagefilterid belongs to another message.")
    attributes = parse_filtering_attributes(record.get("filteringattributes"))
    if not attributes:
        return
    message_row = engine.find(engine.schema.entity("sdkmessage"), message.id) or {}
    if message_row.get("name") != "Update":
        raise _refuse("Filtering attributes apply to the Update message only.")
    table = engine.schema.entity(str(filter_row.get("primaryobjecttypecode")))
    unknown = sorted(a for a in attributes if a not in table.attributes)
    if unknown:
        raise _refuse(f"{', '.join(unknown)}: not a column of {table.logical_name}.")


def parse_filtering_attributes(value: object) -> frozenset[str]:
    """`filteringattributes`: comma-separated logical names (empty: every column)."""
    if not isinstance(value, str):
        return frozenset()
    return frozenset(name.strip() for name in value.split(",") if name.strip())
