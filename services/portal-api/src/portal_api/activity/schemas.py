from __future__ import annotations

from datetime import datetime

from dxc_shared.messages import SyncFailure
from pydantic import BaseModel


class SyncRunOut(BaseModel):
    direction: str
    started_at: datetime
    finished_at: datetime
    succeeded: int
    failed: int
    error: str | None
    failures: list[SyncFailure]


class ActivityOut(BaseModel):
    runs: list[SyncRunOut]


class SyncRequestedOut(BaseModel):
    message: str
