"""The distributed benchmark: invoices from Dynamics into Xero through the whole stack.

    python3 -m uv run python -m bench.distributed --connections 20 --invoices 500 --latency-ms 100

Starts the stack as separate processes (bench/stack.py: PostgreSQL, RabbitMQ, both sandboxes
with Xero's real rate limits, the five services, --invoice-workers and --payment-workers worker
processes), provisions the connections, seeds each one's invoices (mixed kinds: existing
products, write-ins, note lines, US dollars) and runs three phases of --invoices per connection:

1. backlog: every connection's invoices handed over at once and "Sync now" pressed (latency
   --latency-ms per vendor call): invoices per minute overall and per connection, beside the
   ceiling Xero's per-organisation limit (60 calls a minute) allows at the measured calls per
   invoice; Xero and Dataverse calls per invoice (the sandboxes' call logs, and the workers'
   own counts);
2. steady: the invoices handed over in --waves waves across two poll intervals, left to the
   scheduler's polling (--sync-interval): sync lag from "handed over" to "created in Xero"
   (Xero's UpdatedDateUTC) p50/p95/max, and the Xero calls per invoice and 429s of that flow;
   then one more connection's --big-backlog invoices handed over at once and "Sync now": one
   organisation's backlog at Xero's real limits (invoices per minute, calls per invoice);
3. CPU: latency 0, a backlog again: the workers' CPU time (/proc/<pid>/stat) per 1,000
   invoices;
4. push: each connection's Dataverse webhook registered (bench/push.py), the invoices handed
   over at 400 a minute per connection, a second apart, latency --latency-ms again: sync lag
   p50/p95 from "handed over" to "created in Xero" (target p95 <= 5 s);

then bench/scheduler_dispatch.py (10,000 due connections dispatched in one tick).

Prints the table and writes bench/results/distributed.json. Everything it started is removed
at the end, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench import scheduler_dispatch
from bench.provision import BenchInvoice, Connection, Provisioner, provision_all
from bench.push import handover_rate, pushes_posted, register_push, waves_at_push_rate
from bench.report import RESULTS_DIR, report
from bench.stack import Stack, StackOptions, sample_sum, sigterm_as_interrupt

XERO_MINUTE_LIMIT = 60
XERO_MINUTE_SECONDS = 60.0
XERO_BATCH = 50


@dataclass
class Phase:
    invoices: int
    seconds: float  # first hand-over -> last invoice created in Xero
    xero_calls: int
    xero_throttled: int
    dataverse_calls: int
    worker_xero_calls: float
    worker_dataverse_calls: float
    cpu_seconds: float
    invoice_sync_cpu_seconds: float
    lags: list[float]
    per_connection_rate: list[float]
    xero_operations: dict[str, float] = field(default_factory=dict)
    first_in_xero_after: float = 0.0  # first hand-over -> first invoice created in Xero

    @property
    def rate(self) -> float:
        return self.invoices / self.seconds * 60


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def settled_so_far(stack: Stack) -> float:
    """Invoices the invoice-sync workers have settled (exported, linked or failed)."""
    total = 0.0
    for worker in stack.invoice_workers:
        samples = await stack.metrics(worker)
        total += sample_sum(samples, "dxc_invoice_sync_invoices_total")
    return total


async def worker_calls(stack: Stack) -> tuple[float, float]:
    xero = dataverse = 0.0
    for worker in stack.workers:
        samples = await stack.metrics(worker)
        xero += sample_sum(samples, "dxc_vendor_calls_total", vendor="xero")
        dataverse += sample_sum(samples, "dxc_vendor_calls_total", vendor="dataverse")
    return xero, dataverse


async def xero_operations(stack: Stack) -> Counter[str]:
    """Xero calls per service and operation (the workers' `dxc_vendor_calls_total`)."""
    counts: Counter[str] = Counter()
    for worker in stack.workers:
        for key, value in (await stack.metrics(worker)).items():
            if key.startswith("dxc_vendor_calls_total{") and 'vendor="xero"' in key:
                operation = re.search(r'operation="([^"]*)"', key)
                service = worker.name.rstrip("-0123456789")
                counts[f"{service} {operation.group(1) if operation else '?'}"] += int(value)
    return counts


async def run_phase(
    stack: Stack,
    provisioner: Provisioner,
    connections: list[Connection],
    batches: list[list[BenchInvoice]],
    *,
    within: float,
    waves: int = 1,
    spacing: float = 0.0,
    sync_now: bool = False,
) -> Phase:
    """Hand `batches` over (in `waves`, `spacing` seconds apart; with "Sync now" after each
    wave or left to the connections' polling) and wait until the workers settled them all."""
    await stack.xero_admin("DELETE", "calls")
    await stack.dynamics_admin("DELETE", "calls")
    for connection in connections:
        connection.handover_calls = 0
    settled_before = await settled_so_far(stack)
    calls_before = await worker_calls(stack)
    operations_before = await xero_operations(stack)
    cpu_before = {w.name: w.cpu_seconds() for w in stack.workers}
    total = sum(len(batch) for batch in batches)
    deadline = time.monotonic() + within
    started = time.monotonic()
    for wave in range(waves):
        await asyncio.gather(
            *(
                provisioner.hand_over(c, batch[wave::waves])
                for c, batch in zip(connections, batches, strict=True)
            )
        )
        if sync_now:
            await asyncio.gather(*(provisioner.sync_now(c) for c in connections))
        if wave < waves - 1:  # waves start `spacing` apart, however long a hand-over takes
            await asyncio.sleep(max(0.0, started + (wave + 1) * spacing - time.monotonic()))
    while (settled := await settled_so_far(stack) - settled_before) < total:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"only {settled:.0f} of {total} invoices settled within {within:.0f} s; "
                f"logs in {stack.log_dir}"
            )
        await asyncio.sleep(1)
    cpu = {w.name: w.cpu_seconds() - cpu_before[w.name] for w in stack.workers}
    calls_after = await worker_calls(stack)
    operations = await xero_operations(stack)
    operations.subtract(operations_before)

    xero_log: list[dict[str, Any]] = await stack.xero_admin("GET", "calls")
    tenants = {connection.tenant_id.lower() for connection in connections}
    api_calls = [c for c in xero_log if "/api.xro/" in c["path"] and c["tenant_id"] in tenants]
    dataverse_calls = 0
    for connection in connections:
        log = await stack.dynamics_admin("GET", "calls", params={"org": connection.org})
        dataverse_calls += sum(1 for c in log if "/api/data/" in c["path"])
        dataverse_calls -= connection.handover_calls  # the bench's own $batch requests

    lags: list[float] = []
    rates: list[float] = []
    first_ready, first_created, last_created = float("inf"), float("inf"), 0.0
    for connection, batch in zip(connections, batches, strict=True):
        reader = await provisioner.xero_reader(connection)
        created = {
            invoice.reference: invoice.updated_date_utc.timestamp()
            for invoice in await reader.invoices()
            if invoice.status not in ("DELETED", "VOIDED") and invoice.updated_date_utc
        }
        missing = [i.number for i in batch if i.number not in created]
        if missing:
            raise RuntimeError(f"connection {connection.index}: not in Xero: {missing[:5]}")
        ready = [i.ready_at or 0.0 for i in batch]
        done = [created[i.number] for i in batch]
        lags.extend(d - r for d, r in zip(done, ready, strict=True))
        rates.append(len(batch) / max(max(done) - min(ready), 1e-3) * 60)
        first_ready, last_created = min(first_ready, *ready), max(last_created, *done)
        first_created = min(first_created, *done)
    return Phase(
        invoices=total,
        seconds=last_created - first_ready,
        xero_calls=len(api_calls),
        xero_throttled=sum(1 for c in api_calls if c["status"] == 429),
        dataverse_calls=dataverse_calls,
        worker_xero_calls=calls_after[0] - calls_before[0],
        worker_dataverse_calls=calls_after[1] - calls_before[1],
        cpu_seconds=sum(cpu.values()),
        invoice_sync_cpu_seconds=sum(cpu[w.name] for w in stack.invoice_workers),
        lags=lags,
        per_connection_rate=rates,
        xero_operations={name: count for name, count in sorted(operations.items()) if count},
        first_in_xero_after=first_created - first_ready,
    )


