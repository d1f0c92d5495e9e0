from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from dxc_shared.messages import SyncFailure
from pydantic import BaseModel, ConfigDict, Field

from portal_api.kit.time import UtcMoment

InvoiceOutcome = Literal["exported", "failed", "not_written_back", "retry_requested", "skipped"]


class SyncRunOut(BaseModel):
    """Read from a `SyncRun` row (`from_attributes`)."""

    model_config = ConfigDict(from_attributes=True)

    direction: str
    started_at: UtcMoment
    finished_at: UtcMoment
    succeeded: int
    failed: int
    error: str | None
    failures: list[SyncFailure]
    empty_runs: int = Field(
        description="More than 0: this row folds that many runs with no changes, from "
        "started_at to finished_at"
    )


class ActivityOut(BaseModel):
    runs: list[SyncRunOut]
    retention: str


class SyncRequestedOut(BaseModel):
    message: str


class InvoiceEventOut(BaseModel):
    at: datetime
    outcome: str = Field(description="exported, written_back, failed, not_written_back, ...")
    message: str | None


class InvoiceOut(BaseModel):
    record_id: str = Field(description="The Dynamics 365 invoice's id")
    number: str | None
    customer_name: str | None
    outcome: InvoiceOutcome
    message: str | None = Field(description="Why it failed, in words")
    updated_at: datetime
    xero_url: str | None = Field(description="The invoice in Xero, once it is there")
    dynamics_url: str | None = Field(description="The invoice in Dynamics 365")
    history: list[InvoiceEventOut] = Field(description="Newest first")


class InvoicePageOut(BaseModel):
    invoices: list[InvoiceOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
    retention: str


class DailyVolume(BaseModel):
    day: date
    invoices: int


class OverviewOut(BaseModel):
    synced_this_month: int = Field(description="Invoices sent to Xero since the 1st (UTC)")
    plan_limit: int = Field(description="The plan's invoices a month")
    open_failures: int
    median_lag_seconds: float | None = Field(
        description="Estimated from run timestamps (the workers do not report when an invoice "
        "became ready): half the sync interval, the median wait for the next run, plus the "
        "median time from a run's start to its end, over runs that sent invoices in the last "
        "30 days. Null when no run sent any."
    )
    last_successful_run_at: datetime | None
    daily: list[DailyVolume] = Field(description="Invoices sent per day, the last 30 days (UTC)")
