"""One health state per connection, from every signal the portal has. A pure function: the
list, the connection page and `GET /v1/connections/{id}/health` all show what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from portal_api.health.schemas import Action, HealthOut, HealthReason, HealthState

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
    payment_overdue: bool = False  # a renewal failed; retried daily in the grace period
    invoices_paused_until: date | None = None  # at the plan's monthly invoice limit
    failed_invoices: int = 0
    not_written_back: int = 0
    last_run_error: str | None = None


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _action_reasons(s: Signals) -> list[HealthReason]:
    revoked: tuple[tuple[bool, str, str, Action], ...] = (
        (s.xero_revoked, "xero_revoked", "Xero", "reauthorise_xero"),
        (s.dynamics_revoked, "dynamics_revoked", "Dynamics 365", "reauthorise_dynamics"),
    )
    reasons = [
        HealthReason(
            code=code,
            message=f"{side} no longer accepts this connection's authorisation. "
            f"Connect to {side} again.",
            action=action,
        )
        for is_revoked, code, side, action in revoked
        if is_revoked
    ]
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
    # (code, how many invoices, what happened to them)
    open_invoices = (
        ("invoices_failed", s.failed_invoices, " could not be sent to Xero."),
        (
            "not_written_back",
            s.not_written_back,
            ": Xero's payment status could not be written back to Dynamics 365.",
        ),
    )
    reasons = [
        HealthReason(
            code=code, message=f"{_plural(count, 'invoice', 'invoices')}{what}", count=count
        )
        for code, count, what in open_invoices
        if count
    ]
    if s.last_run_error:
        reasons.append(
            HealthReason(
                code="last_run_stopped", message=f"The last run stopped: {s.last_run_error}"
            )
        )
    if s.invoices_paused_until is not None:
        until = s.invoices_paused_until
        reasons.append(
            HealthReason(
                code="plan_limit_reached",
                message="This month's plan limit of invoices is reached: new invoices wait "
                f"until {until.day} {until:%b %Y}. Choose a bigger plan to send them now.",
            )
        )
    if s.payment_overdue:
        reasons.append(
            HealthReason(
                code="payment_failed",
                message="This month's payment did not go through; it is tried again daily. "
                "Update your card under Billing.",
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
