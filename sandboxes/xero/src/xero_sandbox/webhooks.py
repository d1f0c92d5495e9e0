"""Webhook delivery as Xero does it: events batched per delivery, signed with the webhook key
(base64 HMAC-SHA256 of the raw body in ``x-xero-signature``), retried on failure, plus the
intent-to-receive check that a new endpoint must pass."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import httpx
from sandbox_kit.clock import Clock

from .settings import XeroSandboxSettings

CATEGORIES = {"INVOICE", "CONTACT", "CREDITNOTE"}


def sign(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class DeliveryAttempt:
    time: str
    url: str
    kind: str  # "events" or "intent-to-receive"
    attempt: int
    status: int | None
    error: str | None
    first_event_sequence: int | None
    last_event_sequence: int | None
    event_count: int
    signature_valid: bool


class WebhookDispatcher:
    def __init__(self, settings: XeroSandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.url: str | None = settings.webhook_url
        self.key: str = settings.webhook_key
        self.attempts: list[DeliveryAttempt] = []
        self._pending: list[dict[str, Any]] = []
        self._sequence = 0
        self._wake = asyncio.Event()

    def emit(
        self, tenant_id: str, category: str, event_type: str, resource_id: str, resource_url: str
    ) -> None:
        """Queue one event; a running dispatcher delivers it shortly with its neighbours."""
        if not self.url:
            return
        self._sequence += 1
        moment = self.clock.now()
        self._pending.append(
            {
                "resourceUrl": resource_url,
                "resourceId": resource_id,
                "eventDateUtc": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "eventType": event_type,
                "eventCategory": category,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "_sequence": self._sequence,
            }
        )
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def run(self) -> None:
        while True:
            # Also poll: events emitted from another thread cannot set the loop's Event safely.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)
            self._wake.clear()
            if not self._pending:
                continue
            # Let the events of one burst of writes gather into one delivery.
            await asyncio.sleep(self.settings.webhook_batch_delay_seconds)
            batch, self._pending = self._pending, []
            await self._deliver(batch)

    async def _deliver(self, batch: list[dict[str, Any]]) -> None:
        sequences = [event.pop("_sequence") for event in batch]
        payload = {
            "events": batch,
            "firstEventSequence": sequences[0],
            "lastEventSequence": sequences[-1],
            "entropy": secrets.token_hex(10).upper(),
        }
        body = json.dumps(payload).encode()
        for attempt in range(1, self.settings.webhook_max_attempts + 1):
            status = await self._post(body, sign(body, self.key), "events", attempt, sequences)
            if status is not None and 200 <= status < 300:
                return
            await asyncio.sleep(self.settings.webhook_retry_base_seconds * 2 ** (attempt - 1))

    async def intent_to_receive(self) -> dict[str, Any]:
        """Xero's check: an empty, correctly signed batch must get 200, a badly signed one 401."""
        payload = {
            "events": [],
            "firstEventSequence": 0,
            "lastEventSequence": 0,
            "entropy": secrets.token_hex(10).upper(),
        }
        body = json.dumps(payload).encode()
        good = await self._post(body, sign(body, self.key), "intent-to-receive", 1, [])
        bad = await self._post(body, sign(body, self.key + "-wrong"), "intent-to-receive", 2, [])
        return {
            "valid_signature_status": good,
            "invalid_signature_status": bad,
            "passed": good == 200 and bad == 401,
        }

    async def _post(
        self, body: bytes, signature: str, kind: str, attempt: int, sequences: list[int]
    ) -> int | None:
        url = self.url
        if not url:
            return None
        status: int | None = None
        error: str | None = None
        try:
            async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds) as client:
                response = await client.post(
                    url,
                    content=body,
                    headers={"Content-Type": "application/json", "x-xero-signature": signature},
                )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.attempts.append(
            DeliveryAttempt(
                time=_iso(self.clock.now()),
                url=url,
                kind=kind,
                attempt=attempt,
                status=status,
                error=error,
                first_event_sequence=sequences[0] if sequences else None,
                last_event_sequence=sequences[-1] if sequences else None,
                event_count=len(sequences),
                signature_valid=signature == sign(body, self.key),
            )
        )
        return status

    def attempts_json(self) -> list[dict[str, Any]]:
        return [asdict(a) for a in self.attempts]

    def reset(self) -> None:
        self.attempts.clear()
        self._pending.clear()


def _iso(moment: datetime) -> str:
    return moment.isoformat()
