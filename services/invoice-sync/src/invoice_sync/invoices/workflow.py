"""One connection's export run: Dynamics' ready invoices into Xero, exactly once.

The order of a run, and why (each round reads, then the plan decides):

1. Read the connector and the ready invoices with their lines from Dynamics, then (at once)
   the settings and the invoices' customers, products and line overrides, in bulk: after the
   invoices, so a fix made before a hand-over is seen.
2. Reconcile with the ledger: a request left `pending` (a crash, or a worker that stalled and
   lost its lease) is re-sent exactly, same body and Idempotency-Key, so Xero answers from its
   idempotency cache if it already took it; an invoice the ledger says is in Xero is linked
   (written back) instead of created; one left `pending` with no stored request (written
   before requests were kept) is looked up in Xero by its number or reference and linked.
3. Make sure the customers and products exist in Xero: bulk look-ups, bulk creates.
4. Per batch of up to 50: ledger `pending` with its request (committed, lease-fenced), the
   lease proven in the database, Xero batch create with per-invoice errors and an
   Idempotency-Key, ledger `created`, one Dataverse `$batch` with a
   change set per invoice, ledger `written_back`.
5. Cancellations (see invoice_sync.cancellations).

Transient faults (Xero or Dataverse down or limiting for longer than a job waits) raise, so the
bus retries the job with back-off; the ledger makes the retry safe. Only the last attempt writes
them to the invoices as failures. A grant that needs re-authorising is written on the connector
record in Dynamics, and the run stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dxc_shared.clients.xero_accounting import XeroRateLimited, XeroUnavailable
from dxc_shared.dynamics.schema import ConnectorStatus
from dxc_shared.logging import get_logger
from dxc_shared.messages import SyncSuccess
from dxc_shared.sync import TRANSIENT_ERRORS, RunBlocked, RunReport, blocked_by

from invoice_sync.cancellations.workflow import Cancellations
from invoice_sync.connector.dynamics import (
    find_connector,
    read_settings,
    set_connector_status,
)
from invoice_sync.connector.records import Connector, ConnectorSettings
from invoice_sync.invoices import limit, plan, plan_reference, steps, update_steps, updates
from invoice_sync.invoices import plan_recovery as recovery
from invoice_sync.invoices.dynamics import (
    failed_change_set,
    handed_over_invoices,
    mapped_columns,
    reference_data,
    write_back_change_sets,
)
from invoice_sync.invoices.held import tell_skips
from invoice_sync.invoices.plan import Create, Fail, Skip
from invoice_sync.invoices.plan_reference import Contacts, LinkContact
from invoice_sync.invoices.records import Exported, Failed, Invoice, ReferenceData
from invoice_sync.kit.context import RunContext
from invoice_sync.kit.pipeline import overlapped, together
from invoice_sync.kit.time import today, utcnow, waited, zone
from invoice_sync.ledger.models import InvoiceExport
from invoice_sync.metrics import LAG, count_failure, count_invoice
from invoice_sync.retries import steps as retries

logger = get_logger(__name__)

NO_CONNECTOR = (
    "The connector is not set up in Dynamics 365 for this connection: install the connector's "
    "tables from the portal's checklist."
)


class ExportRun:
    """The state of one run: what is read, what is still to tell Dynamics, the report."""

    def __init__(
        self, run: RunContext, report: RunReport, *, last_attempt: bool, max_attempts: int
    ) -> None:
        self.run = run
        self.report = report
        self.last_attempt = last_attempt
        self.max_attempts = max_attempts
        self.connector: Connector | None = None
        self.settings = ConnectorSettings()
        self.data = ReferenceData()
        self.contact_links: list[LinkContact] = []
        self.unsettled: dict[str, Invoice] = {}  # read, not yet written back
        self.failed_queue: list[Failed] = []  # written with the next $batch
        self.skipped: list[Skip] = []  # told (once per reason) at the run's end

    async def execute(self) -> None:
        """The run; raises `RunBlocked` when it cannot go on, transient errors (but on the last
        attempt) for the bus to retry, `LeaseLost` when another worker took over."""
        try:
            await self._export()
            await self._cancellations()
        except TRANSIENT_ERRORS as error:
            if not self.last_attempt:
                raise
            raise await self._give_up(error) from error
        except Exception as error:
            blocked = blocked_by(error)
            if blocked is None:
                raise
            if blocked.reauthorise == "xero" and self.connector is not None:
                await set_connector_status(
                    self.run.dataverse,
                    self.connector,
                    ConnectorStatus.REAUTHORISATION_NEEDED,
                    blocked.message,
                )
            if blocked is error:
                raise
            raise blocked from error

    async def _cancellations(self) -> None:
        assert self.connector is not None  # _export stops the run without one
        cancellations = Cancellations(
            self.run, self.connector, create_credit_notes=self.settings.create_credit_notes
        )
        self.report.failures.extend(await cancellations.run())

    async def _give_up(self, error: Exception) -> RunBlocked:
        """The last attempt met a transient fault: say so on every invoice still in flight (if
        Dynamics can be reached) so a person sees it; the ledger keeps what reached Xero."""
        system = "Xero" if isinstance(error, XeroUnavailable | XeroRateLimited) else "Dynamics"
        message = plan.give_up_message(system, self.max_attempts, error)
        if self.connector is not None and self.unsettled:
            failed = [Failed(invoice, message) for invoice in self.unsettled.values()]
            try:
                await self.run.dataverse.batch(
                    [failed_change_set(self.connector, f, utcnow()) for f in failed]
                )
            except TRANSIENT_ERRORS:
                logger.warning("invoice_sync.give_up_not_written", exc_info=True)
            for item in failed:
                self._report_failure(item.invoice, message)
                count_failure("other")
        return RunBlocked(message)

    async def _export(self) -> None:
        dataverse, profile = self.run.dataverse, self.run.profile
        connector = self.connector = await find_connector(dataverse, self.run.connection_id)
        if connector is None:
            raise RunBlocked(NO_CONNECTOR)
        mappings = plan.usable_mappings(
            profile.field_mappings, mapped_columns(profile.field_mappings)
        )
        await retries.apply_requested(self.run, connector)  # a retry is handed over again
        read = await handed_over_invoices(
            dataverse, connector, mapped_columns(mappings), zone=zone(profile.time_zone)
        )
        invoices, self.skipped = plan.sort_out(read, today(profile.time_zone))
        # The settings, customers and products are read after the invoices (at the same time as
        # each other): a person who fixes one and then hands an invoice over is seen with the
        # fix. Read before, they could predate it, and the run would fail the invoice over the
        # very version that person handed over.
        self.settings, self.data = await together(
            read_settings(dataverse, connector), reference_data(dataverse, invoices)
        )
        if not invoices:
            if connector.status not in (None, ConnectorStatus.ACTIVE):
                await set_connector_status(dataverse, connector, ConnectorStatus.ACTIVE, None)
            await self._tell_skips()
            return
        self.unsettled = {invoice.id: invoice for invoice in invoices}
        # Before planning anything new: a request left pending (by a crash, or by a worker that
        # stalled and lost its lease) is re-sent exactly, so its invoices are settled, not
        # planned into a different batch under a different Idempotency-Key.
        await steps.resend_pending_requests(self.run)
        entries = await self.run.ledger.entries(self.run.connection_id, list(self.unsettled))
        invoices, to_update = updates.split(invoices)
        to_create = await self._link_earlier_attempts(invoices, entries, mappings)
        self.run.lease.check()
        decisions = await self._decide(to_create, mappings)
        creates: list[Create] = []
        for decision in decisions:
            if isinstance(decision, Fail):
                self._record_failure(decision)
            elif isinstance(decision, Create):
                creates.append(decision)
            else:
                self.skipped.append(decision)
        creates = await self._within_limit(creates)
        # A batch's write-back to Dynamics overlaps the next batch's create in Xero.
        await overlapped(plan.batches(creates, steps.XERO_BATCH), self._create, self._write_back)
        await self._update(to_update, entries, mappings)
        await self._write_back([], final=True)
        await self._tell_skips()

    async def _tell_skips(self) -> None:
        assert self.connector is not None
        self.run.lease.check()
        told = await tell_skips(
            self.run.dataverse,
            self.run.ledger,
            self.run.connection_id,
            self.connector,
            self.skipped,
        )
        for skip in told:
            self.report.skip(skip.invoice.id, skip.invoice.number, skip.reason)

    async def _link_earlier_attempts(
        self,
        invoices: list[Invoice],
        entries: dict[str, InvoiceExport],
        mappings: dict[str, str],
    ) -> list[Invoice]:
        """Invoices the ledger knows reached Xero are written back, not created again; those a
        crash left `pending` are looked for in Xero. Returns the invoices still to create."""
        reconciliation = recovery.reconcile(invoices, entries)
        to_create = list(reconciliation.new)
        known = reconciliation.known
        if reconciliation.pending:
            lookup = recovery.recovery_lookup(reconciliation.pending, self.settings, mappings)
            found = await steps.find_pending(self.run.xero, lookup)
            known, not_found = recovery.recover(reconciliation, lookup, found, self.data.customers)
            to_create += not_found
        if not known:
            return to_create
        in_xero = await steps.invoices_by_id(self.run.xero, list(known.values()))
        linked, again = recovery.links(invoices, known, in_xero)
        to_create += again  # deleted in Xero since: a new export is wanted
        if linked:
            # Checked as a new export is: a retry writes Xero's line taxes, or says why not.
            # One Dynamics showed in Xero already is only told how to send its changes.
            exported = [
                updates.already_in_xero(link, self.run.xero_web_url)
                if link.invoice.id in reconciliation.told
                else plan.checked(link.invoice, link.xero, self.run.xero_web_url, link.reason)
                for link in linked
            ]
            await steps.record_in_xero(self.run, exported)
            count_invoice("linked", len(exported))
            await self._write_back(exported)
        return to_create

    async def _decide(
        self, invoices: list[Invoice], mappings: dict[str, str]
    ) -> list[plan.Decision]:
        """Each invoice's Xero body, or why there is none, once its customers and products are
        in Xero (looked up, and created as the settings allow; one after the other, as a run's
        Xero client sends its calls: see dxc_shared.xero_budget)."""
        contacts = await self._contacts_for(invoices)
        self.contact_links += contacts.links
        return plan.decide(
            invoices,
            contacts.ids,
            settings=self.settings,
            data=self.data,
            item_codes=await self._items_for(invoices),
            mappings=mappings,
        )

    async def _within_limit(self, creates: list[Create]) -> list[Create]:
        """The creates the plan's monthly limit has room for; the rest wait (see `limit`)."""
        most = self.run.profile.max_invoices_per_month
        if most is None or not creates:
            return creates
        now = utcnow()
        month, _ = limit.month_bounds(now)
        sent = await self.run.ledger.sent_since(self.run.connection_id, month)
        creates, waiting = limit.within_limit(creates, sent_this_month=sent, limit=most, now=now)
        self.skipped += waiting
        return creates

    async def _contacts_for(self, invoices: list[Invoice]) -> Contacts:
        """Customer id -> Xero ContactID, or why there is none."""
        contacts, unknown = plan_reference.known_contacts(
            plan_reference.customers_of(invoices, self.data)
        )
        if not unknown:
            return contacts
        found = await steps.look_up_contacts(self.run.xero, unknown)
        missing = plan_reference.match_contacts(contacts, unknown, found)
        if not missing:
            return contacts
        if not self.settings.create_contacts:
            plan_reference.contacts_missing(contacts, missing)
            return contacts
        missing = plan_reference.contacts_xero_takes(contacts, missing)
        if not missing:
            return contacts
        await self.run.lease.hold_for_write()
        created = await steps.create_contacts(self.run.xero, missing)
        plan_reference.contacts_created(contacts, missing, created)
        return contacts

    async def _items_for(self, invoices: list[Invoice]) -> dict[str, str]:
        """Product id -> the Xero Item code its lines may carry (only Items that exist)."""
        codes = plan_reference.item_codes(invoices, self.data)
        if not codes:
            return {}
        existing = await steps.existing_items(self.run.xero, codes.values())
        available, missing = plan_reference.items_missing(codes, self.data.products, existing)
        if missing and self.settings.create_products:
            await self.run.lease.hold_for_write()
            created = await steps.create_items(self.run.xero, missing)
            available.update(plan_reference.items_created(codes, created))
        return available

    async def _create(self, batch: list[Create]) -> list[Exported]:
        exported, failed = await steps.create_invoices(self.run, batch)
        for failure in failed:
            self._record_failure(failure)
        count_invoice("exported", len([e for e in exported if not e.mismatch]))
        return exported

    async def _update(
        self, invoices: list[Invoice], entries: dict[str, InvoiceExport], mappings: dict[str, str]
    ) -> None:
        """The invoices set to "Update in Xero" (see `updates`): refused with why when Xero
        would refuse them, written back when Xero already took this version, else mapped as a
        create is and sent as an update."""
        found, read = await update_steps.read_targets(self.run, invoices, entries)
        decisions = await self._decide(read.to_send, mappings)
        exported, failed, skipped = await update_steps.send_updates(
            self.run, read, decisions, found
        )
        for fail in failed:
            self._record_failure(fail)
        self.skipped += skipped
        count_invoice("updated", len([e for e in exported if not e.mismatch]))
        await self._write_back(exported)

    def _record_failure(self, fail: Fail) -> None:
        count_failure(fail.failure.reason)
        self.failed_queue.append(Failed(fail.invoice, fail.failure.message))

    async def _write_back(self, exported: Sequence[Exported], *, final: bool = False) -> None:
        """One `$batch` for the exported invoices, the failures queued since the last one (so
        they cost no extra request) and the customers' new Xero contact ids; the run's last
        also marks the connector synced."""
        assert self.connector is not None
        if not final and not exported:
            return
        # Taken now: failures queued while this write is under way go with the next one.
        failed, self.failed_queue = self.failed_queue, []
        links, self.contact_links = self.contact_links, []
        now = utcnow()
        change_sets = write_back_change_sets(
            self.connector,
            exported,
            failed,
            links,
            now,
            connector_synced=final and bool(exported or failed or links or self.report.succeeded),
        )
        if not change_sets:
            return
        results = await steps.write_back(self.run, change_sets)
        outcome = plan.written_back(exported, failed, results)
        self._report_refused(exported, outcome)
        self._report_exported(exported, set(outcome.written), now)
        for item in failed:
            self._report_failure(item.invoice, item.message)
        for invoice in [*(e.invoice for e in exported), *(f.invoice for f in failed)]:
            self.unsettled.pop(invoice.id, None)
        await steps.record_written_back(self.run, outcome.written)
        await self.run.ledger.forget_skips(
            self.run.connection_id, [*outcome.written, *(f.invoice.id for f in failed)]
        )

    def _report_refused(self, exported: Sequence[Exported], outcome: plan.WrittenBack) -> None:
        """What Dynamics refused of a write-back: Xero's line taxes (said with the next
        `$batch`), an invoice's columns (reported, with the privilege it lacks)."""
        for done in exported:
            if done.invoice.id in outcome.taxes_refused:
                refused = plan.tax_refused(done, outcome.taxes_refused[done.invoice.id])
                self.failed_queue.append(refused)
        for sent in exported:
            error = outcome.not_written.get(sent.invoice.id)
            if error is not None:
                logger.warning(
                    "invoice_sync.write_back_failed", invoice_id=sent.invoice.id, error=error
                )
                self._report_failure(sent.invoice, plan.not_written_message(sent, error))
                privilege = plan.missing_privilege(error)
                if privilege is not None and privilege not in self.report.missing_privileges:
                    self.report.missing_privileges.append(privilege)
        for invoice_id in outcome.failures_not_written:
            logger.warning("invoice_sync.failure_not_written", invoice_id=invoice_id)

    def _report_exported(
        self, exported: Sequence[Exported], written: set[str], now: datetime
    ) -> None:
        """Each invoice written back as exported is a success, with how long it waited since it
        was handed over (`now` is the moment written back)."""
        for done in exported:
            if done.mismatch:  # in Xero and linked, but Failed: the amounts differ
                self._report_failure(done.invoice, done.mismatch)
                count_failure("amounts_differ")
            elif done.already_exported and done.invoice.id in written:
                self.report.skip(done.invoice.id, done.invoice.number, done.message)
            elif done.invoice.id in written:
                invoice, zone_name = done.invoice, self.run.profile.time_zone
                lag = waited(invoice.date_delivered, invoice.modified_on, zone_name, now)
                if lag is not None:
                    LAG.observe(lag)
                self.report.succeed(
                    SyncSuccess(
                        record_id=done.invoice.id,
                        record_number=done.invoice.number,
                        customer_name=self._customer_name(done.invoice),
                        xero_invoice_id=done.xero_invoice_id,
                        xero_url=done.xero_url,
                        lag_seconds=lag,
                    )
                )

    def _customer_name(self, invoice: Invoice) -> str | None:
        customer = self.data.customer_of(invoice)
        return customer.name if customer is not None else None

    def _report_failure(self, invoice: Invoice, message: str) -> None:
        self.report.fail(
            invoice.id, invoice.number, message, customer_name=self._customer_name(invoice)
        )
