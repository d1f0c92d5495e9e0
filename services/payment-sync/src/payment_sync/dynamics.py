"""Dataverse helpers payment-sync's domains share: bulk lookups by a column's values, change
sets that update a row, value comparison, and reading `$batch` outcomes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from dxc_shared.clients.dataverse import (
    JSON,
    BatchOperation,
    BatchResult,
    DataverseClient,
    DataverseThrottled,
    DataverseUnavailable,
    odata_literal,
)
from dxc_shared.messages import SyncFailure

# Dataverse has no `in` operator in every version; an `or` chain per chunk keeps URLs short.
LOOKUP_CHUNK = 50


async def rows_where_in(
    client: DataverseClient,
    entity_set: str,
    column: str,
    values: Iterable[str],
    *,
    select: Sequence[str],
) -> list[JSON]:
    """Every row whose `column` is one of `values`, in as few queries as URL length allows."""
    unique = sorted({value for value in values if value})
    rows: list[JSON] = []
    for start in range(0, len(unique), LOOKUP_CHUNK):
        chunk = unique[start : start + LOOKUP_CHUNK]
        condition = " or ".join(f"{column} eq {odata_literal(value)}" for value in chunk)
        rows.extend(await client.query(entity_set, select=select, filter=condition))
    return rows


def patch(entity_set: str, row_id: str, body: JSON, *, if_match: str = "*") -> BatchOperation:
    """Update only (`If-Match`): never create a row a person deleted meanwhile; with an ETag,
    only if the row is still as it was read."""
    return BatchOperation("PATCH", f"{entity_set}({row_id})", body, {"If-Match": if_match})


def same(current: Any, wanted: Any) -> bool:
    """Dataverse answers money and decimals as JSON numbers: compare numbers as decimals to
    the cent (or rate precision), everything else as is."""
    if isinstance(wanted, int | float | Decimal) and not isinstance(wanted, bool):
        if current is None:
            return False
        try:
            return Decimal(str(current)).quantize(Decimal("0.0001")) == Decimal(
                str(wanted)
            ).quantize(Decimal("0.0001"))
        except InvalidOperation:
            return False
    return bool(current == wanted)


def changed_columns(row: JSON, wanted: JSON) -> JSON:
    return {column: value for column, value in wanted.items() if not same(row.get(column), value)}


@dataclass
class WriteOutcome:
    """What a run wrote: rows written, and the records that failed, in words."""

    succeeded: int = 0
    failures: list[SyncFailure] = field(default_factory=list)

    def add(self, other: WriteOutcome) -> None:
        self.succeeded += other.succeeded
        self.failures.extend(other.failures)


def check_transient(results: Sequence[Sequence[BatchResult]]) -> None:
    """A change set refused for service protection or a server fault is not the record's
    fault: raise, so the bus retries the whole (idempotent) run later."""
    for change_set in results:
        for result in change_set:
            if result.status == 429:
                raise DataverseThrottled(5.0)
            if result.status >= 500:
                raise DataverseUnavailable(
                    f"a $batch change set answered {result.status}: {result.error_message}"
                )
