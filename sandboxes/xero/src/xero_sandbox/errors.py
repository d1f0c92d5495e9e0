"""Xero's error shapes: problem JSON for auth, ValidationException for bad documents, plain-text
404 for unknown single resources."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.responses import JSONResponse, PlainTextResponse, Response


class ValidationFailure(Exception):
    """One element of a batch is invalid; carries Xero's messages for that element."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class XeroHTTPError(Exception):
    """Raised inside handlers; turned into the exact response Xero would give."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """The identity platform's problem document, as the Accounting API's gateway returns it."""
    body: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return JSONResponse(body, status_code=status)


def unauthenticated() -> JSONResponse:
    return problem(401, "Unauthorized", "AuthenticationUnsuccessful")


def unauthorised_scope() -> JSONResponse:
    # Xero answers a token lacking the endpoint's scope with 401 AuthorizationUnsuccessful.
    return problem(401, "Unauthorized", "AuthorizationUnsuccessful")


def forbidden_tenant() -> JSONResponse:
    return problem(403, "Forbidden", "AuthenticationUnsuccessful")


def not_found(message: str = "The resource you're looking for cannot be found") -> Response:
    return PlainTextResponse(message, status_code=404)


def validation_exception(elements: list[dict[str, Any]], message: str | None = None) -> Response:
    body: dict[str, Any] = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": message or "A validation exception occurred",
        "Elements": elements,
    }
    return JSONResponse(body, status_code=400)


def bad_request(message: str) -> Response:
    """A request-level validation failure without elements (bad JSON, bad where clause...)."""
    return validation_exception([], message)


def query_parse_error(message: str) -> Response:
    body = {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}
    return JSONResponse(body, status_code=400)
