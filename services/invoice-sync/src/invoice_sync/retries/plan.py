"""What a retry request does to its invoice (pure): only a Failed invoice goes back to No."""

from __future__ import annotations

from dataclasses import dataclass

from dxc_shared.dynamics.schema import ExportStatus

RETRY_REQUESTED = "Retry requested in the portal"


@dataclass(frozen=True)
class Retry:
    record_id: str
    reset: bool  # set the export status back to No
    message: str  # the sync history row's


def decide(record_id: str, export_status: int | None) -> Retry:
    if export_status == ExportStatus.FAILED:
        return Retry(
            record_id,
            reset=True,
            message=f"{RETRY_REQUESTED}: the export status is set back to No, so it is "
            "exported again now.",
        )
    if export_status == ExportStatus.YES:
        return Retry(
            record_id,
            reset=False,
            message=f"{RETRY_REQUESTED}: nothing to do, it is already in Xero (export status Yes).",
        )
    if export_status == ExportStatus.UPDATE:
        return Retry(
            record_id,
            reset=False,
            message=f"{RETRY_REQUESTED}: nothing to do, its export status is Update in Xero "
            "(Xero's copy is updated on the next run).",
        )
    return Retry(
        record_id,
        reset=False,
        message=f"{RETRY_REQUESTED}: nothing to do, its export status is already No "
        "(it is exported when it is ready).",
    )
