"""Injected faults: per tenant and endpoint pattern, with a probability or for the next N calls."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["error", "throttle", "latency", "timeout"]


@dataclass
class Fault:
    kind: FaultKind
    path_pattern: str = ".*"  # a regular expression searched in the path (after any mount prefix)
    method: str | None = None
    tenant_id: str | None = None
    probability: float = 1.0
    remaining: int | None = None  # None: until cleared
    status: int = 503  # for "error"
    latency_seconds: float = 0.0  # for "latency"
    retry_after: int = 60  # for "throttle"
    problem: str = "minute"  # X-Rate-Limit-Problem for "throttle"
    timeout_seconds: float | None = None  # for "timeout"; settings' default when unset
    fault_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def matches(self, method: str, path: str, tenant_id: str | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.tenant_id is None or self.tenant_id == tenant_id)
            and re.search(self.path_pattern, path) is not None
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._random = random.Random(seed)

    def add(self, fault: Fault) -> Fault:
        re.compile(fault.path_pattern)  # reject a bad pattern when it is set, not when it fires
        self._faults.append(fault)
        return fault

    def all(self) -> list[Fault]:
        return list(self._faults)

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.fault_id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def take(self, method: str, path: str, tenant_id: str | None) -> list[Fault]:
        """The faults firing for this call; each firing uses up one of a counted fault's calls."""
        fired: list[Fault] = []
        for fault in self._faults:
            if not fault.matches(method, path, tenant_id):
                continue
            if self._random.random() >= fault.probability:
                continue
            fired.append(fault)
            if fault.remaining is not None:
                fault.remaining -= 1
        self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        return fired
