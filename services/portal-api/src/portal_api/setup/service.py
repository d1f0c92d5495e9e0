"""Install into Dynamics, the checklist, and re-reading what lives in Dynamics."""

from __future__ import annotations

from dataclasses import dataclass

from dxc_shared.dynamics import installer
from dxc_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.connections import service as connections
from portal_api.connections.models import Connection
from portal_api.connections.service import ConnectionState
from portal_api.context import PortalContext
from portal_api.kit.errors import Conflict, PortalError
from portal_api.push import registration as push
from portal_api.setup import dynamics
from portal_api.setup.schemas import (
    ChecklistOut,
    ChecklistStep,
    ConnectionWithSettings,
    DynamicsSettings,
    InstallOut,
    UninstallOut,
)

HOW_TO_INSTALL = (
    "Choose Install to add the connector's solution to Dynamics 365, or download the solution "
    "and import it there (Settings > Solutions > Import), then choose Re-read settings from "
    "Dynamics 365."
)

logger = get_logger(__name__)


async def install(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> InstallOut:
    client = dynamics.dataverse(session, context, state)
    try:
        result = await dynamics.install(client, state)
    except dynamics.DATAVERSE_ERRORS as error:
        raise dynamics.dataverse_problem(error) from error
    try:
        await push.subscribe(session, context, client, state)
        result.push_registered = True
    except dynamics.DATAVERSE_ERRORS as error:  # polling still syncs; the answer says why
        logger.warning("setup.push_not_registered", exc_info=True)
        result.push_problem = dynamics.dataverse_problem(error).detail
    await connections.touch(session, state)
    return result


async def uninstall(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> UninstallOut:
    """Remove the connector's webhook and solution from Dynamics 365 (its tables and their
    rows too)."""
    client = dynamics.dataverse(session, context, state)
    try:
        await push.unsubscribe(session, context, state)
        removed = await dynamics.uninstall(client, state)
    except dynamics.DATAVERSE_ERRORS as error:
        raise dynamics.dataverse_problem(error) from error
    await connections.touch(session, state)
    return UninstallOut(removed=removed)


@dataclass
class SettingsRead:
    settings: DynamicsSettings | None
    problem: str | None = None


async def _settings(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> SettingsRead:
    connection = state.connection
    if not connection.tables_installed or connection.dynamics_connector_id is None:
        return SettingsRead(None, "Install the connector in Dynamics 365 first.")
    if connection.archived_at is not None:
        return SettingsRead(None, "This connection is archived.")
    if connection.dynamics_error:
        return SettingsRead(None, connection.dynamics_error)
    client = dynamics.dataverse(session, context, state)
    try:
        return SettingsRead(await dynamics.read_settings(client, connection.dynamics_connector_id))
    except dynamics.DATAVERSE_ERRORS as error:
        return SettingsRead(None, dynamics.dataverse_problem(error).detail)
    except PortalError as error:  # no token: the problem is the tip
        return SettingsRead(None, error.detail)


async def refresh(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> ConnectionWithSettings:
    """Re-read from Dynamics: whether the connector's solution is there (imported by Install
    or by an administrator by hand), the settings row and the signed-in user's privileges."""
    client = dynamics.dataverse(session, context, state)
    try:
        solution = await installer.installed(client)
        if solution is None:
            raise Conflict(f"The connector is not installed in Dynamics 365. {HOW_TO_INSTALL}")
        await dynamics.recognise(client, state, installed=True)
        connector = state.connection.dynamics_connector_id
        assert connector is not None  # recognise() found or created it
        settings = await dynamics.read_settings(client, connector)
    except dynamics.DATAVERSE_ERRORS as error:
        raise dynamics.dataverse_problem(error) from error
    await connections.touch(session, state)
    return ConnectionWithSettings(**state.out().model_dump(), settings=settings)


async def checklist(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> ChecklistOut:
    read = await _settings(session, context, state)
    steps = [
        *_xero_steps(state.connection),
        *_dynamics_steps(state.connection),
        *_setup_steps(state.connection, read),
        _subscription_step(state),
    ]
    return ChecklistOut(complete=all(step.done for step in steps), steps=steps)


def _signed_in_step(
    key: str, vendor: str, *, connected: bool, error: str | None, how: str
) -> ChecklistStep:
    """Connecting to a vendor: done once signed in and the vendor has not refused since."""
    return ChecklistStep(
        key=key,
        title=f"Connect to {vendor}",
        done=connected and error is None,
        tip=error or (f"Connected to {vendor}." if connected else how),
    )


def _xero_steps(c: Connection) -> list[ChecklistStep]:
    return [
        _signed_in_step(
            "xero_connected",
            "Xero",
            connected=c.xero_connected,
            error=c.xero_error,
            how="Choose Connect to Xero and sign in with a Xero user who can see the "
            "organisation's invoices.",
        ),
        ChecklistStep(
            key="xero_organisation",
            title="Choose the Xero organisation",
            done=c.xero_tenant_id is not None,
            tip=f"Syncing with {c.xero_tenant_name}."
            if c.xero_tenant_id
            else "Pick the Xero organisation to send invoices to.",
        ),
    ]


def _dynamics_steps(c: Connection) -> list[ChecklistStep]:
    return [
        _signed_in_step(
            "dynamics_connected",
            "Dynamics 365",
            connected=c.dynamics_connected,
            error=c.dynamics_error,
            how="Choose Connect to Dynamics and sign in with your Microsoft work account.",
        ),
        ChecklistStep(
            key="dynamics_organisation",
            title="Choose the Dynamics 365 organisation",
            done=c.dynamics_org_url is not None,
            tip=f"Syncing with {c.dynamics_org_name} ({c.dynamics_org_url})."
            if c.dynamics_org_url
            else "Pick the Dynamics 365 organisation whose invoices should go to Xero.",
        ),
    ]


def _permissions_tip(c: Connection, missing: list[str]) -> str:
    if missing:
        return (
            "Ask your Dynamics 365 administrator to give you the Xero Connector User security "
            "role (it lets you " + "; ".join(missing) + "), then choose Re-read settings from "
            "Dynamics 365."
        )
    if c.tables_installed:
        return "The signed-in Dynamics 365 user may do everything the connector needs."
    return "Install the connector first; its permissions are checked then."


def _setup_steps(c: Connection, read: SettingsRead) -> list[ChecklistStep]:
    missing = c.missing_privileges or []
    return [
        ChecklistStep(
            key="tables_installed",
            title="Install the connector in Dynamics 365",
            done=c.tables_installed,
            tip="The connector's solution is in Dynamics 365: its tables, the Xero forms and "
            "views, and the Xero Connector User security role."
            if c.tables_installed
            else HOW_TO_INSTALL,
        ),
        ChecklistStep(
            key="permissions",
            title="Dynamics 365 permissions",
            done=c.tables_installed and not missing,
            tip=_permissions_tip(c, missing),
        ),
        ChecklistStep(
            key="settings_reviewed",
            title="Review the connector settings in Dynamics 365",
            done=read.settings is not None,
            tip="The settings are in Dynamics 365 (Xero connector settings)."
            if read.settings is not None
            else read.problem
            or "Open Xero connector settings in Dynamics 365, create the settings for this "
            "connector (invoice numbers, contacts, products, default status and accounts), "
            "save them, then choose Re-read settings from Dynamics 365.",
        ),
    ]


def _subscription_step(state: ConnectionState) -> ChecklistStep:
    trial_end = state.trial_ends_at.strftime("%d %B %Y")
    return ChecklistStep(
        key="subscription_active",
        title="Subscription",
        done=state.plan_active,
        tip=f"Subscribed to the {state.subscription.plan} plan."
        if state.subscription_active and state.subscription is not None
        else f"Your free trial runs until {trial_end}; subscribe before then to keep syncing."
        if state.trial_active
        else "Your free trial has ended. Subscribe to a plan to start syncing again.",
    )
