"""Idempotency-Key replay: a repeated key for the same request answers the first response."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox_kit.clock import Clock

MAX_KEY_LENGTH = 128


@dataclass
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes
    media_type: str | None
    stored_at: float


class IdempotencyStore:
    def __init__(self, window_seconds: float, clock: Clock) -> None:
        self.window_seconds = window_seconds
        self.clock = clock
        self._responses: dict[tuple[str, str], StoredResponse] = {}

    def get(self, tenant_id: str, key: str) -> StoredResponse | None:
        self._purge()
        return self._responses.get((tenant_id, key))

    def put(
        self,
        tenant_id: str,
        key: str,
        fingerprint: str,
        status: int,
        body: bytes,
        media: str | None,
    ) -> None:
        self._responses[(tenant_id, key)] = StoredResponse(
            fingerprint, status, body, media, self.clock.monotonic()
        )

    def clear(self) -> None:
        self._responses.clear()

    def _purge(self) -> None:
        cutoff = self.clock.monotonic() - self.window_seconds
        for key in [k for k, v in self._responses.items() if v.stored_at <= cutoff]:
            del self._responses[key]
