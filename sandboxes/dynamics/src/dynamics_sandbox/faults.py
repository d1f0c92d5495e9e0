"""Injectable faults, matched per organisation and path pattern."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

FaultKind = Literal["error", "throttle", "latency", "timeout", "revoke_grant"]


@dataclass
class Fault:
    """`path` is a glob over the request path below the sandbox root, e.g.
    ``/orgs/demo/api/data/v9.2/invoices*`` or ``*/oauth2/v2.0/token``."""

    kind: FaultKind
    path: str = "*"
    org: str | None = None
    method: str | None = None
    status: int = 503
    latency_seconds: float = 0.0
    retry_after: int = 5
    # How many matching requests the fault affects; None keeps it until removed.
    remaining: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str, org: str | None, kinds: set[str]) -> list[Fault]:
        """The faults that apply to this request, spending one use of each."""
        hits = []
        for fault in list(self.rules):
            if fault.kind not in kinds or not fnmatchcase(path, fault.path):
                continue
            if (fault.org and fault.org != org) or (
                fault.method and fault.method.upper() != method
            ):
                continue
            hits.append(fault)
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.rules.remove(fault)
        return hits
