"""The export plan: what each ready invoice needs, decided from what the run has read (Dynamics
365's state, the export ledger, Xero's answers to look-ups). Pure: no I/O, no clock.

A run is a few rounds of "read, then decide" (see `workflow`): which invoices are worth working
on; which an earlier attempt already put in Xero (link them) and which a crash left `pending`
(look for them in Xero: `plan_recovery`); which customers and products Xero lacks
(`plan_reference`); then per invoice one of create, fail (with the message a person acts on) or
skip (with the reason it waits).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dxc_shared.clients.dataverse import BatchResult
from dxc_shared.clients.xero_accounting import ElementResult
from dxc_shared.dynamics.columns import InvoiceState
from dxc_shared.messages import Hold, hold
from dxc_shared.xero import documents as xero

from invoice_sync.connector.records import ConnectorSettings
from invoice_sync.invoices import amounts, mapping
from invoice_sync.invoices.mapping import Failure
from invoice_sync.invoices.records import (
    Exported,
    Failed,
    Invoice,
    ReferenceData,
)

JSON = dict[str, Any]
# -- decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skip:
    """Not this run: the invoice waits, without an error, until `reason` no longer holds."""

    invoice: Invoice
    reason: str


@dataclass(frozen=True)
class Link:
    """Already in Xero (`xero` is Xero's copy): written back instead of created again."""

    invoice: Invoice
    xero: xero.Invoice
    reason: str


@dataclass(frozen=True)
class Create:
    invoice: Invoice
    body: JSON


@dataclass(frozen=True)
class Fail:
    invoice: Invoice
    failure: Failure


Decision = Create | Fail | Skip

NO_LINES = "Not sent: the invoice has no lines."
NO_CUSTOMER = "Not sent: the invoice has no customer."
NO_PRICE_LIST = "Not sent: the invoice has no price list."
NO_DELIVERY_DATE = "Waiting: the invoice has no delivery date."
CUSTOMER_GONE = "Not sent: the invoice's customer is no longer in Dynamics 365."
NO_CONTACT = "Not sent: the invoice's customer has no Xero contact."
_STATE_NAMES: dict[int, str] = {
    InvoiceState.PAID: "Paid",
    InvoiceState.CANCELED: "Canceled",
    InvoiceState.CLOSED: "Closed",
}


def xero_url(xero_web_url: str, xero_invoice_id: str) -> str:
    return f"{xero_web_url.rstrip('/')}/AccountsReceivable/View.aspx?InvoiceID={xero_invoice_id}"


def exported(
    invoice: Invoice, element: xero.Invoice, xero_web_url: str, message: str = ""
) -> Exported:
    """What Dynamics is told about an invoice Xero holds as `element`."""
    xero_id = str(element.invoice_id)
    number = element.invoice_number or None
    status = element.status
    return Exported(
        invoice=invoice,
        xero_invoice_id=xero_id,
        xero_number=number,
        xero_status=status,
        xero_url=xero_url(xero_web_url, xero_id),
        total_tax=_number(element.total_tax),
        amount_due=_number(element.amount_due),
        message=message or f"Exported to Xero as {number or xero_id} ({status or 'DRAFT'}).",
    )


def _number(amount: Decimal | None) -> float | None:
    """An amount as Dynamics' Web API takes it (a JSON number)."""
    return None if amount is None else float(amount)


# -- which invoices -----------------------------------------------------------------------------


def hold_reason(invoice: Invoice, today: date) -> str | None:
    """Why a handed-over invoice is not sent this run, in words ("Waiting: …" clears on its own
    with time, "Not sent: …" needs a person), or None when it is ready."""
    if invoice.state != InvoiceState.ACTIVE:
        state = _STATE_NAMES.get(invoice.state, "Closed")
        return f"Already {state} in Dynamics: nothing sent."
    if not invoice.customer_id:
        return NO_CUSTOMER
    if not invoice.price_list_id:
        return NO_PRICE_LIST
    if invoice.date_delivered is None:
        return NO_DELIVERY_DATE
    if invoice.date_delivered > today:
        day = invoice.date_delivered
        return f"Waiting: the delivery date {day.day} {day:%b %Y} is in the future."
    if not invoice.lines:
        return NO_LINES
    return None


def sort_out(invoices: Iterable[Invoice], today: date) -> tuple[list[Invoice], list[Skip]]:
    """The handed-over invoices ready to send, and those skipped with why."""
    ready: list[Invoice] = []
    skipped: list[Skip] = []
    for invoice in invoices:
        reason = hold_reason(invoice, today)
        if reason is None:
            ready.append(invoice)
        else:
            skipped.append(Skip(invoice, reason))
    return ready, skipped


SUBSCRIPTION_INACTIVE = "Not sent: the connector's subscription is inactive."


@dataclass(frozen=True)
class Held:
    """Why no invoice of the connection is sent for now (its jobs only tell why meanwhile):
    `reason` for each handed-over invoice's Skipped row; `connector_message` for the connector
    record when it goes Inactive (None: it stays Active, payments still sync)."""

    reason: str
    connector_message: str | None


def limit_reached(until: date) -> str:
    """The Skipped row of an invoice that waits for the plan's monthly limit to lift."""
    return (
        "Not sent: this month's plan limit is reached; it waits until "
        f"{until.day} {until:%b %Y} or a bigger plan."
    )


def held(
    active_until: datetime | None, invoices_paused_until: datetime | None, now: datetime
) -> Held | None:
    """What a connection change means for sending invoices: the plan ended (the subscription was
    cancelled, or the trial is over unpaid), or this month's invoice limit is reached."""
    state = hold(active_until, invoices_paused_until, now)
    if state is Hold.ENDED:
        assert active_until is not None
        ended = active_until.date()
        return Held(
            SUBSCRIPTION_INACTIVE,
            f"Inactive since {ended.day} {ended:%b %Y}: the connector's subscription ended "
            "(cancelled, or the trial is over without a subscription). Subscribe again in the "
            "portal; invoices handed over meanwhile are sent then.",
        )
    if state is Hold.PAUSED:
        assert invoices_paused_until is not None
        return Held(limit_reached(invoices_paused_until.date()), None)
    return None


def news(skips: Iterable[Skip], told: Mapping[str, str]) -> list[Skip]:
    """The skips whose reason the invoice's sync history does not give yet (each cause is told
    once, not on every run)."""
    return [skip for skip in skips if told.get(skip.invoice.id) != skip.reason]


def usable_mappings(field_mappings: Mapping[str, str], columns: Iterable[str]) -> dict[str, str]:
    """The connection's field mappings whose column may be read (see `mapped_columns`)."""
    readable = set(columns)
    return {c: target for c, target in field_mappings.items() if c.lower() in readable}


# -- per invoice --------------------------------------------------------------------------------


def decide(
    invoices: Iterable[Invoice],
    contacts: Mapping[str, str | Failure],
    *,
    settings: ConnectorSettings,
    data: ReferenceData,
    item_codes: Mapping[str, str],
    mappings: Mapping[str, str],
) -> list[Decision]:
    """Create each invoice whose customer has a Xero contact; fail those whose contact could not
    be had; skip those whose customer is gone."""
    decisions: list[Decision] = []
    for invoice in invoices:
        contact = contacts.get(invoice.customer_id or "")
        if data.customer_of(invoice) is None:
            decisions.append(Skip(invoice, CUSTOMER_GONE))
        elif isinstance(contact, Failure):
            decisions.append(Fail(invoice, contact))
        elif contact is None:
            decisions.append(Skip(invoice, NO_CONTACT))
        else:
            body = mapping.invoice_json(
                invoice,
                contact_id=contact,
                settings=settings,
                data=data,
                item_codes=item_codes,
                mappings=mappings,
            )
            if isinstance(body, Failure):
                decisions.append(Fail(invoice, body))
                continue
            # What the mapping cannot represent exactly is not sent.
            differences = amounts.reconcile(
                mapping.amounts_of(invoice), xero.Invoice.from_xero(body)
            )
            if differences:
                decisions.append(Fail(invoice, amounts_differ(differences, sent=False)))
            else:
                decisions.append(Create(invoice, body))
    return decisions


def amounts_differ(differences: Sequence[str], *, sent: bool) -> Failure:
    where = (
        "The invoice is in Xero (linked here) but does not match."
        if sent
        else "It was not sent to Xero."
    )
    return Failure(
        "amounts_differ",
        f"{'; '.join(differences)}. {where} " + mapping.RETRY_HINT,
    )


def checked(
    invoice: Invoice, returned: xero.Invoice, xero_web_url: str, message: str = ""
) -> Exported:
    """An invoice Xero holds as `returned`, with Xero's tax for each of its lines (written back
    to Dynamics) and, when Xero's amounts do not equal Dynamics' after that, the difference."""
    xero_lines = returned.line_items or []
    # Tax inclusive: Dynamics' amounts already hold Xero's tax, so none is added on its lines.
    inclusive = returned.line_amount_types == xero.LineAmountTypes.INCLUSIVE
    line_taxes = {
        line.id: amounts.ZERO if inclusive else (xero_line.tax_amount or amounts.ZERO)
        for line, xero_line in zip(invoice.lines, xero_lines, strict=False)
    }
    written = [line_taxes.get(line.id, amounts.ZERO) for line in invoice.lines]
    differences = amounts.reconcile(mapping.amounts_of(invoice), returned, written_tax=written)
    notes = amounts.tax_changes(
        [line.tax for line in invoice.lines],
        [xero.LineItem(tax_amount=line_taxes.get(line.id)) for line in invoice.lines],
    )
    done = exported(invoice, returned, xero_web_url, message)
    # Only the lines whose tax changes are written: the same totals for a smaller $batch.
    changed = {
        line.id: tax
        for line in invoice.lines
        if (tax := line_taxes.get(line.id)) is not None and line.tax != tax
    }
    return dataclasses.replace(
        done,
        line_taxes=changed,
        message=" ".join([done.message, *notes]),
        mismatch=amounts_differ(differences, sent=True).message if differences else None,
    )


def batches(creates: Sequence[Create], size: int) -> list[list[Create]]:
    return [list(creates[start : start + size]) for start in range(0, len(creates), size)]


def created(
    batch: Sequence[Create], results: Sequence[ElementResult[xero.Invoice]], xero_web_url: str
) -> tuple[list[Exported], list[Fail]]:
    """Xero's answer to a batch create: the invoices it took and those it refused, and why."""
    done: list[Exported] = []
    refused: list[Fail] = []
    for item, element in zip(batch, results, strict=False):
        if element.ok:
            done.append(checked(item.invoice, element.element, xero_web_url))
        else:
            refused.append(Fail(item.invoice, mapping.explain(element.errors)))
    return done, refused


def refused(batch: Sequence[Create], message: str) -> list[Fail]:
    """Xero refused the whole request: none of it is in Xero, every invoice fails with why."""
    failure = mapping.explain([message])
    return [Fail(item.invoice, failure) for item in batch]


def tax_refused(item: Exported, error: str) -> Failed:
    """Dynamics refused Xero's tax on the invoice's lines: its totals are not Xero's."""
    return Failed(
        item.invoice,
        f"Xero has the invoice as {item.xero_number or item.xero_invoice_id}, but Dynamics 365 "
        f"refused Xero's tax on its lines ({error}), so its total tax and total differ from "
        "Xero's. " + mapping.RETRY_HINT,
    )


def give_up_message(system: str, attempts: int, error: Exception) -> str:
    return (
        f"{system} could not be reached after {attempts} attempts ({error}). Set the invoice's "
        "Xero export status back to No to try again."
    )


_MISSING_PRIVILEGE = re.compile(
    r"missing (prv(Create|Read|Write|Delete|AppendTo|Append)(\w+)) privilege"
)


def missing_privilege(error: str) -> str | None:
    """The privilege (e.g. prvWriteInvoice) Dataverse says the connector's user lacks."""
    found = _MISSING_PRIVILEGE.search(error)
    return found.group(1) if found else None


def not_written_message(exported: Exported, error: str) -> str:
    """Why Dynamics does not show an invoice Xero holds, in words; the ledger keeps the link, so
    every run tries again until Dynamics takes it."""
    found = _MISSING_PRIVILEGE.search(error)
    refusal = (
        f"the connector's user lacks {found.group(2)} on {found.group(3)}"
        if found
        else error.rstrip(".")
    )
    return (
        f"In Xero as {exported.xero_number or exported.xero_invoice_id}, but Dynamics refused "
        f"the update: {refusal}. The connector tries again on every run."
    )


@dataclass(frozen=True)
class WrittenBack:
    """Which outcomes Dynamics took from a write-back `$batch`."""

    written: list[str]  # exported invoices whose columns and history row were written
    not_written: dict[str, str]  # exported invoice id -> why Dynamics refused its change set
    failures_not_written: list[str]  # failed invoices whose failure could not be written
    # exported invoice id -> why Dynamics refused Xero's tax on its lines
    taxes_refused: dict[str, str] = dataclasses.field(default_factory=dict)


def written_back(
    exported: Sequence[Exported], failed: Sequence[Failed], results: Sequence[Sequence[BatchResult]]
) -> WrittenBack:
    """Read the `$batch` results, whose change sets start with the exported then the failed
    invoices, then the exported invoices' line taxes (see `write_back_change_sets`). A refused
    tax counts only on an invoice that was written: when the invoice itself was refused (its
    lines share its privileges), that is the one failure, and the retry writes both."""
    outcome = WrittenBack([], {}, [])
    for item, result in zip(exported, results, strict=False):
        errors = [r.error_message for r in result if not r.ok]
        if errors:
            outcome.not_written[item.invoice.id] = errors[0]
        else:
            outcome.written.append(item.invoice.id)
    with_taxes = [item for item in exported if item.line_taxes]
    taxes = results[len(exported) + len(failed) :]
    for item, result in zip(with_taxes, taxes, strict=False):
        errors = [r.error_message for r in result if not r.ok]
        if errors and item.invoice.id not in outcome.not_written:
            outcome.taxes_refused[item.invoice.id] = errors[0]
    for failure, result in zip(failed, results[len(exported) :], strict=False):
        if not all(r.ok for r in result):
            outcome.failures_not_written.append(failure.invoice.id)
    return outcome
