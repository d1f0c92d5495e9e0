"""Which part of the Web API answers a request: ``$batch``, WhoAmI, the metadata endpoints,
change tracking, or a table's records. ``$batch`` runs its parts back through `handle`."""

from __future__ import annotations

import re

from . import batch, changetracking, metadata_api
from .api_messages import ApiRequest, ApiResponse, error_response
from .errors import DataverseError, bad_request
from .webapi import WebApi

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z0-9_.$]+)(?:\((?P<key>.*)\))?$")


def handle(api: WebApi, request: ApiRequest) -> ApiResponse:
    """One OData request to one response; errors become their Dataverse answers."""
    try:
        return _dispatch(api, request)
    except DataverseError as error:
        return error_response(error)


def _dispatch(api: WebApi, request: ApiRequest) -> ApiResponse:
    path = request.path.strip("/")
    if path == "":
        return api.service_document()
    head, _, rest = path.partition("/")
    match = _SEGMENT.match(head)
    if match is None:
        raise bad_request(f"Invalid resource path '{path}'.")
    name, key = match.group("name"), match.group("key")
    if name == "$batch":
        return batch.execute(api, request, lambda part: handle(api, part))
    if name == "WhoAmI":
        return api.who_am_i()
    if name in metadata_api.SEGMENTS:
        return metadata_api.handle(api, request, name, key, rest)
    entity = api.schema.entity_by_set(name)
    if key is None and not rest and request.method == "GET" and _tracks_changes(request):
        api.require("Read", entity)
        return changetracking.handle(api, request, entity)
    return api.resource(request, entity, key, rest)


def _tracks_changes(request: ApiRequest) -> bool:
    return "$deltatoken" in request.query or "odata.track-changes" in request.preferences
