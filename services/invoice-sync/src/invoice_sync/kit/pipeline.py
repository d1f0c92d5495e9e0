"""Two steps of a sequence overlapped: the second step of one item runs while the first step
of the next does (e.g. a batch's write-back to Dynamics while the next batch is created in
Xero), so the sequence moves at the pace of the slower step, not of both added up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def overlapped(
    items: Iterable[T],
    first: Callable[[T], Awaitable[R]],
    then: Callable[[R], Coroutine[Any, Any, None]],
) -> None:
    """`first` of each item in turn, and `then` of its result (one `then` at a time, in order);
    when either fails, the `then` under way ends before the failure is raised."""
    following: asyncio.Task[None] | None = None
    try:
        for item in items:
            result = await first(item)
            if following is not None:
                await following
            following = asyncio.create_task(then(result))
        if following is not None:
            await following
    finally:
        if following is not None and not following.done():
            await asyncio.gather(following, return_exceptions=True)
