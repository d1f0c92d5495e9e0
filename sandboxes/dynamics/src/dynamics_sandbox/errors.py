"""Dataverse-shaped errors: ``{"error": {"code": "0x...", "message": "..."}}``."""

from __future__ import annotations

from typing import Any


class DataverseError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


# Codes Dataverse uses for the situations the sandbox reproduces.
NOT_FOUND = "0x80040217"
BAD_SYNTAX = "0x80060888"
RESOURCE_NOT_FOUND = "0x8006088a"
INVALID_ARGUMENT = "0x80040203"
PRIVILEGE_DENIED = "0x80040220"
VERSION_MISMATCH = "0x80060882"
DUPLICATE_RECORD = "0x80040237"
MAX_LENGTH_EXCEEDED = "0x80044331"
PICKLIST_OUT_OF_RANGE = "0x8004431a"
NOT_A_MEMBER = "0x80072560"
INVALID_STATE = "0x80043e09"
UNEXPECTED = "0x80040216"
TOO_MANY_REQUESTS = "0x80072322"
EXECUTION_TIME = "0x80072321"
CONCURRENCY = "0x80072326"
METADATA_DUPLICATE = "0x80044363"
INVALID_SCHEMA_NAME = "0x80048403"
CHANGE_TRACKING = "0x80040800"


def bad_request(message: str, code: str = BAD_SYNTAX) -> DataverseError:
    return DataverseError(400, code, message)


def not_found(entity: str, record_id: object) -> DataverseError:
    return DataverseError(404, NOT_FOUND, f"{entity} With Id = {record_id} Does Not Exist")


def segment_not_found(segment: str) -> DataverseError:
    return DataverseError(
        404, RESOURCE_NOT_FOUND, f"Resource not found for the segment '{segment}'."
    )
