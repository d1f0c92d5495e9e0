"""One error shape for the whole API: `{"detail": "<sentence>", "field": "<name or null>"}`,
plus `errors: [{field, message}]` when a request has several problems."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class FieldError(BaseModel):
    field: str | None
    message: str


class ErrorOut(BaseModel):
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None


class PortalError(Exception):
    """An answer for a person: raised anywhere, rendered as `ErrorOut`."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})
        self.keep_changes = keep_changes


class NotFound(PortalError):
    def __init__(self, what: str) -> None:
        super().__init__(404, f"{what} was not found.")


class Conflict(PortalError):
    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(409, detail, field=field)


class Invalid(PortalError):
    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(422, detail, field=field)


class UpstreamFailed(PortalError):
    """Xero, Microsoft or token-broker could not answer: try again later."""

    def __init__(self, detail: str) -> None:
        super().__init__(502, detail)


_DESCRIPTIONS = {
    400: "The request cannot be used (e.g. a bad or expired link)",
    401: "Not signed in",
    402: "Payment needed or refused",
    403: "CSRF token missing or wrong",
    404: "Not found, or not yours",
    409: "Conflicts with the current state",
    422: "The request is not valid",
    429: "Too many attempts; see Retry-After",
    502: "Xero, Microsoft or token-broker did not answer as expected",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses."""
    return {
        status: {"model": ErrorOut, "description": _DESCRIPTIONS[status]} for status in statuses
    }


def _field_name(location: Sequence[Any]) -> str | None:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


# What a person is asked to enter, by the field's last name (other fields: their name in words).
_FIELD_WORDS = {
    "name": "a name",
    "company_name": "your company name",
    "email": "your e-mail address",
    "password": "a password",
    "new_password": "a new password",
    "token": "the code from the e-mail",
    "time_zone": "a time zone",
    "plan": "a plan",
}


def _field_words(location: Sequence[Any]) -> str:
    last = next((str(part) for part in reversed(location) if isinstance(part, str)), "")
    return _FIELD_WORDS.get(last, last.replace("_", " ") or "a value")


def _message(error: Mapping[str, Any]) -> str:
    """Pydantic's message in plain words: "Enter a name", not "String should have at least 1
    character"."""
    kind = str(error.get("type", ""))
    context: Mapping[str, Any] = error.get("ctx") or {}
    words = _field_words(error.get("loc", ()))
    plain = {
        "missing": f"Enter {words}.",
        "json_invalid": "The request body is not valid JSON.",
        "string_too_long": f"Use at most {context.get('max_length')} characters.",
        "bool_parsing": "Choose Yes or No.",
        "bool_type": "Choose Yes or No.",
        "int_parsing": "Enter a whole number.",
        "int_type": "Enter a whole number.",
        "greater_than_equal": f"Enter {context.get('ge')} or more.",
        "less_than_equal": f"Enter {context.get('le')} or less.",
        "uuid_parsing": "This is not a valid id.",
        "literal_error": f"Choose one of: {context.get('expected')}.",
        "string_type": f"Enter {words} as text.",
    }
    if kind == "string_too_short":
        minimum = int(context.get("min_length", 1))
        return f"Enter {words}." if minimum <= 1 else f"Use at least {minimum} characters."
    if kind in plain:
        return plain[kind]
    message = str(error.get("msg", "is not valid"))
    message = message.removeprefix("Value error, ")
    if "email address" in message:
        return "Enter a valid e-mail address, like name@example.com."
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _render(error: ErrorOut, status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        error.model_dump(exclude_none=True) | {"field": error.field},
        status_code=status,
        headers=dict(headers or {}),
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PortalError)
    async def portal_error(_request: Request, error: PortalError) -> JSONResponse:
        return _render(
            ErrorOut(detail=error.detail, field=error.field), error.status, error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            FieldError(field=_field_name(item.get("loc", ())), message=_message(item))
            for item in error.errors()
        ]
        if not problems:
            problems = [FieldError(field=None, message="The request is not valid.")]
        first = problems[0]
        body = ErrorOut(
            detail=first.message if len(problems) == 1 else "Some fields are not valid.",
            field=first.field,
            errors=problems if len(problems) > 1 else None,
        )
        return _render(body, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else "The request failed."
        return _render(ErrorOut(detail=detail), error.status_code, error.headers)
