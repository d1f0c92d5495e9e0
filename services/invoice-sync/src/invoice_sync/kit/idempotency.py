"""Idempotency keys for Xero's batch writes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any


def idempotency_key(kind: str, pairs: Iterable[str], body: Sequence[dict[str, Any]]) -> str:
    """The same records at the same versions sent the same way give the same key, so Xero
    replays its first answer; anything different gets a new key (Xero refuses a key reused for
    a different body)."""
    digest = hashlib.sha256()
    for pair in sorted(pairs):
        digest.update(pair.encode() + b"\n")
    digest.update(json.dumps(list(body), sort_keys=True, default=str).encode())
    return f"dxc-{kind}-{digest.hexdigest()}"
