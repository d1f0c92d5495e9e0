"""Which names on the shared servers a test run may remove: only those of runs long over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.leftovers import STALE_AFTER, run_id, stale

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_run_id_starts_with_the_runs_start_in_utc() -> None:
    started = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)
    assert run_id(started).startswith("t202612011305_")
    assert run_id(started) != run_id(started)


@pytest.mark.parametrize(
    ("name", "removed"),
    [
        (f"dxc_test_{run_id(NOW - STALE_AFTER - timedelta(minutes=2))}", True),
        (f"dxc_test_{run_id(NOW - timedelta(minutes=30))}", False),  # a run still going
        (f"dxc_test_{run_id(NOW - STALE_AFTER + timedelta(minutes=2))}", False),
        ("dxc_test_8f3a9c0d1e", False),  # not stamped: not ours to judge
        ("dxc_test_t2026120_abcdef", False),
        (f"other_{run_id(NOW - timedelta(days=3))}", False),  # another prefix
    ],
)
def test_only_names_of_runs_long_over_are_stale(name: str, removed: bool) -> None:
    assert stale([name], "dxc_test_", NOW) == ([name] if removed else [])


def test_a_stale_runs_queues_are_recognised_by_the_bus_prefix() -> None:
    old = run_id(NOW - timedelta(days=2))
    names = [f"dxc-test-{old}-1a2b3c4d.invoice-sync.jobs", f"dxc-test-{run_id(NOW)}-9f.events"]
    assert stale(names, "dxc-test-", NOW) == names[:1]
