"""Injected faults, with one meaning in both sandboxes (see the kit's README): a fault fires for
a call whose method, path and organisation match, with a probability, for the next N calls or
until removed."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Generic, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

FaultKind = Literal["error", "throttle", "latency", "timeout", "revoke_grant"]
# The kinds that act on any call; `revoke_grant` acts only where a grant is refreshed.
CALL_KINDS: frozenset[str] = frozenset({"error", "throttle", "latency", "timeout"})
_ANSWERING = frozenset({"error", "throttle", "timeout"})


class Fault(BaseModel):
    # A misspelt or outdated field is refused rather than leaving a fault that matches all calls.
    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    path: str = Field(
        "*", description="a glob over the whole path below the sandbox root, e.g. */Invoices"
    )
    method: str | None = None
    organisation: str | None = Field(
        None, description="Xero's tenant id or Dataverse's unique org name; unset: any"
    )
    probability: float = Field(1.0, ge=0, le=1)
    count: int | None = Field(
        None, ge=1, description="fires for the next N matching calls; unset: until removed"
    )
    status: int = Field(503, description="for error")
    latency_seconds: float = Field(0.0, ge=0, description="for latency")
    retry_after: int = Field(5, ge=0, description="for throttle")
    timeout_seconds: float | None = Field(
        None, ge=0, description="for timeout; the sandbox's fault_timeout_seconds when unset"
    )
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))

    @field_validator("method")
    @classmethod
    def _upper(cls, method: str | None) -> str | None:
        return method.upper() if method else None

    @field_validator("organisation")
    @classmethod
    def _lower(cls, organisation: str | None) -> str | None:
        # Both vendors compare tenant ids and org names without regard to case.
        return organisation.lower() if organisation else None

    def matches(self, method: str, path: str, organisation: str | None) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.organisation is None or self.organisation == organisation)
            and fnmatchcase(path, self.path)
        )

    async def hold(self, default_seconds: float) -> None:
        """A timeout fault hangs as an overloaded server does; shorter client timeouts fire."""
        await asyncio.sleep(
            default_seconds if self.timeout_seconds is None else self.timeout_seconds
        )


F = TypeVar("F", bound=Fault)


@dataclass(frozen=True)
class Fired(Generic[F]):
    """The faults that fired for one call."""

    faults: list[F]

    @property
    def latency_seconds(self) -> float:
        return sum(f.latency_seconds for f in self.faults if f.kind == "latency")

    @property
    def answer(self) -> F | None:
        """The fault that answers instead of the sandbox, if any."""
        return next((f for f in self.faults if f.kind in _ANSWERING), None)


class FaultBook(Generic[F]):
    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[F] = []
        self._random = random.Random(seed)

    def add(self, fault: F) -> F:
        self._faults.append(fault)
        return fault

    def all(self) -> list[F]:
        return list(self._faults)

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def take(
        self,
        method: str,
        path: str,
        organisation: str | None,
        kinds: Collection[str] = CALL_KINDS,
    ) -> Fired[F]:
        """The faults of `kinds` firing for this call; each firing spends one of its count."""
        fired: list[F] = []
        for fault in self._faults:
            if fault.kind not in kinds or not fault.matches(method, path, organisation):
                continue
            if self._random.random() >= fault.probability:
                continue
            fired.append(fault)
            if fault.count is not None:
                fault.count -= 1
        self._faults = [f for f in self._faults if f.count is None or f.count > 0]
        return Fired(fired)


def fault_routes(book_of: Callable[[Request], FaultBook[F]]) -> APIRouter:
    """Listing and removing faults; each sandbox adds ``POST /faults`` with its fault model."""
    router = APIRouter(prefix="/faults")

    @router.get("")
    async def list_faults(request: Request) -> list[dict[str, Any]]:
        return [f.model_dump() for f in book_of(request).all()]

    @router.delete("", status_code=204)
    async def clear_faults(request: Request) -> Response:
        book_of(request).clear()
        return Response(status_code=204)

    @router.delete("/{fault_id}", status_code=204)
    async def remove_fault(request: Request, fault_id: str) -> Response:
        if not book_of(request).remove(fault_id):
            raise HTTPException(404, "No such fault")
        return Response(status_code=204)

    return router
