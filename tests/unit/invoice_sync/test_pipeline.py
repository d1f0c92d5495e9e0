"""A run's concurrent I/O: `every` and `together` start all at once and stop all on a failure,
raising it unwrapped; `overlapped` keeps each item's second step in order behind its first."""

from __future__ import annotations

import asyncio

import pytest
from dxc_shared.clients.dataverse import DataverseUnavailable
from invoice_sync.kit.pipeline import every, overlapped, together

pytestmark = pytest.mark.unit


async def test_every_runs_all_at_once_and_answers_in_order() -> None:
    # Each waits for the next to have started: in turn, this would never finish.
    started = [asyncio.Event() for _ in range(3)]

    async def step(index: int) -> int:
        started[index].set()
        if index + 1 < len(started):
            await started[index + 1].wait()
        return index * 10

    assert await asyncio.wait_for(every(step(0), step(1), step(2)), timeout=5) == [0, 10, 20]


async def test_together_keeps_each_result_its_type() -> None:
    async def text() -> str:
        return "settings"

    async def numbers() -> list[int]:
        return [1, 2]

    assert await together(text(), numbers()) == ("settings", [1, 2])


async def test_a_failure_cancels_the_rest_and_is_raised_as_it_is() -> None:
    cancelled = asyncio.Event()

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def fails() -> None:
        await asyncio.sleep(0)
        raise DataverseUnavailable("Dataverse answered 503")

    with pytest.raises(DataverseUnavailable, match="503"):
        await asyncio.wait_for(together(waits_forever(), fails()), timeout=5)
    assert cancelled.is_set()


async def test_being_cancelled_cancels_what_it_started() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def waits_forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    outer = asyncio.ensure_future(every(waits_forever()))
    await started.wait()
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert cancelled.is_set()


async def test_overlapped_writes_back_in_order_while_the_next_is_created() -> None:
    events: list[str] = []
    second_created = asyncio.Event()

    async def create(batch: int) -> int:
        events.append(f"create {batch}")
        if batch == 2:
            second_created.set()
        return batch

    async def write_back(batch: int) -> None:
        if batch == 1:  # still under way when the next batch is created
            await second_created.wait()
        events.append(f"write back {batch}")

    await asyncio.wait_for(overlapped([1, 2, 3], create, write_back), timeout=5)
    assert events == [
        "create 1",
        "create 2",
        "write back 1",
        "create 3",
        "write back 2",
        "write back 3",
    ]
