"""What every request handler may need, built once per service and kept on `app.state`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import httpx
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.db import Database
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.billing.payments import PaymentProvider
from portal_api.kit.errors import PortalError
from portal_api.kit.network import client_address
from portal_api.settings import PortalApiSettings


@dataclass(frozen=True)
class PortalContext:
    settings: PortalApiSettings
    database: Database
    http: httpx.AsyncClient
    token_broker: TokenBrokerClient
    payments: PaymentProvider


def get_context(request: Request) -> PortalContext:
    context: PortalContext = request.app.state.portal
    return context


def get_client_address(request: Request) -> str:
    return client_address(request, get_context(request).settings.trusted_proxy_networks)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request, committed when the handler returns. A `PortalError`
    raised with `keep_changes` (a failed login attempt, a recorded authorisation error) commits
    what was done before it is answered."""
    kept: PortalError | None = None
    async with get_context(request).database.unit_of_work() as session:
        try:
            yield session
        except PortalError as error:
            if not error.keep_changes:
                raise
            kept = error
    if kept is not None:
        raise kept


Context = Annotated[PortalContext, Depends(get_context)]
ClientAddress = Annotated[str, Depends(get_client_address)]
# scope="function": commit before the response is sent, so a failed commit is never answered
# with a success.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
