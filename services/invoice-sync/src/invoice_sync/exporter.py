"""One connection's invoice job: Dynamics' ready invoices into Xero, exactly once.

The order of a run, and why:

1. Take the connection's lease (or ask its holder to run once more, and stop).
2. Read the settings and the ready invoices with their lines, customers, products and line
   overrides from Dynamics, in bulk.
3. Reconcile with the ledger: an invoice the ledger says is in Xero is linked (written back)
   instead of created; one left `pending` by a crash is looked up in Xero by its number or
   reference and linked if found.
4. Make sure the customers and products exist in Xero: bulk look-ups, bulk creates.
5. Per batch of up to 50: ledger `pending` (committed, lease-fenced), Xero batch create with
   per-invoice errors and an Idempotency-Key, ledger `created`, one Dataverse `$batch` with a
   change set per invoice, ledger `written_back`.

Transient faults (Xero or Dataverse down or limiting for longer than a job waits) raise, so the
bus retries the job with back-off; the ledger makes the retry safe. Only the last attempt writes
them to the invoices as failures. A grant that needs re-authorising is written on the connector
record in Dynamics, and the run stops.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as day_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from dxc_shared.bus import MessageContext
from dxc_shared.clients.dataverse import (
    BatchOperation,
    DataverseClient,
    DataverseError,
    DataverseThrottled,
    DataverseUnavailable,
)
from dxc_shared.clients.token_broker import BrokeredToken, TokenBrokerClient
from dxc_shared.clients.xero_accounting import (
    ElementResult,
    XeroAccountingClient,
    XeroError,
    XeroRateLimited,
    XeroUnauthorised,
    XeroUnavailable,
)
from dxc_shared.credentials import CredentialMissing, ReauthorisationNeeded
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ConnectorStatus
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    ConnectionChanged,
    ConnectionSyncProfile,
    SyncFailure,
    SyncInvoicesJob,
    SyncRunCompleted,
)
from dxc_shared.outbox import enqueue

from invoice_sync import mapping
from invoice_sync.cancellations import Cancellations
from invoice_sync.dynamics import (
    Connector,
    ConnectorSettings,
    Customer,
    DynamicsGateway,
    Exported,
    Failed,
    Invoice,
    ReferenceData,
    connector_synced_change_set,
    contact_link_change_set,
    exported_change_set,
    failed_change_set,
    mapped_columns,
)
from invoice_sync.lease import Lease, LeaseLost, Leases
from invoice_sync.ledger import LeaseGone, Ledger
from invoice_sync.mapping import Failure
from invoice_sync.metrics import (
    BATCH_SIZE,
    JOB_DURATION,
    LAG,
    JobResult,
    count_failure,
    count_invoice,
    count_job,
)
from invoice_sync.models import ExportState, InvoiceExport

logger = get_logger(__name__)

JSON = dict[str, Any]
XERO_BATCH = 50  # invoices, contacts or items per Xero batch write
TRANSIENT = (XeroUnavailable, XeroRateLimited, DataverseUnavailable, DataverseThrottled)
_GONE = {"DELETED", "VOIDED"}


class RunStopped(Exception):
    """The run cannot go on (re-authorisation, no connector); `message` says why in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RunReport:
    started_at: datetime
    succeeded: int = 0
    failures: list[SyncFailure] = field(default_factory=list)
    error: str | None = None
    xero_calls: int = 0

    def fail(self, invoice: Invoice, message: str) -> None:
        self.failures.append(
            SyncFailure(record_id=invoice.id, record_number=invoice.number, message=message)
        )


def reauthorisation_text(provider: str, message: str) -> str:
    """What the connector record in Dynamics says when a grant must be renewed."""
    system = "Xero" if provider == "xero" else "Dynamics 365"
    return f"The connection to {system} needs to be authorised again: {message}"