async def push_phase(
    stack: Stack,
    provisioner: Provisioner,
    connections: list[Connection],
    batches: list[list[BenchInvoice]],
    *,
    within: float,
    latency_ms: float,
) -> tuple[Phase, float, float]:
    """Webhooks registered, invoices handed over at the push rate: the phase, the hand-over
    rate reached (invoices a minute per connection) and the webhook posts portal-api took."""
    await stack.set_latency(latency_ms)
    await register_push(stack, connections)
    # The CPU phase's burst spent the organisations' Xero minute (and payment-sync still reads
    # what it created): start from a steady state, as a connection's day does.
    await asyncio.sleep(XERO_MINUTE_SECONDS)
    posted_before = await pushes_posted(stack)
    waves, spacing = waves_at_push_rate(batches)
    phase = await run_phase(
        stack,
        provisioner,
        connections,
        batches,
        within=within + waves * spacing,
        waves=waves,
        spacing=spacing,
    )
    return phase, handover_rate(batches), await pushes_posted(stack) - posted_before


async def measure(arguments: argparse.Namespace) -> None:
    options = StackOptions(
        invoice_workers=arguments.invoice_workers,
        payment_workers=arguments.payment_workers,
        latency_ms=arguments.latency_ms,
        log_level=arguments.log_level,
    )
    n = arguments.invoices
    interval = arguments.sync_interval
    async with (
        Stack(options) as stack,
        Provisioner(stack, sync_interval_seconds=interval) as provisioner,
    ):
        print(
            f"stack up ({len(stack.processes)} processes, logs in {stack.log_dir}); provisioning "
            f"{arguments.connections} connections x {4 * n} invoices",
            flush=True,
        )
        connections = await provision_all(provisioner, arguments.connections, 4 * n)
        big: Connection | None = None
        if arguments.big_backlog:
            big = await provisioner.connection(arguments.connections + 1)
            await provisioner.seed_invoices(big, arguments.big_backlog)
        for connection in [*connections, *([big] if big else [])]:
            await provisioner.announce(connection)

        def batches(phase: int) -> list[list[BenchInvoice]]:
            return [c.invoices[phase * n : (phase + 1) * n] for c in connections]

        print(f"1/3 backlog, 'Sync now', {arguments.latency_ms:g} ms per vendor call", flush=True)
        backlog = await run_phase(
            stack, provisioner, connections, batches(0), within=arguments.timeout, sync_now=True
        )
        waves = arguments.waves
        spacing = 2 * interval / waves
        print(f"2/3 steady: {waves} waves {spacing:g} s apart, {interval} s polling", flush=True)
        steady = await run_phase(
            stack,
            provisioner,
            connections,
            batches(1),
            within=arguments.timeout + waves * spacing,
            waves=waves,
            spacing=spacing,
        )
        big_phase: Phase | None = None
        if big is not None:
            print(f"one connection, {len(big.invoices):,}-invoice backlog, 'Sync now'", flush=True)
            big_phase = await run_phase(
                stack, provisioner, [big], [big.invoices], within=arguments.timeout, sync_now=True
            )
        print("3/3 CPU time: latency 0, backlog, 'Sync now'", flush=True)
        await stack.set_latency(0)
        cpu = await run_phase(
            stack, provisioner, connections, batches(2), within=arguments.timeout, sync_now=True
        )
        print("push: webhooks registered, 400 invoices a minute per connection", flush=True)
        push, push_rate, push_posts = await push_phase(
            stack,
            provisioner,
            connections,
            batches(3),
            within=arguments.timeout,
            latency_ms=arguments.latency_ms,
        )
        processes = len(stack.processes)

    scheduler: dict[str, Any] = {}
    if arguments.scheduler_connections:
        await scheduler_dispatch.measure(arguments.scheduler_connections, 500)
        scheduler = json.loads((RESULTS_DIR / "scheduler_dispatch.json").read_text())["figures"]

    per_invoice_xero = backlog.xero_calls / backlog.invoices
    ceiling = XERO_MINUTE_LIMIT / per_invoice_xero if per_invoice_xero else float("inf")
    rows: list[tuple[str, Any, str]] = [
        ("connections", arguments.connections, f"{n} invoices each per phase"),
        ("invoices/minute overall", backlog.rate, "backlog: hand-over to last in Xero"),
        (
            "invoices/minute per connection (median)",
            statistics.median(backlog.per_connection_rate),
            f"min {min(backlog.per_connection_rate):,.0f}",
        ),
        (
            "per-connection ceiling (invoices/minute)",
            ceiling,
            f"{XERO_MINUTE_LIMIT} Xero calls a minute / Xero calls per invoice",
        ),
        ("Xero calls per invoice", per_invoice_xero, "target <= 0.15 (sandbox log, all services)"),
        (
            "Xero calls per invoice (workers' count)",
            backlog.worker_xero_calls / backlog.invoices,
            f"{backlog.xero_throttled} answered 429",
        ),
        ("Dataverse calls per invoice", backlog.dataverse_calls / backlog.invoices, "sandbox log"),
        (
            "Dataverse calls per invoice (workers' count)",
            backlog.worker_dataverse_calls / backlog.invoices,
            "",
        ),
        ("sync lag p50 (s)", percentile(steady.lags, 0.5), "steady arrivals: ready -> in Xero"),
        ("sync lag p95 (s)", percentile(steady.lags, 0.95), f"target <= {interval + 10} s"),
        ("sync lag max (s)", max(steady.lags), f"{interval} s poll interval"),
        (
            "steady: Xero calls per invoice",
            steady.xero_calls / steady.invoices,
            f"{steady.xero_throttled} answered 429; target <= 0.06, 0 answered 429",
        ),
        (
            "worker CPU s per 1,000 invoices",
            cpu.cpu_seconds / cpu.invoices * 1000,
            "latency 0; invoice-sync + payment-sync; target <= 2 s",
        ),
        (
            "invoice-sync CPU s per 1,000 invoices",
            cpu.invoice_sync_cpu_seconds / cpu.invoices * 1000,
            "latency 0",
        ),
    ]
    rows += [
        ("push: sync lag p50 (s)", percentile(push.lags, 0.5), "webhooks: ready -> in Xero"),
        ("push: sync lag p95 (s)", percentile(push.lags, 0.95), "target <= 5 s"),
        (
            "push: hand-over rate per connection (/minute)",
            push_rate,
            f"target 400; {push_posts / push.invoices:.2f} webhook posts per invoice",
        ),
        (
            "push: Xero calls per invoice",
            push.xero_calls / push.invoices,
            f"{push.xero_throttled} answered 429",
        ),
    ]
    if big_phase is not None:
        rows += [
            (
                "one connection backlog: invoices/minute",
                big_phase.rate,
                f"{big_phase.invoices:,} invoices, Xero's real limits; target >= 2,000",
            ),
            (
                "one connection backlog: Xero calls per invoice",
                big_phase.xero_calls / big_phase.invoices,
                f"{big_phase.xero_throttled} answered 429; target <= 0.03",
            ),
        ]
    if scheduler:
        rows.append(
            (
                "scheduler: dispatch of due connections (s)",
                scheduler["dispatch time (s)"],
                f"{scheduler['due connections']:,} in one tick; target <= 2 s",
            )
        )
    report(
        "distributed",
        rows,
        {
            "arguments": vars(arguments),
            "processes": processes,
            "phases": {
                name: {
                    "invoices": phase.invoices,
                    "seconds": phase.seconds,
                    "xero_calls": phase.xero_calls,
                    "xero_429": phase.xero_throttled,
                    "dataverse_calls": phase.dataverse_calls,
                    "worker_cpu_seconds": phase.cpu_seconds,
                    "lag_p50": percentile(phase.lags, 0.5),
                    "lag_p95": percentile(phase.lags, 0.95),
                    "first_in_xero_after": phase.first_in_xero_after,
                    "xero_operations": phase.xero_operations,
                }
                for name, phase in (
                    ("backlog", backlog),
                    ("steady", steady),
                    ("cpu", cpu),
                    ("push", push),
                    *([("one connection backlog", big_phase)] if big_phase else []),
                )
            },
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--invoices", type=int, default=500, help="per connection and phase")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--invoice-workers", type=int, default=2)
    parser.add_argument("--payment-workers", type=int, default=1)
    parser.add_argument(
        "--sync-interval", type=int, default=60, help="each connection's poll interval (s)"
    )
    parser.add_argument("--waves", type=int, default=6, help="hand-overs in the steady phase")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per phase (s)")
    parser.add_argument(
        "--scheduler-connections",
        type=int,
        default=10_000,
        help="due connections for the scheduler figure (0 skips it)",
    )
    parser.add_argument(
        "--big-backlog",
        type=int,
        default=5000,
        help="invoices of one more connection, exported as one backlog (0 skips it)",
    )
    parser.add_argument("--log-level", default="WARNING")
    arguments = parser.parse_args(argv)
    with sigterm_as_interrupt():
        try:
            asyncio.run(measure(arguments))
        except KeyboardInterrupt:
            print("interrupted; the stack was torn down", file=sys.stderr)
            sys.exit(130)


if __name__ == "__main__":
    main()
