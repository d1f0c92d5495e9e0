"""The budget's SQL: the organisation's and the app's windows read under row locks (the
organisation's first, always, so two askers never wait on each other crosswise), decided on and
written back in one short transaction."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dxc_shared.xero_budget.decisions import AppWindow, TenantWindow
from dxc_shared.xero_budget.models import XeroCallWindow

APP_SCOPE = "app"


def tenant_scope(tenant_id: str) -> str:
    return f"tenant:{tenant_id.lower()}"


def _tenant_of(state: dict[str, Any]) -> TenantWindow:
    return TenantWindow(
        minute_calls=tuple(state.get("minute_calls", ())),
        day_start=state.get("day_start", 0.0),
        day_used=state.get("day_used", 0),
        blocked_until=state.get("blocked_until", 0.0),
        holders=dict(state.get("holders", {})),
        exports_waiting_until=state.get("exports_waiting_until", 0.0),
    )


def _app_of(state: dict[str, Any]) -> AppWindow:
    return AppWindow(
        window_start=state.get("window_start", 0.0),
        current=state.get("current", 0),
        previous=state.get("previous", 0),
    )


async def _locked(session: AsyncSession, scope: str) -> XeroCallWindow:
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    await session.execute(
        insert(XeroCallWindow).values(scope=scope, state={}).on_conflict_do_nothing()
    )
    query = select(XeroCallWindow).where(XeroCallWindow.scope == scope).with_for_update()
    return (await session.execute(query)).scalar_one()


async def windows(
    session: AsyncSession, tenant_id: str
) -> tuple[XeroCallWindow, TenantWindow, XeroCallWindow, AppWindow]:
    """Both windows, locked until the transaction ends."""
    tenant_row = await _locked(session, tenant_scope(tenant_id))
    app_row = await _locked(session, APP_SCOPE)
    return tenant_row, _tenant_of(tenant_row.state), app_row, _app_of(app_row.state)


def store(row: XeroCallWindow, window: TenantWindow | AppWindow) -> None:
    state = asdict(window)
    if isinstance(window, TenantWindow):
        state["minute_calls"] = list(window.minute_calls)
    row.state = state
