from dxc_shared.bus.contract import (
    Broker,
    BusMessage,
    Consumer,
    DeadLetteredMessage,
    DeadLetterNow,
    Envelope,
    MessageContext,
    Publisher,
    RetryPolicy,
    Subscription,
)
from dxc_shared.bus.factory import create_broker

__all__ = [
    "Broker",
    "BusMessage",
    "Consumer",
    "DeadLetterNow",
    "DeadLetteredMessage",
    "Envelope",
    "MessageContext",
    "Publisher",
    "RetryPolicy",
    "Subscription",
    "create_broker",
]
