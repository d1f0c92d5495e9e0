"""Xero's injected faults: the kit's faults, plus which limit a throttle reports as broken."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sandbox_kit.faults import Fault


class XeroFault(Fault):
    problem: Literal["minute", "day", "concurrent", "appminute"] = Field(
        "minute", description="for throttle: the X-Rate-Limit-Problem header"
    )
