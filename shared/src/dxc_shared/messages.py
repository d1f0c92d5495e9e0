"""Messages that cross service boundaries: the contract between publishers and consumers."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from dxc_shared.bus import BusMessage

Provider = Literal["xero", "dynamics"]


class CredentialNeedsReauthorisation(BusMessage):
    """token-broker can no longer refresh a connection's grant: a person must reconnect."""

    topic: ClassVar[str] = "credentials.reauthorisation-needed"
    connection_id: uuid.UUID
    provider: Provider
    message: str
