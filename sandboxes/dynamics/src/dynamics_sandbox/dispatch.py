"""Which part of the Web API answers a request: ``$batch``, WhoAmI, the metadata endpoints,
solutions, change tracking, or a table's records. ``$batch`` runs its parts back through
`handle`."""

from __future__ import annotations

import logging
import re

from . import batch, changetracking, csdl, fetchxml, metadata_api, options_api, solutions, sql
from .api_messages import ApiRequest, ApiResponse, error_response
from .errors import UNEXPECTED, DataverseError, bad_request
from .webapi import WebApi

logger = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z0-9_.$]+)(?:\((?P<key>.*)\))?$")


def handle(api: WebApi, request: ApiRequest) -> ApiResponse:
    """One OData request to one response; errors become their Dataverse answers."""
    try:
        # Impersonation headers apply to the request (a batch: to all its parts) or to one part.
        return _dispatch(api.acting_as(request.headers), request)
    except DataverseError as error:
        return error_response(error)
    except Exception:
        # A sandbox bug must still answer in Dataverse's error shape (never a bare 500 that
        # drops the connection); the log keeps the traceback.
        logger.exception("unexpected error answering %s %s", request.method, request.path)
        return error_response(DataverseError(500, UNEXPECTED, "An unexpected error occurred."))


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
    if name == "$metadata":
        return csdl.document(api)
    if name == "InsertOptionValue":
        return options_api.insert_option_value(api, request)
    if name in metadata_api.SEGMENTS:
        return metadata_api.handle(api, request, name, key, rest)
    if name in solutions.SEGMENTS and not rest:
        return solutions.handle(api, request, name, key)
    if name == "solutions" and key is not None and not rest and request.method == "DELETE":
        return solutions.delete(api, key)
    entity = api.schema.entity_by_set(name)
    if key is None and not rest and request.method == "GET":
        if _tracks_changes(request):
            api.require("Read", entity)
            return changetracking.handle(api, request, entity)
        if "fetchXml" in request.query:
            return fetchxml.handle(api, request, entity)
        if "sql" in request.query:
            return sql.handle(api, request, entity)
    return api.resource(request, entity, key, rest)


def _tracks_changes(request: ApiRequest) -> bool:
    return "$deltatoken" in request.query or "odata.track-changes" in request.preferences
