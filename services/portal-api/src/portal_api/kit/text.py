"""Text a person may send: trimmed, bounded, and free of control characters (PostgreSQL
refuses NUL in text, and nothing here has a use for the others)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def no_control_characters(value: str) -> str:
    if any((ord(c) < 32 and c not in _ALLOWED_CONTROLS) or ord(c) == 127 for c in value):
        raise ValueError("Must not contain control characters")
    return value


Clean = AfterValidator(no_control_characters)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Clean]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Clean]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), Clean]
Text32 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), Clean]
Text20 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), Clean]
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512), Clean
]
Token = Annotated[str, StringConstraints(min_length=1, max_length=200), Clean]
