"""The distributed stack as separate processes, for the benchmark and the resilience run.

A fresh PostgreSQL database (migrated), a bus namespace of its own on RabbitMQ, both sandboxes
(`xero-sandbox`, `dynamics-sandbox`) with Xero's real rate limits and a latency fault on every
API call, the five services and N invoice-sync and M payment-sync workers, each started from
its console script with its own environment. `async with Stack(options) as stack:` starts it
and always tears it down (processes stopped, queues and exchanges deleted, database dropped),
also on Ctrl-C.

With `proxy_amqp`, every process reaches RabbitMQ through a TCP relay inside this process, so
`drop_amqp()` cuts exactly this run's AMQP connections and nobody else's on a shared broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import httpx
from cryptography.fernet import Fernet
from dxc_shared.db.migrate import upgrade

from tests.support.http_server import free_port

POSTGRES_ADMIN_DSN = os.environ.get(
    "DXC_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
AMQP_URL = os.environ.get("DXC_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
INTERNAL_API_KEY = "bench-internal-key"
WEBHOOK_KEY = "bench-webhook-key"
XERO_SIGNING_KEY = "bench-xero-signing-key-0123456789abcdef"
DYNAMICS_SIGNING_KEY = "bench-dynamics-signing-key-0123456789abcdef"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

SERVICE_PREFIXES = {
    "token-broker": "TOKEN_BROKER_",
    "scheduler": "SCHEDULER_",
    "portal-api": "PORTAL_API_",
    "invoice-sync": "INVOICE_SYNC_",
    "payment-sync": "PAYMENT_SYNC_",
}


@dataclass
class StackOptions:
    invoice_workers: int = 1
    payment_workers: int = 1
    latency_ms: float = 100.0
    proxy_amqp: bool = False
    scheduler_tick_seconds: float = 1.0
    log_level: str = "INFO"
    # Extra environment per service (by console script name, without the prefix).
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    log_dir: Path | None = None
    keep_logs: bool = False


class ManagedProcess:
    """One console script as a child process in a session of its own (so Ctrl-C in the
    terminal reaches only the bench, which then stops its children in order)."""

    def __init__(
        self, name: str, command: str, env: dict[str, str], log_path: Path, url: str | None
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_path
        self.url = url
        self.process: subprocess.Popen[bytes] | None = None
        self.past_cpu_seconds = 0.0  # of earlier incarnations (killed or restarted)
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        executable = Path(sys.executable).parent / self.command
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(executable)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU of the running incarnation (from /proc/<pid>/stat) plus earlier
        ones."""
        return self.past_cpu_seconds + self._current_cpu()

    def _current_cpu(self) -> float:
        if self.process is None:
            return 0.0
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        # fields[0] is the state (3rd field of the file); utime and stime are the 14th and 15th.
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def pause(self) -> None:
        """SIGSTOP: the process stalls mid-step (a GC pause, CPU starvation), sockets open."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye, as the kernel's OOM killer or a lost node would."""
        if self.alive():
            assert self.process is not None
            self.past_cpu_seconds += self._current_cpu()
            self.process.kill()
            self.process.wait()

    def terminate(self, timeout: float = 30.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        cpu = self._current_cpu()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.past_cpu_seconds += cpu

    async def wait_ready(self, http: httpx.AsyncClient, path: str, within: float = 60.0) -> None:
        assert self.url is not None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{self.url}{path}", timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready; see {self.log_path}")


