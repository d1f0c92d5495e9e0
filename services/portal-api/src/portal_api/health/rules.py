"""One health state per connection, from every signal the portal has. A pure function: the
list, the connection page and `GET /v1/connections/{id}/health` all show what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from portal_api.health.schemas import HealthOut, HealthReason, HealthState

TRIAL_WARNING = timedelta(days=3)
LABELS: dict[HealthState, str] = {
    "healthy": "Healthy",
    "attention": "Needs attention",
    "action_needed": "Action needed",
    "paused": "Paused",
}


@dataclass(frozen=True)
class Signals:
    archived: bool = False
    billing_paused: bool = False
    xero_connected: bool = True
    xero_revoked: bool = False
    xero_organisation_chosen: bool = True
    dynamics_connected: bool = True
    dynamics_revoked: bool = False
    dynamics_organisation_chosen: bool = True
    tables_installed: bool = True
    missing_privileges: tuple[str, ...] = field(default_factory=tuple)
    plan_active: bool = True
    trial_left: timedelta | None = None  # None: subscribed, or the trial is over
    failed_invoices: int = 0
    not_written_back: int = 0
    last_run_error: str | None = None


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _action_reasons(s: Signals) -> list[HealthReason]:
    reasons: list[HealthReason] = []
    if s.xero_revoked:
        reasons.append(
            HealthReason(
                code="xero_revoked",
                message="Xero no longer accepts this connection's authorisation. "
                "Connect to Xero again.",
                action="reauthorise_xero",
            )
        )
    if s.dynamics_revoked:
        reasons.append(
            HealthReason(
                code="dynamics_revoked",
                message="Dynamics 365 no longer accepts this connection's authorisation. "
                "Connect to Dynamics 365 again.",
                action="reauthorise_dynamics",
            )
        )
    unfinished = [
        step
        for step, done in (
            ("connect to Xero", s.xero_connected or s.xero_revoked),
            ("choose the Xero organisation", s.xero_organisation_chosen),
            ("connect to Dynamics 365", s.dynamics_connected or s.dynamics_revoked),
            ("choose the Dynamics 365 organisation", s.dynamics_organisation_chosen),
            ("install the connector in Dynamics 365", s.tables_installed),
        )
        if not done
    ]
    if unfinished:
        reasons.append(
            HealthReason(
                code="setup_unfinished",
                message=f"Finish setting up: {', '.join(unfinished)}.",
                action="finish_setup",
            )
        )
    if s.missing_privileges:
        reasons.append(
            HealthReason(
                code="permissions_missing",
                message="The Dynamics 365 user lacks "
                f"{_plural(len(s.missing_privileges), 'privilege', 'privileges')} the "
                f"connector needs: {', '.join(s.missing_privileges)}.",
                count=len(s.missing_privileges),
                action="fix_permissions",
            )
        )
    if not s.plan_active:
        reasons.append(
            HealthReason(
                code="subscription_needed",
                message="The free trial has ended. Subscribe to a plan to start syncing again.",
                action="subscribe",
            )
        )
    return reasons


def _attention_reasons(s: Signals) -> list[HealthReason]:
    reasons: list[HealthReason] = []
    if s.failed_invoices:
        reasons.append(
            HealthReason(
                code="invoices_failed",
                message=f"{_plural(s.failed_invoices, 'invoice', 'invoices')} could not be "
                "sent to Xero.",
                count=s.failed_invoices,
            )
        )
    if s.not_written_back:
        reasons.append(
            HealthReason(
                code="not_written_back",
                message=f"{_plural(s.not_written_back, 'invoice', 'invoices')}: Xero's "
                "payment status could not be written back to Dynamics 365.",
                count=s.not_written_back,
            )
        )
    if s.last_run_error:
        reasons.append(
            HealthReason(
                code="last_run_stopped", message=f"The last run stopped: {s.last_run_error}"
            )
        )
    if s.trial_left is not None and s.trial_left <= TRIAL_WARNING:
        days = max(s.trial_left.days, 0)
        when = "today" if days == 0 else f"in {_plural(days, 'day', 'days')}"
        reasons.append(
            HealthReason(
                code="trial_ending",
                message=f"The free trial ends {when}. Subscribe to keep syncing.",
                action="subscribe",
            )
        )
    return reasons


def health(s: Signals) -> HealthOut:
    if s.archived:
        reasons = [
            HealthReason(
                code="archived", message="This connection is archived; nothing syncs any more."
            )
        ]
        return HealthOut(state="paused", label=LABELS["paused"], reasons=reasons)
    if s.billing_paused:
        reasons = [
            HealthReason(
                code="billing_paused",
                message="Syncing is paused because the last payment failed. Update your "
                "billing details under Billing.",
            )
        ]
        return HealthOut(state="paused", label=LABELS["paused"], reasons=reasons)
    action = _action_reasons(s)
    attention = _attention_reasons(s)
    state: HealthState = "action_needed" if action else "attention" if attention else "healthy"
    return HealthOut(state=state, label=LABELS[state], reasons=[*action, *attention])