def idempotency_key(kind: str, pairs: Iterable[str], body: Sequence[JSON]) -> str:
    """The same records at the same versions sent the same way give the same key, so Xero
    replays its first answer; anything different gets a new key (Xero refuses a key reused for
    a different body)."""
    digest = hashlib.sha256()
    for pair in sorted(pairs):
        digest.update(pair.encode() + b"\n")
    digest.update(json.dumps(list(body), sort_keys=True, default=str).encode())
    return f"dxc-{kind}-{digest.hexdigest()}"


def _today(time_zone: str) -> date:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


def _ready_at(invoice: Invoice, time_zone: str) -> datetime | None:
    """When the invoice became ready: delivered (start of that day) and last edited (the
    connector lookup being set is an edit)."""
    moments = [m for m in (invoice.modified_on,) if m is not None]
    if invoice.date_delivered is not None:
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        moments.append(datetime.combine(invoice.date_delivered, day_time(), zone))
    return max(moments) if moments else None


def _run_id(job_id: uuid.UUID, attempt: int, run_number: int) -> uuid.UUID:
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
        token_broker: TokenBrokerClient,
        http: httpx.AsyncClient,
        *,
        xero_api_url: str,
        xero_web_url: str,
        lease_ttl_seconds: float = 120.0,
        max_attempts: int = 6,
    ) -> None:
        self.database = database
        self._token_broker = token_broker
        self._http = http
        self._xero_api_url = xero_api_url
        self._xero_web_url = xero_web_url.rstrip("/")
        self.max_attempts = max_attempts
        self.leases = Leases(database, ttl_seconds=lease_ttl_seconds)
        self.ledger = Ledger(database, self.leases.holder)

    # -- the bus handler -------------------------------------------------------------------

    async def on_job(self, job: SyncInvoicesJob, context: MessageContext) -> None:
        connection_id = job.profile.connection_id
        if not await self.leases.try_acquire(connection_id):
            count_job("deferred")
            logger.info("invoice_sync.job_deferred", connection_id=str(connection_id))
            return
        started = time.perf_counter()
        last_attempt = context.attempt >= self.max_attempts
        try:
            run_number = 0
            while True:
                run_id = _run_id(job.job_id, context.attempt, run_number)
                async with self.leases.kept_alive(connection_id) as lease:
                    result = await self.run(job.profile, run_id, lease, last_attempt=last_attempt)
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

    # -- one run ---------------------------------------------------------------------------

    async def run(
        self,
        profile: ConnectionSyncProfile,
        run_id: uuid.UUID,
        lease: Lease,
        *,
        last_attempt: bool = False,
    ) -> JobResult:
        report = RunReport(started_at=datetime.now(UTC))
        connection_id = profile.connection_id
        if not profile.dynamics_org_url or not profile.xero_tenant_id:
            report.error = (
                "The connection has no Dynamics or no Xero organisation chosen yet: finish "
                "connecting both in the portal."
            )
            await self._publish(profile, run_id, report)
            return "failed"
        dataverse = self._dataverse(connection_id, profile.dynamics_org_url)
        xero_token = BrokeredToken(self._token_broker, connection_id, "xero")
        xero = XeroAccountingClient(
            self._http,
            base_url=self._xero_api_url,
            tenant_id=profile.xero_tenant_id,
            access_token=xero_token,
            token_rejected=xero_token.rejected,
        )
        gateway = DynamicsGateway(dataverse)
        work = _Run(self, profile, gateway, xero, lease, report, last_attempt)
        try:
            await work.execute()
            result: JobResult = "completed"
        except RunStopped as stopped:
            report.error = stopped.message
            result = "failed"
        except LeaseLost as lost:
            logger.warning("invoice_sync.lease_lost", error=str(lost))
            return "failed"
        except LeaseGone as gone:
            logger.warning("invoice_sync.lease_lost", error=str(gone))
            return "failed"
        finally:
            report.xero_calls = xero.calls
        await self._publish(profile, run_id, report)
        return result

    async def on_connection_changed(self, message: ConnectionChanged, _: MessageContext) -> None:
        """A lost Xero grant stops the jobs (the connection is no longer due), so no run would
        tell Dynamics users why nothing syncs: say it on the connector record now. (Without the
        Dynamics grant there is no way to write there; the portal shows that one.)"""
        profile = message.profile
        xero_message = message.reauthorisation_needed.get("xero")
        if not xero_message or "dynamics" in message.reauthorisation_needed:
            return
        if not profile.dynamics_org_url:
            return
        gateway = DynamicsGateway(self._dataverse(profile.connection_id, profile.dynamics_org_url))
        try:
            connector = await gateway.connector(profile.connection_id)
            if connector is not None:
                await gateway.set_connector_status(
                    connector,
                    ConnectorStatus.REAUTHORISATION_NEEDED,
                    reauthorisation_text("xero", xero_message),
                )
        except (ReauthorisationNeeded, CredentialMissing):
            logger.info("invoice_sync.reauthorisation_not_written", reason="no Dynamics grant")

    def _dataverse(self, connection_id: uuid.UUID, org_url: str) -> DataverseClient:
        token = BrokeredToken(self._token_broker, connection_id, "dynamics", resource=org_url)
        return DataverseClient(
            self._http, org_url=org_url, access_token=token, token_rejected=token.rejected
        )

    async def _publish(
        self, profile: ConnectionSyncProfile, run_id: uuid.UUID, report: RunReport
    ) -> None:
        async with self.database.unit_of_work() as session:
            enqueue(
                session,
                SyncRunCompleted(
                    connection_id=profile.connection_id,
                    job_id=run_id,
                    direction="invoices",
                    started_at=report.started_at,
                    finished_at=datetime.now(UTC),
                    succeeded=report.succeeded,
                    failed=len(report.failures),
                    failures=report.failures,
                    error=report.error,
                ),
                headers={"connection_id": str(profile.connection_id)},
            )
        logger.info(
            "invoice_sync.run_completed",
            connection_id=str(profile.connection_id),
            succeeded=report.succeeded,
            failed=len(report.failures),
            error=report.error,
            xero_calls=report.xero_calls,
        )

    def xero_url(self, xero_invoice_id: str) -> str:
        return f"{self._xero_web_url}/AccountsReceivable/View.aspx?InvoiceID={xero_invoice_id}"


