"""The tables through which a webhook is registered: `serviceendpoint` (where and how to post),
`sdkmessage` and `sdkmessagefilter` (which message on which table) and
`sdkmessageprocessingstep` (the step that ties them together), with their real logical names,
navigation properties and choices.

Sources (Microsoft Learn):
- Register a WebHook: https://learn.microsoft.com/power-apps/developer/data-platform/register-web-hook
  (registrations are `serviceendpoint` rows with Contract 8; HttpHeader / WebhookKey /
  HttpQueryString authentication)
- ServiceEndpoint table reference:
  https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/serviceendpoint
- SdkMessageProcessingStep table reference:
  https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/sdkmessageprocessingstep
- SdkMessage / SdkMessageFilter table references:
  https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/sdkmessagefilter
"""

from __future__ import annotations

from .metadata import Attribute, AttributeType, Option, Relationship
from .standard_tables import _entity, _lookup, _string, add_system_columns
from .store.engine import TableEngine
from .store.schema import Schema

T = AttributeType

# ServiceEndpoint.Contract, .AuthType and .MessageFormat choices (ServiceEndpoint reference).
CONTRACTS = {
    1: "OneWay",
    2: "Queue",
    3: "Rest",
    4: "TwoWay",
    5: "Topic",
    6: "Queue_Persistent",
    7: "EventHub",
    8: "Webhook",
    9: "EventGrid",
    10: "ManagedDataLake",
    11: "ContainerStorage",
}
WEBHOOK = 8
AUTH_TYPES = {
    1: "ACS",
    2: "SASKey",
    3: "SASToken",
    4: "WebhookKey",
    5: "HttpHeader",
    6: "HttpQueryString",
    7: "ConnectionString",
    8: "AccessKey",
    9: "ManagedIdentity",
}
WEBHOOK_KEY, HTTP_HEADER, HTTP_QUERY_STRING = 4, 5, 6
MESSAGE_FORMATS = {1: "BinaryXML", 2: "Json", 3: "TextXML"}
# SdkMessageProcessingStep.Mode, .Stage and .SupportedDeployment (its table reference).
MODES = {0: "Synchronous", 1: "Asynchronous"}
ASYNCHRONOUS = 1
STAGES = {
    10: "Pre-validation",
    20: "Pre-operation",
    30: "Main Operation",
    40: "Post-operation",
}
POST_OPERATION = 40
DEPLOYMENTS = {0: "Server Only", 1: "Microsoft Dynamics 365 Client for Outlook Only", 2: "Both"}
# The messages and tables the sandbox can raise events for.
MESSAGES = ("Create", "Update", "Delete")
FILTERED_TABLES = ("invoice",)


def _choice(name: str, labels: dict[int, str], **kw: object) -> Attribute:
    options = [Option(value, label) for value, label in labels.items()]
    return Attribute(name, T.PICKLIST, options=options, **kw)  # type: ignore[arg-type]


def add_plugin_tables(schema: Schema) -> None:
    message = _entity(schema, "sdkmessage", "sdkmessages", "name", 4606, 256, "SdkMessage")
    add_system_columns(schema, message)

    message_filter = _entity(
        schema, "sdkmessagefilter", "sdkmessagefilters", "name", 4607, 256, "SdkMessageFilter"
    )
    message_filter.add(_string("primaryobjecttypecode", 100))
    _lookup(
        schema,
        message_filter,
        "sdkmessageid",
        "sdkmessage",
        "sdkmessageid_sdkmessagefilter",
        "sdkmessageid_sdkmessagefilter",
    )
    add_system_columns(schema, message_filter)

    endpoint = _entity(
        schema, "serviceendpoint", "serviceendpoints", "name", 4618, 256, "ServiceEndpoint"
    )
    endpoint.add(_string("url", 2000))
    endpoint.add(Attribute("description", T.MEMO, max_length=2000))
    endpoint.add(_choice("contract", CONTRACTS, required="SystemRequired"))
    endpoint.add(_choice("authtype", AUTH_TYPES))
    endpoint.add(_choice("messageformat", MESSAGE_FORMATS))
    # Not readable back (IsValidForRead false in the reference): the keys stay in Dataverse.
    endpoint.add(Attribute("authvalue", T.MEMO, max_length=4000, valid_for_read=False))
    add_system_columns(schema, endpoint)

    step = _entity(
        schema,
        "sdkmessageprocessingstep",
        "sdkmessageprocessingsteps",
        "name",
        4608,
        256,
        "SdkMessageProcessingStep",
    )
    step.add(_choice("mode", MODES, required="SystemRequired"))
    step.add(_choice("stage", STAGES, required="SystemRequired"))
    step.add(_choice("supporteddeployment", DEPLOYMENTS))
    step.add(Attribute("rank", T.INTEGER, required="SystemRequired"))
    step.add(_string("filteringattributes", 100000))
    step.add(Attribute("asyncautodelete", T.BOOLEAN))
    step.add(Attribute("description", T.MEMO, max_length=256))
    for attribute, target in (
        ("sdkmessageid", "sdkmessage"),
        ("sdkmessagefilterid", "sdkmessagefilter"),
    ):
        name = f"{attribute}_sdkmessageprocessingstep"
        _lookup(schema, step, attribute, target, name, name)
    # `eventhandler` points at a plug-in type or a service endpoint; only the latter is
    # emulated, so `eventhandler_plugintype@odata.bind` is refused as an unknown property.
    # Deleting the endpoint takes its steps with it (the connector deletes the steps first).
    schema.add_relationship(
        Relationship(
            schema_name="serviceendpoint_sdkmessageprocessingstep",
            referenced_entity="serviceendpoint",
            referencing_entity="sdkmessageprocessingstep",
            referencing_attribute="eventhandler",
            referenced_nav="serviceendpoint_sdkmessageprocessingstep",
            referencing_nav="eventhandler_serviceendpoint",
            cascade_delete="Cascade",
        ),
        Attribute("eventhandler", T.LOOKUP, targets=["serviceendpoint"], required="SystemRequired"),
    )
    step.add(
        Attribute(
            "statecode",
            T.STATE,
            required="SystemRequired",
            options=[
                Option(0, "Enabled", default_status=1),
                Option(1, "Disabled", default_status=2),
            ],
        )
    )
    step.add(
        Attribute(
            "statuscode",
            T.STATUS,
            options=[Option(1, "Enabled", state=0), Option(2, "Disabled", state=1)],
        )
    )
    add_system_columns(schema, step)


def seed_messages(engine: TableEngine) -> None:
    """The messages and filters every organisation has (for the tables the sandbox emulates
    events of)."""
    message_entity = engine.schema.entity("sdkmessage")
    filter_entity = engine.schema.entity("sdkmessagefilter")
    for name in MESSAGES:
        message = engine.create(message_entity, {"name": name}, trusted=True)
        for table in FILTERED_TABLES:
            engine.create(
                filter_entity,
                {
                    "name": f"{name} of {table}",
                    "primaryobjecttypecode": table,
                    "sdkmessageid@odata.bind": f"/sdkmessages({message['sdkmessageid']})",
                },
                trusted=True,
            )
