"""Receiving Dataverse's webhook posts and turning bursts of them into few sync requests per
connection.

A post whose secret matches the connection's (compared as SHA-256 hashes in constant time) and
whose organisation is the connection's records a pending request, unless one is already
pending (then it joins it): due at once when the connection's last request went more than
`window` ago, else when that window ends. So a lone change is sent at once, and a burst becomes
at most one request a window. The relay turns due requests into
`SyncRequested` in the outbox (the scheduler dispatches the connection's jobs at once) in the
transaction that deletes them, so a request is sent exactly once across replicas and restarts.
The scheduler's polling stays the safety net for a post Dataverse never manages to deliver.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hmac
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.messages import SyncRequested
from dxc_shared.outbox import enqueue_all
from sqlalchemy.exc import IntegrityError

from portal_api.kit.security import token_hash
from portal_api.kit.time import utcnow
from portal_api.push import repository
from portal_api.push.context import coalesced_due_at, parse_context, seconds_until_next

logger = get_logger(__name__)

# Compared when the connection has no subscription, so the answer takes as long either way.
_NO_SECRET = token_hash("")


class Outcome(enum.StrEnum):
    QUEUED = "queued"  # a new sync request is pending
    JOINED = "joined"  # coalesced into the pending one
    IGNORED = "ignored"  # authentic, but not a change a sync answers
    REFUSED = "refused"  # wrong secret, unknown connection or another organisation
    MALFORMED = "malformed"  # authentic, but not a RemoteExecutionContext


@dataclass(eq=False)  # a service: compared by identity
class PushRelay:
    """The background loop that sends due requests; `wake` makes it look again at once."""

    database: Database
    _: KW_ONLY
    window: timedelta
    idle_seconds: float = 5.0
    clock: Callable[[], datetime] = utcnow
    wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def send_due(self) -> int:
        async with self.database.unit_of_work() as session:
            due = await repository.take_due(session, self.clock())
            requests = [SyncRequested(connection_id=c, invoices_only=True) for c in due]
            await enqueue_all(
                session, [(r, {"connection_id": str(r.connection_id)}) for r in requests]
            )
        return len(due)

    async def run(self) -> None:
        while True:
            self.wake.clear()
            sent = await self.send_due()
            if sent:
                logger.info("push.sync_requested", connections=sent)
            earliest = await repository.earliest_due(self.database)
            pause = seconds_until_next(earliest, self.clock(), self.idle_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=pause)


async def receive(relay: PushRelay, connection_id: uuid.UUID, secret: str, body: bytes) -> Outcome:
    database = relay.database
    async with database.unit_of_work() as session:
        subscription = await repository.subscription_of(session, connection_id)
    expected = subscription.secret_hash if subscription is not None else _NO_SECRET
    if not hmac.compare_digest(token_hash(secret), expected) or subscription is None:
        return Outcome.REFUSED
    change = parse_context(body)
    if change is None:
        return Outcome.MALFORMED
    if subscription.organization_id not in (None, str(change.organization_id)):
        return Outcome.REFUSED
    if not change.wanted:
        return Outcome.IGNORED
    try:
        async with database.unit_of_work() as session:
            pending, last_requested_at = await repository.coalescing_state(session, connection_id)
            due_at = coalesced_due_at(pending, last_requested_at, relay.clock(), relay.window)
            if due_at is None:
                return Outcome.JOINED
            repository.add_pending(session, connection_id, due_at)
    except IntegrityError:  # another post queued it first (SQLite has no row locks)
        return Outcome.JOINED
    relay.wake.set()
    return Outcome.QUEUED
