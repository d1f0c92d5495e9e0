"""``$batch``: multipart/mixed requests with atomic change sets and Content-ID references.

Source: "Execute batch operations using the Web API" (Microsoft Learn,
data-platform/webapi/execute-batch-operations-using-web-api). Dataverse stops at the first
failed request unless ``Prefer: odata.continue-on-error``, and then "the batch error
represents the error of the first failing request": the batch answers with that request's
status (the documented example: ``HTTP/1.1 400 BadRequest`` around the failed part). With
the preference it answers 200 OK. A change set commits or rolls back as a whole and answers
with the failing request's error. Referencing a Content-ID not declared earlier in the change
set is refused with 400 ("Content-ID Reference: '$1' does not exist in the batch context.").
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .api_messages import ApiRequest, ApiResponse, error_response
from .errors import DataverseError, bad_request
from .webapi import WebApi

# Answers one part of the batch, as the Web API answers a request of its own.
Handler = Callable[[ApiRequest], ApiResponse]

_BOUNDARY = re.compile(r'boundary="?([^";,\s]+)"?', re.IGNORECASE)
_API_PATH = re.compile(r"^.*?/api/data/v9\.\d/")
_REFERENCE = re.compile(r"^\$(\w+)")


@dataclass
class _Part:
    headers: dict[str, str]
    method: str
    url: str
    request_headers: dict[str, str]
    body: bytes

    @property
    def content_id(self) -> str | None:
        return self.headers.get("content-id") or self.request_headers.get("content-id")


@dataclass
class _ChangeSet:
    parts: list[_Part] = field(default_factory=list)


class _ChangeSetFailed(Exception):
    def __init__(self, response: ApiResponse, content_id: str | None) -> None:
        super().__init__("change set failed")
        self.response = response
        self.content_id = content_id


def _split(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)[1:]
    parts = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break
        parts.append(chunk.lstrip(b"\r\n"))
    return parts


def _headers_and_body(raw: bytes) -> tuple[dict[str, str], bytes]:
    normalised = raw.replace(b"\r\n", b"\n")
    head, _, body = normalised.partition(b"\n\n")
    headers = {}
    for line in head.decode("utf-8").split("\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, body


def _parse_part(raw: bytes) -> _Part | _ChangeSet:
    headers, content = _headers_and_body(raw)
    content_type = headers.get("content-type", "")
    if content_type.startswith("multipart/mixed"):
        boundary = _BOUNDARY.search(content_type)
        if boundary is None:
            raise bad_request("A change set needs a boundary.")
        changeset = _ChangeSet()
        for inner in _split(content, boundary.group(1)):
            part = _parse_part(inner)
            if isinstance(part, _ChangeSet):
                raise bad_request("Change sets cannot be nested.")
            changeset.parts.append(part)
        return changeset
    request_line, _, rest = content.partition(b"\n")
    words = request_line.decode("utf-8").strip().split(" ")
    if len(words) < 2:
        raise bad_request("Each batch part must start with an HTTP request line.")
    request_headers, body = _headers_and_body(rest)
    return _Part(headers, words[0].upper(), words[1], request_headers, body.rstrip(b"\r\n"))


def execute(api: WebApi, request: ApiRequest, handle: Handler) -> ApiResponse:
    if request.method != "POST":
        raise DataverseError(405, "0x80060888", "$batch accepts POST only.")
    boundary = _BOUNDARY.search(request.headers.get("content-type", ""))
    if boundary is None:
        raise bad_request("The $batch request must be multipart/mixed with a boundary.")
    items = [_parse_part(raw) for raw in _split(request.body, boundary.group(1))]
    total = sum(len(i.parts) if isinstance(i, _ChangeSet) else 1 for i in items)
    if total > api.settings.max_batch_requests:
        raise bad_request(
            f"The number of requests in the batch ({total}) exceeds the maximum of "
            f"{api.settings.max_batch_requests}.",
            "0x8005f103",
        )
    for item in items:
        _check_references(item)
    continue_on_error = "odata.continue-on-error" in request.preferences
    out_boundary = f"batchresponse_{uuid.uuid4()}"
    chunks: list[str] = []
    status = 200
    for item in items:
        references: dict[str, str] = {}  # Content-IDs are scoped to their change set
        if isinstance(item, _ChangeSet):
            rendered, failure = _run_changeset(api, handle, item, references)
        else:
            response = _run(handle, item, references)
            rendered = _render(response, item.content_id)
            failure = response.status if response.status >= 400 else None
        chunks.append(f"--{out_boundary}\r\n{rendered}")
        if failure is not None and not continue_on_error:
            status = failure
            break
    payload = "".join(chunks) + f"--{out_boundary}--\r\n"
    headers = {"Preference-Applied": "odata.continue-on-error"} if continue_on_error else {}
    return ApiResponse(
        status,
        None,
        headers,
        raw=payload.encode("utf-8"),
        content_type=f"multipart/mixed; boundary={out_boundary}",
    )


def _referenced_ids(part: _Part) -> list[str]:
    found = [m.group(1)] if (m := _REFERENCE.match(part.url)) else []
    if b"$" in part.body:
        try:
            payload: Any = json.loads(part.body)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            for key, value in payload.items():
                is_reference = key.endswith("@odata.bind") or key == "@odata.id"
                if is_reference and isinstance(value, str) and (m := _REFERENCE.match(value)):
                    found.append(m.group(1))
    return found


def _check_references(item: _Part | _ChangeSet) -> None:
    """Every ``$n`` names a Content-ID declared before it in the same change set."""
    declared: set[str] = set()
    for part in item.parts if isinstance(item, _ChangeSet) else [item]:
        for content_id in _referenced_ids(part):
            if content_id not in declared:
                raise bad_request(
                    f"Content-ID Reference: '${content_id}' does not exist in the batch context."
                )
        if part.content_id:
            declared.add(part.content_id)


def _run_changeset(
    api: WebApi, handle: Handler, changeset: _ChangeSet, references: dict[str, str]
) -> tuple[str, int | None]:
    boundary = f"changesetresponse_{uuid.uuid4()}"
    rendered: list[str] = []
    try:
        with api.engine.transaction():
            for part in changeset.parts:
                if part.method == "GET":
                    raise bad_request("GET requests are not allowed inside a change set.")
                response = _run(handle, part, references)
                if response.status >= 400:
                    raise _ChangeSetFailed(response, part.content_id)
                rendered.append(f"--{boundary}\r\n{_render(response, part.content_id)}")
    except _ChangeSetFailed as failure:
        return _render(failure.response, failure.content_id), failure.response.status
    except DataverseError as error:
        return _render(error_response(error), None), error.status
    body = "".join(rendered) + f"--{boundary}--\r\n"
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{body}", None


def _run(handle: Handler, part: _Part, references: dict[str, str]) -> ApiResponse:
    try:
        url = _resolve_reference(part.url, references)
        split = urlsplit(url)
        path = _API_PATH.sub("", split.path if split.scheme else "/" + split.path.lstrip("/"))
        path = path.lstrip("/")
        body = _resolve_body_references(part.body, references)
    except DataverseError as error:
        return error_response(error)
    inner = ApiRequest(
        method=part.method,
        path=path,
        query=dict(parse_qsl(split.query, keep_blank_values=True)),
        headers=part.request_headers,
        body=body,
    )
    response = handle(inner)
    entity_id = response.headers.get("OData-EntityId")
    if part.content_id and entity_id:
        references[part.content_id] = entity_id
    return response


def _resolve_reference(url: str, references: dict[str, str]) -> str:
    match = _REFERENCE.match(url)
    if match is None:
        return url
    target = references.get(match.group(1))
    if target is None:
        raise bad_request(
            f"Content-ID reference '${match.group(1)}' was not found in the change set."
        )
    return target + url[match.end() :]


def _resolve_body_references(body: bytes, references: dict[str, str]) -> bytes:
    if b"$" not in body:
        return body
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return body
    if isinstance(payload, dict):
        for key, value in payload.items():
            is_reference = key.endswith("@odata.bind") or key == "@odata.id"
            if is_reference and isinstance(value, str) and _REFERENCE.match(value):
                payload[key] = _resolve_reference(value, references)
    return json.dumps(payload).encode("utf-8")


def _render(response: ApiResponse, content_id: str | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    reason = HTTPStatus(response.status).phrase
    inner = [f"HTTP/1.1 {response.status} {reason}", "OData-Version: 4.0"]
    inner += [f"{name}: {value}" for name, value in response.headers.items()]
    body = ""
    if response.body is not None:
        inner.append("Content-Type: application/json; odata.metadata=minimal")
        body = json.dumps(response.body)
    return "\r\n".join(lines) + "\r\n\r\n" + "\r\n".join(inner) + "\r\n\r\n" + body + "\r\n"
