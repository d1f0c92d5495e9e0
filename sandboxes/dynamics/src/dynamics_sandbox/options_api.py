"""``InsertOptionValue``: a new choice on an existing local choice column, as a solution upgrade
adds one (Microsoft Learn, Web API reference, "InsertOptionValue Action":
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/insertoptionvalue;
answered with ``InsertOptionValueResponse``, whose ``NewOptionValue`` is the option's value)."""

from __future__ import annotations

from .api_messages import ApiRequest, ApiResponse
from .errors import INVALID_ARGUMENT, METADATA_DUPLICATE, DataverseError, bad_request
from .metadata import AttributeType, Option, label_text
from .webapi import WebApi


def insert_option_value(api: WebApi, request: ApiRequest) -> ApiResponse:
    if request.method != "POST":
        raise DataverseError(405, "0x80060888", "InsertOptionValue is an action: use POST.")
    api.require_customization("prvWriteAttribute")
    body = request.json()
    if body.get("OptionSetName"):
        raise bad_request("Global choices are not supported by the sandbox.", INVALID_ARGUMENT)
    entity_name = str(body.get("EntityLogicalName") or "").lower()
    entity = api.schema.entities.get(entity_name)
    attribute_name = str(body.get("AttributeLogicalName") or "").lower()
    attribute = entity.attributes.get(attribute_name) if entity is not None else None
    if attribute is None or attribute.type is not AttributeType.PICKLIST:
        raise DataverseError(
            404,
            "0x80040217",
            f"Could not find a choice column '{attribute_name}' on entity '{entity_name}'.",
        )
    taken = {option.value for option in attribute.options}
    value = body.get("Value")
    if value is None:  # Dataverse numbers it after the column's highest value
        value = max(taken, default=99_999_999) + 1
    if not isinstance(value, int):
        raise bad_request("Value must be an integer.", INVALID_ARGUMENT)
    if value in taken:
        raise DataverseError(
            400, METADATA_DUPLICATE, f"An option with the value {value} already exists."
        )
    attribute.options.append(Option(value, label_text(body.get("Label"), str(value))))
    return ApiResponse(200, {"NewOptionValue": value})
