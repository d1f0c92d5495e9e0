from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Deadlines are generous: a wait returns as soon as its condition holds, so a long one costs
# nothing on a quiet machine and keeps a loaded one (CI, a second suite beside it) from failing.
WITHIN = 60.0


async def eventually(condition: Callable[[], bool], *, within: float = WITHIN) -> None:
    """Wait until `condition()` holds, polling; fail with a clear message after `within` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)


async def eventually_async(
    condition: Callable[[], Awaitable[bool]], *, within: float = WITHIN
) -> None:
    """`eventually` for a condition that has to ask over the network."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)
