"""Doing a run's independent I/O at the same time, so a run takes as long as its slowest step
rather than all of them added up: `together` for reads that need nothing of each other (a
connection's settings and its invoices; an invoice set's customers, products and codes), and
`overlapped` for two steps of a sequence (a batch's write-back to Dynamics while the next batch
is created in Xero)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")


async def every(*awaitables: Awaitable[T]) -> list[T]:
    """All at once, their results in order. When one fails the others are cancelled and waited
    for, then the failure is raised as it is (not wrapped in an exception group, so a caller's
    `except` for transient faults still applies)."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            failure = task.exception() if task in done and not task.cancelled() else None
            if failure is not None:
                raise failure
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()  # no-op for those done
        await asyncio.gather(*tasks, return_exceptions=True)


async def together(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """`every` for two of different types."""
    a, b = await every(first, second)
    return cast(A, a), cast(B, b)


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