@dataclass
class _Prepared:
    invoice: Invoice
    body: JSON


class _Run:
    """The state of one run; see the module's docstring for the order of its steps."""

    def __init__(
        self,
        exporter: InvoiceExporter,
        profile: ConnectionSyncProfile,
        gateway: DynamicsGateway,
        xero: XeroAccountingClient,
        lease: Lease,
        report: RunReport,
        last_attempt: bool,
    ) -> None:
        self.exporter = exporter
        self.profile = profile
        self.connection_id = profile.connection_id
        self.gateway = gateway
        self.xero = xero
        self.lease = lease
        self.report = report
        self.last_attempt = last_attempt
        self.connector: Connector | None = None
        self.settings = ConnectorSettings()
        self.data = ReferenceData()
        self.pending_links: list[list[BatchOperation]] = []
        self.unsettled: dict[str, Invoice] = {}  # read, not yet written back
        self.failed_queue: list[Failed] = []  # written with the next $batch

    async def execute(self) -> None:
        try:
            await self._execute()
            await self._handle_cancellations()
        except ReauthorisationNeeded as needed:
            await self._stop_for_reauthorisation(needed.provider, needed.message)
        except XeroUnauthorised as refused:
            await self._stop_for_reauthorisation(
                "xero",
                f"Xero refused the connector's access to the organisation ({refused.message}). "
                "Reconnect Xero in the portal.",
            )
        except CredentialMissing as missing:
            raise RunStopped(
                "The connection is not authorised with both Xero and Dynamics: connect them "
                "in the portal."
            ) from missing
        except DataverseError as refused:
            # Retrying the same request cannot help (e.g. the mapping template names a column
            # the invoice table does not have): say so instead of retrying.
            raise RunStopped(
                f"Dynamics 365 refused a request of the connector: {refused.message}"
            ) from refused
        except TRANSIENT as error:
            if not self.last_attempt:
                raise
            await self._give_up(error)

    async def _handle_cancellations(self) -> None:
        assert self.connector is not None  # _execute stops the run without one
        cancellations = Cancellations(
            self.exporter.database,
            self.connection_id,
            self.gateway,
            self.xero,
            self.connector,
            self.lease,
            create_credit_notes=self.settings.create_credit_notes,
        )
        self.report.failures.extend(await cancellations.run())

    async def _stop_for_reauthorisation(self, provider: str, message: str) -> None:
        text = reauthorisation_text(provider, message)
        if provider == "xero" and self.connector is not None:
            await self.gateway.set_connector_status(
                self.connector, ConnectorStatus.REAUTHORISATION_NEEDED, text
            )
        raise RunStopped(text)

    async def _give_up(self, error: Exception) -> None:
        """The last attempt met a transient fault: say so on every invoice still in flight (if
        Dynamics can be reached) so a person sees it; the ledger keeps what reached Xero."""
        system = "Xero" if isinstance(error, XeroUnavailable | XeroRateLimited) else "Dynamics"
        message = (
            f"{system} could not be reached after {self.exporter.max_attempts} attempts "
            f"({error}). Set the invoice's Xero export status back to No to try again."
        )
        if self.connector is not None and self.unsettled:
            failed = [Failed(invoice, message) for invoice in self.unsettled.values()]
            try:
                await self.gateway.client.batch(
                    [failed_change_set(self.connector, f, datetime.now(UTC)) for f in failed]
                )
            except TRANSIENT:
                logger.warning("invoice_sync.give_up_not_written", exc_info=True)
            for item in failed:
                self.report.fail(item.invoice, message)
                count_failure("other")
        raise RunStopped(message) from error

    async def _execute(self) -> None:
        self.connector = await self.gateway.connector(self.connection_id)
        if self.connector is None:
            raise RunStopped(
                "The connector is not set up in Dynamics 365 for this connection: install the "
                "connector's tables from the portal's checklist."
            )
        connector = self.connector
        self.settings = await self.gateway.settings(connector)
        mappings = {
            column: target
            for column, target in self.profile.field_mappings.items()
            if column.lower() in mapped_columns(self.profile.field_mappings)
        }
        invoices = [
            invoice
            for invoice in await self.gateway.ready_invoices(
                connector, _today(self.profile.time_zone), mapped_columns(mappings)
            )
            if invoice.lines  # no lines yet: skipped (not an error) until it has some
        ]
        if not invoices:
            if connector.status not in (None, ConnectorStatus.ACTIVE):
                await self.gateway.client.batch(
                    [connector_synced_change_set(connector, datetime.now(UTC))]
                )
            return
        self.unsettled = {invoice.id: invoice for invoice in invoices}
        self.data = await self.gateway.reference_data(invoices)
        entries = await self.exporter.ledger.entries(
            self.connection_id, [invoice.id for invoice in invoices]
        )
        to_create = await self._link_earlier_attempts(invoices, entries, mappings)
        self.lease.check()
        contacts = await self._contacts_for(to_create)
        item_codes = await self._items_for(to_create)
        prepared: list[_Prepared] = []
        for invoice in to_create:
            customer = self.data.customers.get(invoice.customer_id or "")
            contact = contacts.get(invoice.customer_id or "")
            if customer is None:
                continue  # the customer row is gone: skipped until the invoice is fixed
            if isinstance(contact, Failure):
                await self._record_failure(invoice, contact)
                continue
            if contact is None:
                continue
            prepared.append(
                _Prepared(
                    invoice,
                    mapping.invoice_json(
                        invoice,
                        contact_id=contact,
                        settings=self.settings,
                        data=self.data,
                        item_codes=item_codes,
                        mappings=mappings,
                    ),
                )
            )
        for start in range(0, len(prepared), XERO_BATCH):
            await self._create_batch(prepared[start : start + XERO_BATCH])
        await self._write_back([], final=True)

    # -- earlier attempts ------------------------------------------------------------------

    async def _link_earlier_attempts(
        self,
        invoices: list[Invoice],
        entries: dict[str, InvoiceExport],
        mappings: dict[str, str],
    ) -> list[Invoice]:
        """Invoices the ledger knows reached Xero are written back, not created again; those a
        crash left `pending` are looked for in Xero. Returns the invoices still to create."""
        known: dict[str, str] = {}  # dynamics id -> xero id
        pending: list[Invoice] = []
        to_create: list[Invoice] = []
        for invoice in invoices:
            entry = entries.get(invoice.id)
            if entry is None:
                to_create.append(invoice)
            elif entry.state != ExportState.PENDING and entry.xero_invoice_id:
                known[invoice.id] = entry.xero_invoice_id
            else:
                pending.append(invoice)
        if pending:
            keys = {
                invoice.id: mapping.recovery_key(invoice, self.settings, mappings)
                for invoice in pending
            }
            if self.settings.use_xero_invoice_number:
                found = await self.xero.invoices_with_references(list(keys.values()))
                field_name = "Reference"
            else:
                found = await self.xero.invoices(numbers=list(keys.values()))
                field_name = "InvoiceNumber"
            taken = set(known.values())
            for invoice in pending:
                match = self._match(invoice, keys[invoice.id], found, field_name, taken)
                if match is None:
                    to_create.append(invoice)
                else:
                    known[invoice.id] = match
                    taken.add(match)
        if not known:
            return to_create
        by_id = {str(x["InvoiceID"]): x for x in await self.xero.invoices(ids=list(known.values()))}
        linked: list[Exported] = []
        for invoice in invoices:
            xero_id = known.get(invoice.id)
            if xero_id is None:
                continue
            element = by_id.get(xero_id)
            if element is None or element.get("Status") in _GONE:
                to_create.append(invoice)  # deleted in Xero since: a new export is wanted
                continue
            linked.append(
                self._exported(
                    invoice,
                    element,
                    "Already in Xero from an earlier attempt as "
                    f"{element.get('InvoiceNumber') or xero_id}; linked instead of created again.",
                )
            )
        if linked:
            await self.exporter.ledger.mark_created(
                self.connection_id,
                {e.invoice.id: (e.xero_invoice_id, e.xero_number) for e in linked},
            )
            count_invoice("linked", len(linked))
            await self._write_back(linked)
        return to_create

    def _match(
        self, invoice: Invoice, key: str, found: list[JSON], field_name: str, taken: set[str]
    ) -> str | None:
        customer = self.data.customers.get(invoice.customer_id or "")
        candidates = [
            element
            for element in found
            if str(element.get(field_name) or "") == key
            and element.get("Type", "ACCREC") == "ACCREC"
            and element.get("Status") not in _GONE
            and str(element.get("InvoiceID")) not in taken
        ]

        def same_customer(element: JSON) -> bool:
            contact = element.get("Contact") or {}
            return customer is not None and (
                contact.get("ContactNumber") == customer.id
                or (
                    customer.xero_contact_id is not None
                    and contact.get("ContactID") == customer.xero_contact_id
                )
            )

        preferred = [element for element in candidates if same_customer(element)]
        chosen = (preferred or candidates)[:1]
        return str(chosen[0]["InvoiceID"]) if chosen else None

    # -- contacts and items ----------------------------------------------------------------

    async def _contacts_for(self, invoices: list[Invoice]) -> dict[str, str | Failure]:
        """Customer id -> Xero ContactID, or why there is none."""
        customers = {
            customer.id: customer
            for invoice in invoices
            if (customer := self.data.customers.get(invoice.customer_id or "")) is not None
        }
        result: dict[str, str | Failure] = {
            c.id: c.xero_contact_id for c in customers.values() if c.xero_contact_id
        }
        unknown = [c for c in customers.values() if c.id not in result]
        if not unknown:
            return result
        found = await self.xero.contacts_matching(
            numbers=[c.id for c in unknown], names=[c.name for c in unknown if c.name]
        )
        by_number = {str(x.get("ContactNumber")): x for x in found if x.get("ContactNumber")}
        by_name = {str(x.get("Name", "")).lower(): x for x in found}
        missing: list[Customer] = []
        for customer in unknown:
            match = by_number.get(customer.id) or by_name.get(customer.name.lower())
            if match is not None:
                result[customer.id] = str(match["ContactID"])
                self.pending_links.append(
                    contact_link_change_set(customer, str(match["ContactID"]))
                )
            else:
                missing.append(customer)
        if not missing:
            return result
        if not self.settings.create_contacts:
            for customer in missing:
                result[customer.id] = mapping.contact_missing(customer.name)
            return result
        created: list[ElementResult] = []
        for start in range(0, len(missing), XERO_BATCH):
            chunk = missing[start : start + XERO_BATCH]
            bodies = [mapping.contact_json(customer) for customer in chunk]
            created += await self.xero.create_contacts(
                bodies,
                idempotency_key=idempotency_key("contacts", [c.id for c in chunk], bodies),
            )
        for customer, element in zip(missing, created, strict=False):
            if element.ok:
                contact_id = str(element.element["ContactID"])
                result[customer.id] = contact_id
                self.pending_links.append(contact_link_change_set(customer, contact_id))
            else:
                result[customer.id] = mapping.contact_not_created(customer.name, element.errors)
        return result

    async def _items_for(self, invoices: list[Invoice]) -> dict[str, str]:
        """Product id -> the Xero Item code its lines may carry (only Items that exist)."""
        products = {
            product.id: product
            for invoice in invoices
            for line in invoice.lines
            if not line.written_in
            and (product := self.data.products.get(line.product_id or "")) is not None
        }
        codes = {pid: code for pid, p in products.items() if (code := mapping.item_code(p))}
        if not codes:
            return {}
        existing = {
            str(item.get("Code", "")).lower()
            for item in await self.xero.items_with_codes(sorted(set(codes.values())))
        }
        available = {pid: code for pid, code in codes.items() if code.lower() in existing}
        missing = {
            code.lower(): products[pid]
            for pid, code in codes.items()
            if code.lower() not in existing
        }
        if missing and self.settings.create_products:
            created: list[ElementResult] = []
            new_products = list(missing.values())
            for start in range(0, len(new_products), XERO_BATCH):
                chunk = new_products[start : start + XERO_BATCH]
                bodies = [mapping.item_json(product) for product in chunk]
                created += await self.xero.create_items(
                    bodies,
                    idempotency_key=idempotency_key("items", [p.id for p in chunk], bodies),
                )
            made = {
                str(element.element.get("Code", "")).lower() for element in created if element.ok
            }
            for element in created:
                if not element.ok:
                    logger.warning(
                        "invoice_sync.item_not_created",
                        code=element.element.get("Code"),
                        errors=element.errors,
                    )
            available.update({pid: code for pid, code in codes.items() if code.lower() in made})
        return available

    # -- creating and writing back ---------------------------------------------------------

    async def _create_batch(self, batch: list[_Prepared]) -> None:
        ledger = self.exporter.ledger
        await ledger.mark_pending(
            self.connection_id, {item.invoice.id: item.invoice.version for item in batch}
        )
        self.lease.check()
        bodies = [item.body for item in batch]
        key = idempotency_key(
            "invoices", [f"{i.invoice.id}:{i.invoice.version}" for i in batch], bodies
        )
        BATCH_SIZE.observe(len(batch))
        try:
            results = await self.xero.create_invoices(bodies, idempotency_key=key)
        except XeroError as refused:
            if isinstance(refused, XeroUnauthorised):
                raise
            # The whole request was refused, so none of it is in Xero.
            await ledger.forget(self.connection_id, [item.invoice.id for item in batch])
            failure = mapping.explain([refused.message])
            for item in batch:
                await self._record_failure(item.invoice, failure)
            return
        exported: list[Exported] = []
        rejected: list[str] = []
        for item, element in zip(batch, results, strict=False):
            if element.ok:
                exported.append(self._exported(item.invoice, element.element, ""))
            else:
                rejected.append(item.invoice.id)
                await self._record_failure(item.invoice, mapping.explain(element.errors))
        await ledger.mark_created(
            self.connection_id,
            {e.invoice.id: (e.xero_invoice_id, e.xero_number) for e in exported},
        )
        await ledger.forget(self.connection_id, rejected)
        now = datetime.now(UTC)
        for done in exported:
            ready = _ready_at(done.invoice, self.profile.time_zone)
            if ready is not None:
                LAG.observe(max(0.0, (now - ready).total_seconds()))
        count_invoice("exported", len(exported))
        await self._write_back(exported)

    def _exported(self, invoice: Invoice, element: JSON, message: str) -> Exported:
        xero_id = str(element["InvoiceID"])
        number = element.get("InvoiceNumber") or None
        return Exported(
            invoice=invoice,
            xero_invoice_id=xero_id,
            xero_number=number,
            xero_status=element.get("Status"),
            xero_url=self.exporter.xero_url(xero_id),
            total_tax=element.get("TotalTax"),
            amount_due=element.get("AmountDue"),
            message=message
            or f"Exported to Xero as {number or xero_id} ({element.get('Status', 'DRAFT')}).",
        )

    async def _record_failure(self, invoice: Invoice, failure: Failure) -> None:
        count_failure(failure.reason)
        self.failed_queue.append(Failed(invoice, failure.message))

    async def _write_back(self, exported: list[Exported], *, final: bool = False) -> None:
        """One `$batch`: a change set per invoice (its Xero columns or its failure, and a sync
        history row), plus the customers' new Xero contact ids. Failures queue up until the
        next batch goes (or the run ends), so they cost no extra request."""
        assert self.connector is not None
        failed = self.failed_queue
        if not final and not exported:
            return
        now = datetime.now(UTC)
        change_sets: list[list[BatchOperation]] = [
            *(exported_change_set(self.connector, e, now) for e in exported),
            *(failed_change_set(self.connector, f, now) for f in failed),
            *self.pending_links,
        ]
        if final and (exported or failed or self.pending_links or self.report.succeeded):
            change_sets.append(connector_synced_change_set(self.connector, now))
        if not change_sets:
            return
        self.lease.check()
        results = await self.gateway.client.batch(change_sets)
        self.failed_queue = []
        self.pending_links = []
        written: list[str] = []
        for index, exported_item in enumerate(exported):
            if all(result.ok for result in results[index]):
                written.append(exported_item.invoice.id)
                self.report.succeeded += 1
            else:
                logger.warning(
                    "invoice_sync.write_back_failed",
                    invoice_id=exported_item.invoice.id,
                    error=next(r.error_message for r in results[index] if not r.ok),
                )
            self.unsettled.pop(exported_item.invoice.id, None)
        for offset, failed_item in enumerate(failed, start=len(exported)):
            self.report.fail(failed_item.invoice, failed_item.message)
            self.unsettled.pop(failed_item.invoice.id, None)
            if not all(result.ok for result in results[offset]):
                logger.warning(
                    "invoice_sync.failure_not_written", invoice_id=failed_item.invoice.id
                )
        await self.exporter.ledger.mark_written_back(self.connection_id, written)
