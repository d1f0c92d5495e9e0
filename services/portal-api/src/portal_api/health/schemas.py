from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

HealthState = Literal["healthy", "attention", "action_needed", "paused"]
Action = Literal[
    "reauthorise_xero", "reauthorise_dynamics", "subscribe", "fix_permissions", "finish_setup"
]


class HealthReason(BaseModel):
    code: str
    message: str = Field(description="In words, for the person looking at the connection")
    count: int | None = None
    action: Action | None = Field(default=None, description="What fixes it, when one thing does")


class HealthOut(BaseModel):
    state: HealthState
    label: str = Field(description="The state as the portal shows it, e.g. Needs attention")
    reasons: list[HealthReason]
