"""One Web API request and its response, as the router and ``$batch`` parts both carry them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import DataverseError, bad_request
from .odata.options import parse_prefer


@dataclass
class ApiRequest:
    method: str
    path: str  # below the API root, e.g. "invoices(…)" or "EntityDefinitions"
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def json(self) -> dict[str, Any]:
        try:
            payload = json.loads(self.body or b"{}")
        except ValueError:
            raise bad_request("The request body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise bad_request("The request body must be a JSON object.")
        return payload

    @property
    def preferences(self) -> dict[str, str | None]:
        return parse_prefer([self.headers["prefer"]] if "prefer" in self.headers else [])


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Pre-rendered body (a $batch response) with its content type.
    raw: bytes | None = None
    content_type: str = "application/json; odata.metadata=minimal"


def error_response(error: DataverseError) -> ApiResponse:
    return ApiResponse(error.status, error.body(), dict(error.headers))