class AmqpProxy:
    """A TCP relay to RabbitMQ on its own thread and event loop; `drop_all()` closes every
    relayed connection at once (both sides), as a network blip or a broker restart would."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 5672)
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0
        self.dropped = 0

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)

    def url_for(self, url: str) -> str:
        parts = urlsplit(url)
        credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{self.port}"))

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    def drop_all(self) -> int:
        """Close every relayed connection; returns how many sockets were cut."""

        def cut() -> int:
            writers = list(self._writers)
            for writer in writers:
                transport = writer.transport
                transport.abort()
            self._writers.clear()
            return len(writers)

        async def run() -> int:
            return cut()

        count = asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)
        self.dropped += count
        return count

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@dataclass
class QueueDepth:
    name: str
    ready: int
    unacked: int

    @property
    def total(self) -> int:
        return self.ready + self.unacked


class Stack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.run_id = uuid.uuid4().hex[:8]
        self.database_name = f"dxc_bench_{self.run_id}"
        self.namespace = f"dxc-bench-{self.run_id}"
        admin = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
        self.database_url = (
            admin.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{self.database_name}"
        )
        self.amqp_url = AMQP_URL
        self.proxy: AmqpProxy | None = None
        self.processes: dict[str, ManagedProcess] = {}
        self.log_dir = options.log_dir or Path(tempfile.mkdtemp(prefix="dxc-bench-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.encryption_key = Fernet.generate_key().decode()
        self.xero_url = f"http://127.0.0.1:{free_port()}"
        self.dynamics_url = f"http://127.0.0.1:{free_port()}"
        self.http = httpx.AsyncClient(timeout=60)
        self._database_created = False

    # -- addresses -------------------------------------------------------------------------

    def url(self, name: str) -> str:
        url = self.processes[name].url
        assert url is not None
        return url

    @property
    def token_broker_url(self) -> str:
        return self.url("token-broker")

    @property
    def invoice_workers(self) -> list[ManagedProcess]:
        return [p for p in self.processes.values() if p.command == "invoice-sync"]

    @property
    def payment_workers(self) -> list[ManagedProcess]:
        return [p for p in self.processes.values() if p.command == "payment-sync"]

    @property
    def workers(self) -> list[ManagedProcess]:
        return self.invoice_workers + self.payment_workers

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            self.options.keep_logs = True
            await self.stop()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # The processes' logs are kept when something went wrong, to see why.
        self.options.keep_logs = self.options.keep_logs or exc_type is not None
        await self.stop()

    async def start(self) -> None:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database_name}"')
        finally:
            await admin.close()
        self._database_created = True
        await upgrade(self.database_url)
        if self.options.proxy_amqp:
            self.proxy = AmqpProxy(AMQP_URL)
            self.proxy.start()
            self.amqp_url = self.proxy.url_for(AMQP_URL)

        self._add_sandboxes()
        for sandbox in ("xero-sandbox", "dynamics-sandbox"):
            self.processes[sandbox].start()
        for sandbox in ("xero-sandbox", "dynamics-sandbox"):
            await self.processes[sandbox].wait_ready(self.http, "/sandbox-admin/openapi.json")
        await self.set_latency(self.options.latency_ms)

        self._add_service("token-broker", "token-broker")
        self._add_service("scheduler", "scheduler")
        self._add_service("portal-api", "portal-api")
        for index in range(self.options.payment_workers):
            self._add_service(f"payment-sync-{index + 1}", "payment-sync")
        for index in range(self.options.invoice_workers):
            self._add_service(f"invoice-sync-{index + 1}", "invoice-sync")
        services = [p for p in self.processes.values() if not p.command.endswith("-sandbox")]
        for process in services:
            process.start()
        await asyncio.gather(*(p.wait_ready(self.http, "/readyz") for p in services))
        # The Xero sandbox delivers its webhooks to the first payment-sync (Xero calls one URL).
        if self.payment_workers:
            await self.xero_admin(
                "PUT",
                "webhooks",
                json={"url": f"{self.payment_workers[0].url}/v1/webhooks/xero", "key": WEBHOOK_KEY},
            )

    async def stop(self) -> None:
        """Stop everything this stack started; each step runs even if an earlier one failed."""
        for process in reversed(list(self.processes.values())):
            with contextlib.suppress(Exception):
                await asyncio.to_thread(process.terminate, 15.0)
        if self.proxy is not None:
            self.proxy.stop()
        with contextlib.suppress(Exception):
            await self.http.aclose()
        # The database first: it cannot hang, while a broker in trouble can.
        if self._database_created:
            admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            finally:
                await admin.close()
            self._database_created = False
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.delete_topology(), 60)
        if self.options.log_dir is None and not self.options.keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        elif self.processes:
            print(f"the processes' logs are in {self.log_dir}", file=sys.stderr)

    def _add_sandboxes(self) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("XERO_", "DYNAMICS_"))}
        xero_port = urlsplit(self.xero_url).port
        dynamics_port = urlsplit(self.dynamics_url).port
        self.processes["xero-sandbox"] = ManagedProcess(
            "xero-sandbox",
            "xero-sandbox",
            base
            | {
                "XERO_SANDBOX_PORT": str(xero_port),
                "XERO_SANDBOX_TOKEN_SIGNING_KEY": XERO_SIGNING_KEY,
                "XERO_SANDBOX_PUBLIC_BASE_URL": self.xero_url,
                "XERO_SANDBOX_WEBHOOK_KEY": WEBHOOK_KEY,
            },
            self.log_dir / "xero-sandbox.log",
            self.xero_url,
        )
        self.processes["dynamics-sandbox"] = ManagedProcess(
            "dynamics-sandbox",
            "dynamics-sandbox",
            base
            | {
                "DYNAMICS_SANDBOX_PORT": str(dynamics_port),
                "DYNAMICS_SANDBOX_TOKEN_SIGNING_KEY": DYNAMICS_SIGNING_KEY,
            },
            self.log_dir / "dynamics-sandbox.log",
            self.dynamics_url,
        )

    def _add_service(self, name: str, command: str) -> None:
        prefix = SERVICE_PREFIXES[command]
        port = free_port()
        values = {
            "DATABASE_URL": self.database_url,
            "BROKER_URL": self.amqp_url,
            "BUS_NAMESPACE": self.namespace,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": self.options.log_level,
            "SHUTDOWN_TIMEOUT_SECONDS": "10",
        }
        xero_client = ("DEMOCLIENTID0000000000000000000", "demo-client-secret")
        dynamics_client = ("0f0c5e2a-5a6e-4b3a-9d8e-4e7f6d9a1c01", "demo-secret")
        if command == "token-broker":
            values |= {
                "ENCRYPTION_KEYS": self.encryption_key,
                "INTERNAL_API_KEY": INTERNAL_API_KEY,
                "XERO_CLIENT_ID": xero_client[0],
                "XERO_CLIENT_SECRET": xero_client[1],
                "XERO_TOKEN_URL": f"{self.xero_url}/connect/token",
                "XERO_REVOCATION_URL": f"{self.xero_url}/connect/revocation",
                "DYNAMICS_CLIENT_ID": dynamics_client[0],
                "DYNAMICS_CLIENT_SECRET": dynamics_client[1],
                "DYNAMICS_TOKEN_URL": f"{self.dynamics_url}/common/oauth2/v2.0/token",
            }
        else:
            broker = self.processes.get("token-broker")
            values |= {
                "TOKEN_BROKER_URL": broker.url if broker and broker.url else "",
                "TOKEN_BROKER_API_KEY": INTERNAL_API_KEY,
            }
        if command in ("invoice-sync", "payment-sync"):
            values |= {
                "XERO_API_URL": f"{self.xero_url}/api.xro/2.0",
                "XERO_WEB_URL": f"{self.xero_url}/web",
            }
        if command == "payment-sync":
            values["XERO_WEBHOOK_KEY"] = WEBHOOK_KEY
        if command == "scheduler":
            values["TICK_SECONDS"] = str(self.options.scheduler_tick_seconds)
        if command == "portal-api":
            values |= {
                "XERO_CLIENT_ID": xero_client[0],
                "DYNAMICS_CLIENT_ID": dynamics_client[0],
                "MAILBOX_DIR": str(self.log_dir / "mailbox"),
            }
        values |= self.options.service_env.get(command, {})
        base = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
        self.processes[name] = ManagedProcess(
            name,
            command,
            base | {prefix + key: value for key, value in values.items()},
            self.log_dir / f"{name}.log",
            f"http://127.0.0.1:{port}",
        )

    # -- the sandboxes' admin APIs -----------------------------------------------------------

    async def xero_admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(
            method, f"{self.xero_url}/sandbox-admin/{path}", **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    async def dynamics_admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(
            method, f"{self.dynamics_url}/sandbox-admin/{path}", **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    async def set_latency(self, latency_ms: float) -> None:
        """Every Xero Accounting API call and every Dataverse Web API call takes this long on
        the server (it holds a concurrency slot, as real server time does)."""
        await self.clear_faults()
        if latency_ms > 0:
            seconds = latency_ms / 1000
            await self.xero_admin(
                "POST", "faults", json={"kind": "latency", "latency_seconds": seconds}
            )
            await self.dynamics_admin(
                "POST",
                "faults",
                json={"kind": "latency", "path": "/orgs/*/api/data/*", "latency_seconds": seconds},
            )

    async def clear_faults(self) -> None:
        await self.xero_admin("DELETE", "faults")
        await self.dynamics_admin("DELETE", "faults")

    # -- RabbitMQ ----------------------------------------------------------------------------

    def drop_amqp(self) -> int:
        """Cut every AMQP connection of this stack's processes (needs `proxy_amqp`)."""
        assert self.proxy is not None, "start the stack with proxy_amqp=True"
        return self.proxy.drop_all()

    async def queue_depths(self) -> list[QueueDepth]:
        """Every queue of this run's namespace with its ready and unacknowledged messages
        (`rabbitmqctl`, since the broker here has no management API)."""
        output = await asyncio.to_thread(
            subprocess.run,
            [
                "rabbitmqctl",
                "list_queues",
                "-q",
                "name",
                "messages_ready",
                "messages_unacknowledged",
                "--formatter",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        rows = json.loads(output.stdout or "[]")
        return sorted(
            (
                QueueDepth(row["name"], row["messages_ready"], row["messages_unacknowledged"])
                for row in rows
                if row["name"].startswith(f"{self.namespace}.")
            ),
            key=lambda depth: depth.name,
        )

    async def delete_topology(self) -> None:
        names = [depth.name for depth in await self.queue_depths()]
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            for name in names:
                await channel.queue_delete(name)
            for exchange in (f"{self.namespace}.events", f"{self.namespace}.dead-letter"):
                await channel.exchange_delete(exchange)

    # -- metrics -----------------------------------------------------------------------------

    async def metrics(self, process: ManagedProcess) -> dict[str, float]:
        """The process's Prometheus samples, `name{labels}` -> value."""
        assert process.url is not None
        text = (await self.http.get(f"{process.url}/metrics")).text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                samples[key] = float(value)
        return samples


def sample_sum(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for key, value in samples.items():
        metric, _, rest = key.partition("{")
        if metric != name:
            continue
        if all(f'{label}="{wanted}"' in rest for label, wanted in labels.items()):
            total += value
    return total


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A SIGTERM to the bench tears the stack down as Ctrl-C does."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
