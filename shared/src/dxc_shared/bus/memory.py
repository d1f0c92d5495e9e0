"""The in-process broker of the embedded mode: same contract as RabbitMQ, no network.

Topic patterns follow AMQP topic exchange rules (`*` one word, `#` zero or more). Queues are
bounded, so a publisher waits when consumers fall behind instead of growing memory without end.
Nothing survives the process: that is the embedded mode's trade-off, said in the README.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from dxc_shared.bus.contract import (
    Ack,
    Broker,
    Consumer,
    DeadLetter,
    DeadLetteredMessage,
    Envelope,
    M,
    Retry,
    Subscription,
    handle_delivery,
)


def topic_matches(binding: str, topic: str) -> bool:
    """AMQP topic matching: `*` is exactly one word, `#` zero or more words."""

    def match(pattern: list[str], words: list[str]) -> bool:
        if not pattern:
            return not words
        head, rest = pattern[0], pattern[1:]
        if head == "#":
            return any(match(rest, words[skip:]) for skip in range(len(words) + 1))
        return bool(words) and head in ("*", words[0]) and match(rest, words[1:])

    return match(binding.split("."), topic.split("."))


@dataclass
class _Queue:
    name: str
    binding: str
    items: asyncio.Queue[Envelope]
    dead_letters: list[DeadLetteredMessage] = field(default_factory=list)


class InMemoryBroker(Broker):
    def __init__(self, *, queue_size: int = 10_000) -> None:
        self._queue_size = queue_size
        self._queues: dict[str, _Queue] = {}
        self._connected = False
        self._redeliveries: set[asyncio.Task[None]] = set()
        self._dead_letters: defaultdict[str, list[DeadLetteredMessage]] = defaultdict(list)

    async def connect(self) -> None:
        self._connected = True

    async def close(self) -> None:
        self._connected = False
        for task in self._redeliveries:
            task.cancel()

    async def ping(self) -> None:
        if not self._connected:
            raise ConnectionError("the in-process broker is closed")

    async def _send(self, envelope: Envelope) -> None:
        await self.ping()
        for queue in self._queues.values():
            if topic_matches(queue.binding, envelope.topic):
                await queue.items.put(envelope)

    async def consume(self, subscription: Subscription[M]) -> Consumer:
        queue = self._queues.get(subscription.queue)
        if queue is None:
            queue = _Queue(
                name=subscription.queue,
                binding=subscription.message_type.topic,
                items=asyncio.Queue(maxsize=self._queue_size),
                dead_letters=self._dead_letters[subscription.queue],
            )
            self._queues[subscription.queue] = queue
        consumer = _InMemoryConsumer(self, queue, subscription)
        consumer.start()
        return consumer

    async def take_dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetteredMessage]:
        letters = self._dead_letters[queue]
        taken, letters[:] = letters[:limit], letters[limit:]
        return taken

    def _redeliver_later(self, queue: _Queue, envelope: Envelope, delay: float) -> None:
        async def redeliver() -> None:
            await asyncio.sleep(delay)
            await queue.items.put(envelope)

        task = asyncio.create_task(redeliver(), name=f"redeliver:{queue.name}")
        self._redeliveries.add(task)
        task.add_done_callback(self._redeliveries.discard)


class _InMemoryConsumer(Consumer):
    def __init__(self, broker: InMemoryBroker, queue: _Queue, subscription: Subscription[M]):
        self._broker = broker
        self._queue = queue
        self._subscription = subscription
        self._workers: list[asyncio.Task[None]] = []
        self._waiting: set[asyncio.Task[None]] = set()
        self._stopping = False

    def start(self) -> None:
        for index in range(self._subscription.concurrency):
            name = f"consumer:{self._queue.name}:{index}"
            self._workers.append(asyncio.create_task(self._work(), name=name))

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        while not self._stopping:
            self._waiting.add(me)
            try:
                envelope = await self._queue.items.get()
            finally:
                self._waiting.discard(me)
            try:
                outcome = await handle_delivery(self._subscription, envelope)
            except asyncio.CancelledError:
                # Stopped mid-message: put it back, as an unacknowledged AMQP delivery would be.
                self._queue.items.put_nowait(envelope)
                raise
            match outcome:
                case Ack():
                    pass
                case Retry(delay=delay):
                    self._broker._redeliver_later(self._queue, envelope.next_attempt(), delay)
                case DeadLetter(reason=reason):
                    self._queue.dead_letters.append(
                        DeadLetteredMessage(envelope, self._queue.name, reason)
                    )

    async def stop(self, drain_seconds: float) -> None:
        self._stopping = True
        for worker in self._waiting:
            worker.cancel()
        if not self._workers:
            return
        _done, pending = await asyncio.wait(self._workers, timeout=drain_seconds)
        for worker in pending:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
