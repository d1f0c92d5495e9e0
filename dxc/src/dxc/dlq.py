"""`dxc dlq`: the dead-letter queues of a RabbitMQ bus, for an operator.

Each subscription queue `ns.q` has `ns.q.dlq` (see dxc_shared.bus.rabbitmq). `list` counts what
waits there, `show` prints messages without taking them, `replay` moves them back to `ns.q`
(through the default exchange, so only the subscription they failed in sees them again).

A replayed message is published on a confirming channel and acknowledged on the DLQ only once
RabbitMQ has confirmed it: a crash in between leaves it in both places, a duplicate the
handlers absorb (they are idempotent by design). Messages looked at but not replayed stay
unacknowledged until the channel closes, which returns them to the DLQ in their order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aio_pika.exceptions import AMQPConnectionError, ChannelNotFoundEntity, DeliveryError
from dxc_shared.bus.rabbitmq import REASON_HEADER, from_amqp, to_amqp

# Every subscription of the services (tests/dxc/test_dlq.py checks this against their code).
SUBSCRIPTION_QUEUES = (
    "portal-api.sync-run-completed",
    "portal-api.reauthorisation-needed",
    "portal-api.invoice-usage",
    "scheduler.connection-changed",
    "scheduler.connection-archived",
    "scheduler.sync-requested",
    "invoice-sync.jobs",
    "invoice-sync.connection-changed",
    "invoice-sync.retry-requested",
    "payment-sync.connection-changed",
    "payment-sync.connection-archived",
    "payment-sync.sync-payments",
    "payment-sync.xero-changes",
    "payment-sync.reference-data",
)
LOOK_AGAIN_SECONDS = 5.0
T = TypeVar("T")
# What RabbitMQ adds when it dead-letters a message; it would be stale on the replayed copy.
_RABBITMQ_DEATH_HEADERS = ("x-death", "x-first-death-", "x-last-death-")


class DeadLetterError(Exception):
    """Something an operator must hear about in one line (no such queue or message)."""


class MessageNotFound(DeadLetterError):
    """No dead letter with that message id (after looking again for a few seconds)."""


@dataclass(frozen=True)
class DeadLetter:
    dead_letter_queue: str
    message_id: str
    topic: str
    reason: str
    deaths: list[str]
    headers: dict[str, str]
    body: bytes

    def describe(self) -> str:
        try:
            body = json.dumps(json.loads(self.body), indent=2, sort_keys=True)
        except ValueError:
            body = repr(self.body)
        lines = [
            f"message {self.message_id} in {self.dead_letter_queue}",
            f"  topic:   {self.topic}",
            f"  reason:  {self.reason or 'none recorded'}",
            *(f"  x-death: {death}" for death in self.deaths),
            *(f"  header:  {name}: {value}" for name, value in sorted(self.headers.items())),
            "  body:",
            *(f"    {line}" for line in body.splitlines()),
        ]
        return "\n".join(lines)


def _dead_letter(dead_letter_queue: str, message: AbstractIncomingMessage) -> DeadLetter:
    envelope = from_amqp(message)
    raw = message.headers or {}
    reason = _text(raw.get(REASON_HEADER, ""))
    if not reason and raw.get("x-first-death-reason"):
        reason = f"RabbitMQ: {_text(raw['x-first-death-reason'])}"
    recorded = raw.get("x-death")
    deaths = [
        f"{_text(death.get('reason', ''))} in {_text(death.get('queue', ''))}"
        f" ({_text(death.get('count', 1))} times)"
        for death in (recorded if isinstance(recorded, list) else [])
        if isinstance(death, dict)
    ]
    headers = {
        name: value for name, value in envelope.headers.items() if not _is_death_header(name)
    }
    return DeadLetter(
        dead_letter_queue,
        envelope.message_id,
        envelope.topic,
        reason,
        deaths,
        headers,
        envelope.body,
    )


def _is_death_header(name: str) -> bool:
    return name.startswith(_RABBITMQ_DEATH_HEADERS)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class DeadLetterQueues:
    def __init__(self, connection: AbstractConnection, namespace: str) -> None:
        self._connection = connection
        self._namespace = namespace

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, namespace: str) -> AsyncIterator[DeadLetterQueues]:
        connection = await aio_pika.connect(url)
        async with connection:
            yield cls(connection, namespace)

    def _name(self, queue: str) -> str:
        return f"{self._namespace}.{queue}"

    async def counts(self, queues: Iterable[str] = SUBSCRIPTION_QUEUES) -> dict[str, int]:
        """Messages waiting per DLQ that exists, by subscription queue."""
        counts: dict[str, int] = {}
        for queue in queues:
            # A passive declare of a missing queue closes the channel: one channel per queue.
            async with self._connection.channel() as channel:
                try:
                    declared = await channel.declare_queue(f"{self._name(queue)}.dlq", passive=True)
                except ChannelNotFoundEntity:
                    continue
                counts[queue] = declared.declaration_result.message_count or 0
        return counts

    @asynccontextmanager
    async def _held(self, queue: str) -> AsyncIterator[tuple[AbstractChannel, int]]:
        """A confirming channel and how many messages the DLQ holds; whatever is taken on it
        and not acknowledged goes back to the DLQ when it closes."""
        async with self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        ) as channel:
            try:
                dlq = await channel.declare_queue(f"{self._name(queue)}.dlq", passive=True)
            except ChannelNotFoundEntity:
                raise DeadLetterError(f"{self._name(queue)}.dlq does not exist") from None
            yield channel, dlq.declaration_result.message_count or 0

    async def _take(
        self, channel: AbstractChannel, queue: str, count: int
    ) -> AsyncIterator[AbstractIncomingMessage]:
        dlq = await channel.get_queue(f"{self._name(queue)}.dlq", ensure=False)
        for _ in range(count):
            message = await dlq.get(no_ack=False, fail=False)
            if message is None:
                return
            yield message

    async def show(
        self, queue: str, *, message_id: str | None = None, limit: int = 10
    ) -> list[DeadLetter]:
        """The oldest `limit` dead letters (or the one with `message_id`), left in place."""
        return await self._looking_for(message_id, lambda: self._show(queue, message_id, limit))

    async def _show(self, queue: str, message_id: str | None, limit: int) -> list[DeadLetter]:
        found: list[DeadLetter] = []
        async with self._held(queue) as (channel, waiting):
            async for message in self._take(channel, queue, waiting):
                if message_id is None or message.message_id == message_id:
                    found.append(_dead_letter(f"{self._name(queue)}.dlq", message))
                if len(found) == (1 if message_id else limit):
                    break
        if message_id is not None and not found:
            raise MessageNotFound(f"no message {message_id} in {self._name(queue)}.dlq")
        return found

    async def replay(self, queue: str, *, message_id: str | None = None) -> list[str]:
        """Move the one dead letter with `message_id`, or all those waiting now (not those
        that fail again meanwhile), back to their queue; returns their ids."""
        return await self._looking_for(message_id, lambda: self._replay(queue, message_id))

    async def _looking_for(
        self, message_id: str | None, scan: Callable[[], Awaitable[list[T]]]
    ) -> list[T]:
        """`scan` once, or, for one message, until it is found or a few seconds have passed:
        what an earlier look took and gave back reaches a quorum queue again (and its count) a
        moment later, so one scan right after another can miss it."""
        deadline = time.monotonic() + LOOK_AGAIN_SECONDS
        while True:
            try:
                return await scan()
            except MessageNotFound:
                if message_id is None or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.25)

    async def _replay(self, queue: str, message_id: str | None) -> list[str]:
        replayed: list[str] = []
        async with self._held(queue) as (channel, waiting):
            async for message in self._take(channel, queue, waiting):
                if message_id is not None and message.message_id != message_id:
                    continue
                envelope = from_amqp(message)
                fresh = replace(
                    envelope,
                    attempt=1,
                    headers={
                        name: value
                        for name, value in envelope.headers.items()
                        if not _is_death_header(name)
                    },
                )
                # Confirmed (and routed: mandatory) before the DLQ lets the message go.
                try:
                    await channel.default_exchange.publish(
                        to_amqp(fresh), routing_key=self._name(queue), mandatory=True
                    )
                except DeliveryError:
                    raise DeadLetterError(
                        f"{self._name(queue)} did not take message {envelope.message_id} (is the "
                        f"service's queue there?): it stays in the DLQ, with the "
                        f"{len(replayed)} replayed before it gone"
                    ) from None
                await message.ack()
                replayed.append(envelope.message_id)
                if message_id is not None:
                    break
        if message_id is not None and not replayed:
            raise MessageNotFound(f"no message {message_id} in {self._name(queue)}.dlq")
        return replayed


def describe_counts(counts: dict[str, Any], namespace: str) -> str:
    waiting = {queue: count for queue, count in counts.items() if count}
    if not waiting:
        return f"no dead letters in namespace {namespace}"
    width = max(len(queue) for queue in waiting)
    return "\n".join(f"{queue:<{width}}  {count}" for queue, count in sorted(waiting.items()))


def add_commands(commands: Any) -> None:
    """`dxc dlq list | show | replay` under the `dxc` command's subparsers."""
    dlq = commands.add_parser("dlq", help="inspect and replay dead-lettered messages (RabbitMQ)")
    dlq.add_argument(
        "--broker-url",
        default=os.environ.get("DXC_BROKER_URL"),
        help="amqp://user:pass@host:5672/vhost (default: $DXC_BROKER_URL)",
    )
    dlq.add_argument(
        "--namespace",
        default=os.environ.get("DXC_BUS_NAMESPACE", "dxc"),
        help="the services' bus namespace (default: $DXC_BUS_NAMESPACE or dxc)",
    )
    actions = dlq.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="dead-letter queues holding messages, and counts")
    listing.add_argument("queues", nargs="*", metavar="QUEUE", help="default: every subscription")
    show = actions.add_parser("show", help="print dead letters without taking them")
    show.add_argument("queue", metavar="QUEUE", help="a subscription queue, e.g. invoice-sync.jobs")
    show.add_argument("--message-id", help="only this message")
    show.add_argument("--limit", type=int, default=10, help="how many, oldest first")
    replay = actions.add_parser("replay", help="move dead letters back to their queue")
    replay.add_argument("queue", metavar="QUEUE")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--message-id", help="replay this message")
    which.add_argument("--all", action="store_true", help="replay every message waiting now")


def run(args: argparse.Namespace) -> str:
    """Carry out a parsed `dxc dlq` command; returns what to print."""
    if not args.broker_url:
        raise DeadLetterError("no broker: pass --broker-url or set DXC_BROKER_URL")
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> str:
    try:
        async with DeadLetterQueues.connect(args.broker_url, args.namespace) as queues:
            if args.action == "list":
                counts = await queues.counts(args.queues or SUBSCRIPTION_QUEUES)
                return describe_counts(counts, args.namespace)
            if args.action == "show":
                shown = await queues.show(args.queue, message_id=args.message_id, limit=args.limit)
                if not shown:
                    return f"no dead letters in {args.namespace}.{args.queue}.dlq"
                return "\n\n".join(dead_letter.describe() for dead_letter in shown)
            replayed = await queues.replay(args.queue, message_id=args.message_id)
            return (
                f"replayed {len(replayed)} message(s) to {args.namespace}.{args.queue}"
                + "".join(f"\n  {message_id}" for message_id in replayed)
            )
    except (OSError, AMQPConnectionError) as error:
        raise DeadLetterError(f"cannot reach RabbitMQ: {error}") from None
