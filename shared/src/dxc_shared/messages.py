"""Messages that cross service boundaries: the contract between publishers and consumers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dxc_shared.bus import BusMessage

Provider = Literal["xero", "dynamics"]


class CredentialNeedsReauthorisation(BusMessage):
    """token-broker can no longer refresh a connection's grant: a person must reconnect."""

    topic: ClassVar[str] = "credentials.reauthorisation-needed"
    connection_id: uuid.UUID
    provider: Provider
    message: str


# The Xero invoice fields a connection's mapping template may fill from a Dynamics column.
MAPPABLE_XERO_INVOICE_FIELDS = frozenset({"Reference", "BrandingThemeID"})


class ConnectionSyncProfile(BaseModel):
    """What the scheduler and the workers need to know about a connection. portal-api owns it
    and sends it with every change; nobody else reads portal-api's tables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connection_id: uuid.UUID
    xero_tenant_id: str | None = None
    dynamics_org_url: str | None = None
    time_zone: str = "UTC"
    sync_interval_seconds: int = Field(default=60, ge=10)
    field_mappings: dict[str, str] = Field(
        default_factory=dict,
        description="The connection's mapping template: Dynamics invoice column -> Xero "
        "invoice field (e.g. {'description': 'Reference'})",
    )
    max_invoices_per_month: int | None = Field(
        default=None,
        ge=0,
        description="The plan's limit of new invoices sent to Xero a calendar month (UTC); "
        "an invoice run sends no more than the month has left (None: no limit)",
    )


class Hold(StrEnum):
    """What a connection's plan dates (`ConnectionChanged.active_until`,
    `invoices_paused_until`) mean for sending invoices: the scheduler and invoice-sync decide
    with this one test."""

    NONE = "none"
    ENDED = "ended"  # the subscription was cancelled, or the trial is over unpaid
    PAUSED = "paused"  # this month's invoice limit is reached; payments still sync


def hold(
    active_until: datetime | None, invoices_paused_until: datetime | None, now: datetime
) -> Hold:
    if active_until is not None and active_until <= now:
        return Hold.ENDED
    if invoices_paused_until is not None and invoices_paused_until > now:
        return Hold.PAUSED
    return Hold.NONE


class ConnectionChanged(BusMessage):
    """portal-api: a connection was created or changed. `syncable` is true when it should be
    scheduled: trial or subscription active, both sides authorised, both organisations chosen
    and the connector's tables installed in Dynamics."""

    topic: ClassVar[str] = "connections.changed"
    profile: ConnectionSyncProfile
    syncable: bool
    active_until: datetime | None = Field(
        default=None,
        description="When the plan stops paying for syncing (the trial's end without a "
        "subscription); None while a subscription is active. Time alone ends a trial, with no "
        "change to announce, so the scheduler checks this itself.",
    )
    reauthorisation_needed: dict[Provider, str] = Field(
        default_factory=dict,
        description="Provider -> why a person must connect it again; invoice-sync writes the "
        "Xero one on the connector record in Dynamics, since no job runs until it is fixed",
    )
    invoices_paused_until: datetime | None = Field(
        default=None,
        description="The plan's monthly invoice limit is reached: nothing is sent until then "
        "(the next month), or until a change clears it (an upgrade); payment syncing goes on",
    )
    set_up: bool = Field(
        default=False,
        description="Set up and not archived, whatever the plan: a connection whose plan ended "
        "still gets invoice jobs, which only tell each invoice handed over why it is not sent",
    )


class ConnectionArchived(BusMessage):
    """portal-api: the connection was cancelled and archived; syncing stops for good."""

    topic: ClassVar[str] = "connections.archived"
    connection_id: uuid.UUID


class SyncRequested(BusMessage):
    """A sync now: a person asked (the portal's "sync now"), or Dynamics pushed invoice
    changes (portal-api's webhook endpoint, coalesced per connection)."""

    topic: ClassVar[str] = "connections.sync-requested"
    connection_id: uuid.UUID
    invoices_only: bool = Field(
        default=False,
        description="Dynamics pushed invoice changes: the export job alone, at once, and the "
        "poll schedule left as it is (payments keep their own pace)",
    )


