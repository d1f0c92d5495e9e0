"""One health state per connection from every signal: the table of what wins."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from portal_api.health.rules import Signals, health

HEALTHY = Signals()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("signals", "state", "codes", "actions"),
    [
        (HEALTHY, "healthy", [], []),
        (Signals(failed_invoices=2), "attention", ["invoices_failed"], [None]),
        (Signals(not_written_back=1), "attention", ["not_written_back"], [None]),
        (Signals(last_run_error="Xero is down."), "attention", ["last_run_stopped"], [None]),
        (
            Signals(trial_left=timedelta(days=2, hours=3)),
            "attention",
            ["trial_ending"],
            ["subscribe"],
        ),
        (Signals(trial_left=timedelta(days=10)), "healthy", [], []),
        (
            Signals(invoices_paused_until=date(2026, 12, 1)),
            "attention",
            ["plan_limit_reached"],
            [None],
        ),
        (Signals(payment_overdue=True), "attention", ["payment_failed"], [None]),
        (
            Signals(payment_overdue=True, plan_active=False),
            "action_needed",
            ["subscription_needed", "payment_failed"],
            ["subscribe", None],
        ),
        (
            Signals(xero_revoked=True, failed_invoices=1),
            "action_needed",
            ["xero_revoked", "invoices_failed"],
            ["reauthorise_xero", None],
        ),
        (
            Signals(dynamics_revoked=True),
            "action_needed",
            ["dynamics_revoked"],
            ["reauthorise_dynamics"],
        ),
        (
            Signals(missing_privileges=("write invoices",)),
            "action_needed",
            ["permissions_missing"],
            ["fix_permissions"],
        ),
        (Signals(plan_active=False), "action_needed", ["subscription_needed"], ["subscribe"]),
        (Signals(tables_installed=False), "action_needed", ["setup_unfinished"], ["finish_setup"]),
        (
            Signals(xero_connected=False, xero_organisation_chosen=False),
            "action_needed",
            ["setup_unfinished"],
            ["finish_setup"],
        ),
        (Signals(archived=True, xero_revoked=True), "paused", ["archived"], [None]),
        (Signals(billing_paused=True, failed_invoices=3), "paused", ["billing_paused"], [None]),
    ],
)
def test_the_state_and_its_reasons(
    signals: Signals, state: str, codes: list[str], actions: list[str | None]
) -> None:
    result = health(signals)
    assert result.state == state
    assert [reason.code for reason in result.reasons] == codes
    assert [reason.action for reason in result.reasons] == actions


@pytest.mark.unit
def test_counts_are_in_the_words_and_nothing_sends_you_to_the_portal() -> None:
    result = health(
        Signals(xero_revoked=True, failed_invoices=1, not_written_back=3, plan_active=False)
    )
    assert result.label == "Action needed"
    messages = [reason.message for reason in result.reasons]
    assert "1 invoice could not be sent to Xero." in messages
    assert any(m.startswith("3 invoices: ") for m in messages)
    assert [r.count for r in result.reasons if r.code == "not_written_back"] == [3]
    assert not any("portal" in message for message in messages)


@pytest.mark.unit
def test_unfinished_setup_names_the_steps_left() -> None:
    result = health(Signals(dynamics_connected=False, dynamics_organisation_chosen=False))
    assert result.reasons[0].message == (
        "Finish setting up: connect to Dynamics 365, choose the Dynamics 365 organisation."
    )
