"""Route contracts several endpoints share, declared once: keyword arguments of a FastAPI route
decorator (`@router.post("/sync", summary=..., **accepted(403, 409))`)."""

from __future__ import annotations

from typing import Any, TypedDict

from fastapi import Response, status

from portal_api.kit.errors import error_responses


class RouteContract(TypedDict, total=False):
    status_code: int
    response_class: type[Response]
    responses: dict[int | str, dict[str, Any]]


def accepted(*errors: int) -> RouteContract:
    """Work asked for and done later (by a worker, or an e-mail sent): 202, or one of `errors`."""
    return {"status_code": status.HTTP_202_ACCEPTED, "responses": error_responses(*errors)}


def no_content(*errors: int) -> RouteContract:
    """Done, with nothing to answer: 204 without a body (the endpoint returns None), or one of
    `errors`."""
    return {
        "status_code": status.HTTP_204_NO_CONTENT,
        "response_class": Response,
        "responses": error_responses(*errors),
    }
