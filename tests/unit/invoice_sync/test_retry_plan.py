"""The retry plan: only a Failed invoice goes back to No; every request says what it did."""

from __future__ import annotations

import pytest
from dxc_shared.dynamics.schema import ExportStatus
from invoice_sync.retries import plan

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("export_status", "reset", "said"),
    [
        (ExportStatus.FAILED, True, "the export status is set back to No"),
        (ExportStatus.YES, False, "nothing to do, it is already in Xero"),
        (ExportStatus.NO, False, "nothing to do, its export status is already No"),
        (None, False, "nothing to do, its export status is already No"),
    ],
)
def test_only_a_failed_invoice_is_reset(
    export_status: ExportStatus | None, reset: bool, said: str
) -> None:
    retry = plan.decide("inv-1", export_status)
    assert (retry.record_id, retry.reset) == ("inv-1", reset)
    assert retry.message.startswith(f"{plan.RETRY_REQUESTED}: {said}")
