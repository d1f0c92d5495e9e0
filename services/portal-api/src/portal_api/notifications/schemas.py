from __future__ import annotations

from pydantic import BaseModel, Field


class PreferencesOut(BaseModel):
    reauthorisation: bool = Field(default=True, description="A connection must be authorised again")
    failures: bool = Field(
        default=True, description="The first failure after a healthy spell, then a daily digest"
    )
    trial_ending: bool = Field(default=True, description="The free trial ends in 3 days")
    billing: bool = Field(default=True, description="A payment failed or a plan limit is reached")


class PreferencesIn(BaseModel):
    reauthorisation: bool | None = None
    failures: bool | None = None
    trial_ending: bool | None = None
    billing: bool | None = None