class SyncInvoicesJob(BusMessage):
    """scheduler -> invoice-sync: export this connection's ready invoices to Xero now."""

    topic: ClassVar[str] = "sync.invoices"
    job_id: uuid.UUID
    profile: ConnectionSyncProfile
    due_at: datetime
    active_until: datetime | None = Field(
        default=None,
        description="`ConnectionChanged.active_until` as the scheduler knew it: once past, the "
        "job sends nothing and only tells the invoices handed over that they wait",
    )
    invoices_paused_until: datetime | None = Field(
        default=None,
        description="`ConnectionChanged.invoices_paused_until` as the scheduler knew it: while "
        "in the future, likewise",
    )


class SyncPaymentsJob(BusMessage):
    """scheduler -> payment-sync: bring this connection's Xero changes back to Dynamics now."""

    topic: ClassVar[str] = "sync.payments"
    job_id: uuid.UUID
    profile: ConnectionSyncProfile
    due_at: datetime


class SyncFailure(BaseModel):
    """One record a run could not sync: ids and words, never amounts (the connector stores no
    financial data)."""

    model_config = ConfigDict(frozen=True)

    record_id: str = Field(description="The Dynamics record's id")
    record_number: str | None = Field(default=None, description="e.g. the invoice number")
    message: str = Field(description="Why, in words a finance user understands")
    customer_name: str | None = Field(
        default=None, description="The invoice's customer, so a person can search by it"
    )


class SyncSuccess(BaseModel):
    """One record a run wrote on the other side: ids and words, never amounts."""

    model_config = ConfigDict(frozen=True)

    record_id: str = Field(description="The Dynamics record's id")
    record_number: str | None = Field(default=None, description="e.g. the invoice number")
    customer_name: str | None = None
    xero_invoice_id: str | None = None
    xero_url: str | None = Field(default=None, description="Xero's deep link to the invoice")
    lag_seconds: float | None = Field(
        default=None,
        ge=0,
        description="From the invoice being handed over in Dynamics (ready: its last edit, "
        "the hand-over being one, or the start of its delivery day if later) to it being "
        "written back as exported; None where the worker does not know it",
    )


SyncDirection = Literal["invoices", "payments", "reference-data", "cancellations"]


class SyncRunCompleted(BusMessage):
    """invoice-sync / payment-sync -> portal-api: one job finished; the portal's sync activity
    page is built from these."""

    topic: ClassVar[str] = "sync.run-completed"
    connection_id: uuid.UUID
    job_id: uuid.UUID
    direction: SyncDirection
    started_at: datetime
    finished_at: datetime
    succeeded: int = Field(ge=0, description="Records written on the other side")
    failed: int = Field(ge=0)
    failures: list[SyncFailure] = Field(default_factory=list)
    successes: list[SyncSuccess] = Field(
        default_factory=list,
        description="The records written (empty from workers that report counts only)",
    )
    error: str | None = Field(
        default=None, description="Why the whole run could not proceed (e.g. re-authorise Xero)"
    )
    skipped: list[SyncFailure] = Field(
        default_factory=list,
        description="Records not sent, with the reason (told once per reason, not every run); "
        "not failures: each waits for time or a person",
    )
    missing_privileges: list[str] = Field(
        default_factory=list,
        description="Dynamics privileges the connector's user was refused during the run (e.g. "
        "prvWriteInvoice): the portal's checklist turns its permission step red",
    )


class XeroChangesNotified(BusMessage):
    """payment-sync's webhook endpoint -> payment-sync's workers: Xero says these records of a
    connection's organisation changed (webhooks carry ids only; the records must be fetched)."""

    topic: ClassVar[str] = "xero.changes-notified"
    connection_id: uuid.UUID
    tenant_id: str
    invoice_ids: list[str] = Field(default_factory=list)
    contact_ids: list[str] = Field(default_factory=list)


class ReferenceDataRefreshRequested(BusMessage):
    """Mirror the connection's Xero tax rates, chart of accounts and branding themes into
    Dynamics now (portal-api on demand; payment-sync itself on connect and on its schedule)."""

    topic: ClassVar[str] = "reference-data.refresh-requested"
    connection_id: uuid.UUID


class InvoiceRetryRequested(BusMessage):
    """portal-api -> invoice-sync: a person asked to retry a failed invoice. invoice-sync sets
    its export status in Dynamics back to No (recording it in sync history) and runs."""

    topic: ClassVar[str] = "invoices.retry-requested"
    connection_id: uuid.UUID
    record_id: str = Field(description="The Dynamics invoice's id")
    requested_by: uuid.UUID = Field(description="The portal user who asked")
