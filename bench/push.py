"""The push phase of the distributed benchmark: each connection's Dataverse webhook registered
in the Dynamics sandbox, invoices handed over at 400 a minute per connection (a small `$batch`
every second), and the lag from "handed over" to "created in Xero" measured while the
connections' polling interval alone would keep them waiting far longer.

Registration is what portal-api's install does for a connection (the webhook through
`dxc_shared.dynamics.webhook`, the secret's hash through portal-api's push repository); the
bench provisions connections without the portal, so it does both itself.
"""

from __future__ import annotations

import math
import secrets

from dxc_shared.db import Database
from dxc_shared.dynamics import webhook
from portal_api.kit.security import token_hash
from portal_api.kit.time import utcnow
from portal_api.push import repository

from bench.provision import BenchInvoice, Connection
from bench.stack import Stack, sample_sum

PUSH_RATE_PER_MINUTE = 400


async def register_push(stack: Stack, connections: list[Connection]) -> None:
    database = Database(stack.database_url)
    try:
        for connection in connections:
            secret = secrets.token_urlsafe(32)
            cid = connection.connection_id
            await webhook.register(
                connection.dataverse,
                connection_id=str(cid),
                url=f"{stack.url('portal-api')}/v1/push/dynamics/{cid}",
                secret=secret,
            )
            organization = (await connection.dataverse.who_am_i())["OrganizationId"]
            async with database.unit_of_work() as session:
                await repository.save_subscription(
                    session,
                    cid,
                    secret_hash=token_hash(secret),
                    organization_id=str(organization),
                    now=utcnow(),
                )
    finally:
        await database.dispose()


def waves_at_push_rate(batches: list[list[BenchInvoice]]) -> tuple[int, float]:
    """(waves, spacing in seconds): a hand-over a second per connection, each of
    PUSH_RATE_PER_MINUTE / 60 invoices."""
    per_second = PUSH_RATE_PER_MINUTE / 60
    waves = max(1, math.ceil(max(len(batch) for batch in batches) / per_second))
    return waves, 1.0


def handover_rate(batches: list[list[BenchInvoice]]) -> float:
    """The hand-over rate reached, invoices a minute per connection (the waves' own time
    included, so it can fall short of the target)."""
    rates = []
    for batch in batches:
        ready = [i.ready_at for i in batch if i.ready_at is not None]
        if len(ready) > 1:
            rates.append(len(ready) / max(max(ready) - min(ready), 1e-3) * 60)
    return sum(rates) / len(rates) if rates else float("nan")


async def pushes_posted(stack: Stack) -> float:
    """Dataverse webhook posts portal-api took (queued or joined into a pending request)."""
    samples = await stack.metrics(stack.processes["portal-api"])
    return sum(
        sample_sum(samples, "dxc_portal_push_posts_total", outcome=outcome)
        for outcome in ("queued", "joined")
    )
