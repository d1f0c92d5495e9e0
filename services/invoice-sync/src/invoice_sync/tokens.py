"""Access tokens from token-broker, asked for when a call needs one and kept only in memory
until shortly before they expire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.credentials import AccessToken
from dxc_shared.messages import Provider

_MARGIN = timedelta(seconds=60)


class BrokeredToken:
    def __init__(
        self,
        broker: TokenBrokerClient,
        connection_id: uuid.UUID,
        provider: Provider,
        *,
        resource: str | None = None,
    ) -> None:
        self._broker = broker
        self._connection_id = connection_id
        self._provider = provider
        self._resource = resource
        self._token: AccessToken | None = None

    async def __call__(self) -> str:
        token = self._token
        if token is None or _aware(token.expires_at) - _MARGIN <= datetime.now(UTC):
            token = await self._broker.access_token(
                self._connection_id, self._provider, resource=self._resource
            )
            self._token = token
        return token.access_token


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
