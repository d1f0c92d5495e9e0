"""invoice-sync's bus handlers: one connection's invoice job under its lease (with the reruns
asked for meanwhile), and telling Dynamics users when a Xero grant is lost."""

from __future__ import annotations

import time
import uuid

from dxc_shared.bus import MessageContext
from dxc_shared.credentials import CredentialMissing, ReauthorisationNeeded
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ConnectorStatus
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    ConnectionChanged,
    ConnectionSyncProfile,
    InvoiceRetryRequested,
    SyncInvoicesJob,
)
from dxc_shared.sync import RunBlocked, RunReport, VendorFactory
from dxc_shared.sync.errors import reauthorisation_text

from invoice_sync.connector.dynamics import find_connector, set_connector_status
from invoice_sync.invoices import plan
from invoice_sync.invoices.held import HeldRun, resume, say_inactive
from invoice_sync.invoices.workflow import ExportRun
from invoice_sync.kit.context import RunContext
from invoice_sync.kit.time import utcnow
from invoice_sync.ledger.exports import Ledger
from invoice_sync.ledger.lease import Lease, LeaseLost, Leases
from invoice_sync.metrics import JOB_DURATION, JobResult, count_job
from invoice_sync.retries import steps as retries

logger = get_logger(__name__)


def run_id(job_id: uuid.UUID, attempt: int, run_number: int) -> uuid.UUID:
    """The id a run reports under: the job's own for its first run; derived for a rerun asked
    for meanwhile and for a retry of the job (whose first delivery may already have reported:
    the portal takes a second report with one id as a redelivery and would drop it). Derived,
    not random, so a report sent again after a crash keeps its id."""
    if attempt == 1 and run_number == 0:
        return job_id
    return uuid.uuid5(job_id, f"attempt {attempt} run {run_number}")


class InvoiceExporter:
    def __init__(
        self,
        database: Database,
        vendors: VendorFactory,
        *,
        xero_web_url: str,
        lease_ttl_seconds: float = 120.0,
        max_attempts: int = 6,
    ) -> None:
        self.database = database
        self._vendors = vendors
        self._xero_web_url = xero_web_url
        self.max_attempts = max_attempts
        self.leases = Leases(database, ttl_seconds=lease_ttl_seconds)
        self.ledger = Ledger(database, self.leases.holder)

    async def on_job(self, job: SyncInvoicesJob, context: MessageContext) -> None:
        connection_id = job.profile.connection_id
        if not await self.leases.try_acquire(connection_id):
            count_job("deferred")
            logger.info("invoice_sync.job_deferred", connection_id=str(connection_id))
            return
        started = time.perf_counter()
        last_attempt = context.attempt >= self.max_attempts
        held = plan.held(job.active_until, job.invoices_paused_until, utcnow())
        try:
            run_number = 0
            while True:
                this_run = run_id(job.job_id, context.attempt, run_number)
                async with self.leases.kept_alive(connection_id) as lease:
                    result = await self.run(
                        job.profile, this_run, lease, last_attempt=last_attempt, held=held
                    )
                count_job(result)
                if not await self.leases.release_or_rerun(connection_id):
                    break
                run_number += 1
        except BaseException:
            count_job("failed")
            try:
                await self.leases.release(connection_id)
            except Exception:  # it expires on its own
                logger.warning("invoice_sync.lease_release_failed", exc_info=True)
            raise
        finally:
            JOB_DURATION.observe(time.perf_counter() - started)

    async def run(
        self,
        profile: ConnectionSyncProfile,
        run_id: uuid.UUID,
        lease: Lease,
        *,
        last_attempt: bool = False,
        held: plan.Held | None = None,
    ) -> JobResult:
        """One run, reported as `SyncRunCompleted` unless the lease was lost (the new holder
        reports). Held, it only tells the invoices handed over why they wait."""
        report = RunReport(profile.connection_id, run_id, "invoices")
        started = time.perf_counter()
        xero_calls = 0
        result: JobResult = "completed"
        try:
            vendors = self._vendors.for_connection(profile)
            context = RunContext(
                profile, vendors, self.database, self.ledger, lease, self._xero_web_url
            )
            work = (
                ExportRun(
                    context, report, last_attempt=last_attempt, max_attempts=self.max_attempts
                )
                if held is None
                else HeldRun(context, report, held)
            )
            try:
                await work.execute()
            finally:
                xero_calls = vendors.xero.calls
                await vendors.xero.release()
        except LeaseLost as lost:
            logger.warning("invoice_sync.lease_lost", error=str(lost))
            return "failed"
        except RunBlocked as blocked:
            report.error = blocked.message
            result = "failed"
        async with self.database.unit_of_work() as session:
            report.publish(session)
        logger.info(
            "invoice_sync.run_completed",
            connection_id=str(profile.connection_id),
            succeeded=report.succeeded,
            failed=len(report.failures),
            error=report.error,
            xero_calls=xero_calls,
            seconds=round(time.perf_counter() - started, 3),
        )
        return result

    async def on_retry_requested(
        self, request: InvoiceRetryRequested, context: MessageContext
    ) -> None:
        """Kept for the connection's next run, which is asked for: only a run holds the lease
        and knows the Dynamics organisation to write to."""
        if not await retries.take(self.database, request, context.message_id):
            logger.info("invoice_sync.retry_redelivered", invoice_id=request.record_id)

    async def on_connection_changed(self, message: ConnectionChanged, _: MessageContext) -> None:
        """No invoice job runs while a Xero grant is lost, so no run would tell Dynamics users
        why nothing is sent: say it now on the connector record; likewise at once when the
        subscription ends (the held invoice jobs that follow tell each invoice, see `HeldRun`).
        (Without the Dynamics grant there is no way to write there; the portal shows that
        one.)"""
        profile = message.profile
        if "dynamics" in message.reauthorisation_needed or not profile.dynamics_org_url:
            return
        dataverse = self._vendors.dataverse(profile.connection_id, profile.dynamics_org_url)
        xero_message = message.reauthorisation_needed.get("xero")
        held = plan.held(message.active_until, message.invoices_paused_until, utcnow())
        try:
            if xero_message:
                connector = await find_connector(dataverse, profile.connection_id)
                if connector is not None:
                    await set_connector_status(
                        dataverse,
                        connector,
                        ConnectorStatus.REAUTHORISATION_NEEDED,
                        reauthorisation_text("xero", xero_message),
                    )
            elif held is not None:
                await say_inactive(dataverse, profile.connection_id, held)
            elif message.syncable:
                await resume(dataverse, profile.connection_id)
        except (ReauthorisationNeeded, CredentialMissing):
            logger.info("invoice_sync.connector_status_not_written", reason="no Dynamics grant")
