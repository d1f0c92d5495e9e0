"""The bus contract: typed messages, handlers, subscriptions and the broker interface.

A message type is a pydantic model with a `topic`. A handler is a typed async function taking the
message and a `MessageContext`. Brokers (RabbitMQ, in-process) differ only in transport: what a
handler's outcome means — acknowledge, retry after a back-off, dead-letter — is decided here, once,
by `handle_delivery`.
"""

from __future__ import annotations

import abc
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from dxc_shared.logging import (
    CONNECTION_ID,
    CORRELATION_ID,
    current_log_context,
    get_logger,
    log_context,
)
from dxc_shared.metrics import BUS_CONSUMED, BUS_HANDLER_DURATION, BUS_IN_FLIGHT, BUS_PUBLISHED

logger = get_logger(__name__)


class BusMessage(BaseModel):
    """Base of every message on the bus. Subclasses set `topic`, the routing key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[str]


M = TypeVar("M", bound=BusMessage)


@dataclass(frozen=True)
class Envelope:
    """A message as it travels: serialised body plus transport-neutral metadata."""

    topic: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    published_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    attempt: int = 1

    @classmethod
    def of(cls, message: BusMessage, headers: Mapping[str, str] | None = None) -> Envelope:
        return cls(
            topic=message.topic,
            body=message.model_dump_json().encode(),
            headers=dict(headers or {}),
        )

    def next_attempt(self) -> Envelope:
        return Envelope(
            topic=self.topic,
            body=self.body,
            headers=self.headers,
            message_id=self.message_id,
            published_at=self.published_at,
            attempt=self.attempt + 1,
        )

    def payload(self) -> object:
        return json.loads(self.body)


@dataclass(frozen=True)
class MessageContext:
    message_id: str
    topic: str
    attempt: int
    headers: Mapping[str, str]

    @property
    def correlation_id(self) -> str | None:
        return self.headers.get(CORRELATION_ID)

    @property
    def connection_id(self) -> str | None:
        return self.headers.get(CONNECTION_ID)


Handler = Callable[[M, MessageContext], Awaitable[None]]


class DeadLetterNow(Exception):
    """Raised by a handler when retrying cannot help: the message goes straight to the
    dead-letter queue with this reason."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing message is tried, and how long to wait before each retry.

    `backoff[i]` is the wait before attempt i + 2; the last value repeats if there are more
    attempts than values.
    """

    max_attempts: int = 5
    backoff: Sequence[float] = (1.0, 5.0, 30.0, 120.0)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or not self.backoff:
            raise ValueError("a retry policy needs at least one attempt and one back-off value")

    def delay_before(self, attempt: int) -> float:
        """The wait before `attempt` (2 for the first retry)."""
        return self.backoff[min(attempt - 2, len(self.backoff) - 1)]

    @property
    def distinct_delays(self) -> list[float]:
        used = [self.delay_before(attempt) for attempt in range(2, self.max_attempts + 1)]
        return sorted(set(used))


@dataclass(frozen=True)
class Subscription(Generic[M]):
    """A durable queue bound to one message type's topic, consumed by one typed handler."""

    queue: str
    message_type: type[M]
    handler: Handler[M]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 1


@dataclass(frozen=True)
class Ack:
    pass


@dataclass(frozen=True)
class Retry:
    delay: float
    reason: str


@dataclass(frozen=True)
class DeadLetter:
    reason: str


Outcome = Ack | Retry | DeadLetter


@dataclass(frozen=True)
class DeadLetteredMessage:
    envelope: Envelope
    queue: str
    reason: str


async def handle_delivery(subscription: Subscription[M], envelope: Envelope) -> Outcome:
    """Run the handler on one delivery and decide what the transport does with it."""
    queue = subscription.queue
    with log_context(
        correlation_id=envelope.headers.get(CORRELATION_ID),
        connection_id=envelope.headers.get(CONNECTION_ID),
    ):
        try:
            message = subscription.message_type.model_validate_json(envelope.body)
        except ValidationError as error:
            # A malformed message will never parse: retrying would only delay the dead letter.
            reason = f"malformed {envelope.topic} message: {error.error_count()} error(s): {error}"
            logger.error("bus.message_malformed", queue=queue, message_id=envelope.message_id)
            BUS_CONSUMED.labels(queue, "dead_lettered").inc()
            return DeadLetter(reason)
        context = MessageContext(
            message_id=envelope.message_id,
            topic=envelope.topic,
            attempt=envelope.attempt,
            headers=envelope.headers,
        )
        started = time.perf_counter()
        BUS_IN_FLIGHT.labels(queue).inc()
        try:
            await subscription.handler(message, context)
        except DeadLetterNow as error:
            outcome: Outcome = DeadLetter(str(error) or type(error).__name__)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            if envelope.attempt >= subscription.retry.max_attempts:
                outcome = DeadLetter(f"gave up after {envelope.attempt} attempts; last: {reason}")
            else:
                outcome = Retry(subscription.retry.delay_before(envelope.attempt + 1), reason)
            logger.warning(
                "bus.handler_failed",
                queue=queue,
                message_id=envelope.message_id,
                attempt=envelope.attempt,
                error=reason,
                exc_info=not isinstance(outcome, Retry),
            )
        else:
            outcome = Ack()
        finally:
            BUS_IN_FLIGHT.labels(queue).dec()
            BUS_HANDLER_DURATION.labels(queue).observe(time.perf_counter() - started)
    label = {Ack: "ok", Retry: "retried", DeadLetter: "dead_lettered"}[type(outcome)]
    BUS_CONSUMED.labels(queue, label).inc()
    return outcome


class Consumer(abc.ABC):
    """A running subscription."""

    @abc.abstractmethod
    async def stop(self, drain_seconds: float) -> None:
        """Stop taking messages, then wait up to `drain_seconds` for in-flight ones to
        finish. Whatever has not finished is left unacknowledged for redelivery."""


class Publisher(abc.ABC):
    async def publish(
        self, message: BusMessage, *, headers: Mapping[str, str] | None = None
    ) -> None:
        """Publish a typed message; the ids bound to the current log context travel with it."""
        await self.publish_envelope(
            Envelope.of(message, {**current_log_context(), **(headers or {})})
        )

    async def publish_envelope(self, envelope: Envelope) -> None:
        """Publish and return once the broker has the message (publisher confirm)."""
        await self._send(envelope)
        BUS_PUBLISHED.labels(envelope.topic).inc()

    @abc.abstractmethod
    async def _send(self, envelope: Envelope) -> None: ...


class Broker(Publisher):
    """Publisher and consumer factory over one transport."""

    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise unless the broker is reachable and usable."""

    @abc.abstractmethod
    async def consume(self, subscription: Subscription[M]) -> Consumer:
        """Declare the subscription's queues and start handling messages."""

    @abc.abstractmethod
    async def take_dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetteredMessage]:
        """Remove and return up to `limit` messages from the queue's dead-letter queue, oldest
        first (for operators replaying them, and for tests)."""
