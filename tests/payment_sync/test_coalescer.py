"""Webhook notifications of a connection are gathered into one read from Xero."""

from __future__ import annotations

import uuid

from dxc_shared.messages import ConnectionSyncProfile
from payment_sync.payments.schemas import XeroChanges
from payment_sync.webhooks.coalescer import Coalescer


def profile() -> ConnectionSyncProfile:
    return ConnectionSyncProfile(connection_id=uuid.uuid4(), xero_tenant_id="t")


async def test_notifications_that_arrive_together_are_read_once_per_connection() -> None:
    reads: list[tuple[uuid.UUID, XeroChanges]] = []

    async def read(profile: ConnectionSyncProfile, changes: XeroChanges) -> None:
        reads.append((profile.connection_id, changes))

    coalescer = Coalescer(read, spacing=0)
    first, second = profile(), profile()
    coalescer.add(first, XeroChanges.of(["A"]))
    coalescer.add(second, XeroChanges.of(["X"]))
    coalescer.add(first, XeroChanges.of(["b"], ["C"]))
    await coalescer.idle()

    assert reads == [
        (first.connection_id, XeroChanges(frozenset({"a", "b"}), frozenset({"c"}))),
        (second.connection_id, XeroChanges.of(["x"])),
    ]


async def test_a_failed_read_is_left_to_polling_and_later_notifications_are_read() -> None:
    attempts: list[XeroChanges] = []

    async def read(_: ConnectionSyncProfile, changes: XeroChanges) -> None:
        attempts.append(changes)
        if len(attempts) == 1:
            raise RuntimeError("Xero is down")

    coalescer = Coalescer(read, spacing=0)
    connection = profile()
    coalescer.add(connection, XeroChanges.of(["a"]))
    await coalescer.idle()
    coalescer.add(connection, XeroChanges.of(["b"]))
    await coalescer.idle()

    assert attempts == [XeroChanges.of(["a"]), XeroChanges.of(["b"])]
