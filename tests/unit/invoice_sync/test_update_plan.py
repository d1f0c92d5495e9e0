""" "Update in Xero": every decision the update plan takes, and why; and No on an exported
invoice, which is told how to send changes instead of being linked as a success."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from dxc_shared.dynamics.schema import ExportStatus
from dxc_shared.xero.documents import Invoice as XeroInvoice
from invoice_sync.invoices import mapping, plan, plan_recovery, updates
from invoice_sync.invoices.mapping import Failure
from invoice_sync.invoices.plan import Create, Fail, Skip
from invoice_sync.invoices.update_steps import update_key
from invoice_sync.invoices.updates import Recorded, Update
from invoice_sync.ledger.models import ExportState
from invoice_sync.retries import plan as retries

from tests.unit.invoice_sync.records import invoice

pytestmark = pytest.mark.unit

WEB = "https://go.xero.test"


@dataclass
class Entry:
    state: str
    xero_invoice_id: str | None
    dynamics_version: str = "7"  # the records' invoices are at version 7


def _xero(status: str = "AUTHORISED", **fields: Any) -> XeroInvoice:
    return XeroInvoice.from_xero(
        {"InvoiceID": "x-1", "InvoiceNumber": "INV-0042", "Status": status, **fields}
    )


@pytest.mark.parametrize(
    ("status", "update"),
    [
        (None, False),
        (ExportStatus.NO, False),
        (ExportStatus.YES, False),
        (ExportStatus.FAILED, False),
        (ExportStatus.UPDATE, True),
    ],
    ids=["never", "no", "yes", "failed", "update in xero"],
)
def test_only_invoices_set_to_update_in_xero_are_updates(
    status: ExportStatus | None, update: bool
) -> None:
    subject = invoice(export_status=status)
    exports, to_update = updates.split([subject])
    assert (exports, to_update) == (([], [subject]) if update else ([subject], []))


@pytest.mark.parametrize(
    ("entry", "shown", "target"),
    [
        (Entry(ExportState.WRITTEN_BACK, "x-1"), None, "x-1"),
        (Entry(ExportState.WRITTEN_BACK, "x-1"), "x-2", "x-1"),
        (None, "x-2", "x-2"),
        (Entry(ExportState.PENDING, None), "x-2", "x-2"),
        (None, None, None),
    ],
    ids=["ledger", "ledger first", "dynamics only", "pending: dynamics", "never exported"],
)
def test_an_update_goes_to_the_xero_invoice_the_ledger_or_dynamics_knows(
    entry: Entry | None, shown: str | None, target: str | None
) -> None:
    subject = invoice(export_status=ExportStatus.UPDATE, xero_invoice_id=shown)
    found, never = updates.targets([subject], {} if entry is None else {subject.id: entry})
    assert found == ({subject.id: target} if target else {})
    assert [f.failure.message for f in never] == ([] if target else [updates.NEVER_EXPORTED])


@pytest.mark.parametrize(
    ("element", "refusal"),
    [
        (_xero("DRAFT"), None),
        (_xero("SUBMITTED"), None),
        (_xero("AUTHORISED", AmountPaid=0, AmountCredited=0), None),
        (
            _xero("AUTHORISED", AmountPaid=12.5),
            "Not updated: INV-0042 has payments of 12.50 allocated in Xero, and Xero does not "
            "change an invoice with payments or credit notes allocated. Remove them in Xero "
            'first, then set the Xero export status to "Update in Xero" again.',
        ),
        (
            _xero("AUTHORISED", AmountPaid=10, AmountCredited=1200),
            "Not updated: INV-0042 has payments of 10.00 and credit notes of 1,200.00 "
            "allocated in Xero, and Xero does not change an invoice with payments or credit "
            'notes allocated. Remove them in Xero first, then set the Xero export status to "'
            'Update in Xero" again.',
        ),
        (
            _xero("PAID", AmountPaid=100),
            "Not updated: INV-0042 is paid in Xero, and Xero does not change a paid invoice. "
            "Record the change in Xero (a credit note, or a new invoice for the difference).",
        ),
        (
            _xero("VOIDED"),
            "Not updated: INV-0042 is voided in Xero, and Xero does not change a voided "
            f"invoice. {updates.SEND_AGAIN}",
        ),
        (_xero("DELETED"), f"Not updated: the invoice was deleted in Xero. {updates.SEND_AGAIN}"),
        (None, f"Not updated: the invoice was deleted in Xero. {updates.SEND_AGAIN}"),
    ],
    ids=[
        "draft",
        "submitted",
        "authorised",
        "part paid",
        "paid and credited",
        "paid",
        "voided",
        "deleted",
        "not in xero",
    ],
)
def test_what_xero_would_refuse_is_refused_with_why(
    element: XeroInvoice | None, refusal: str | None
) -> None:
    assert updates.refusal(element) == refusal


@pytest.mark.parametrize(
    ("entry", "element", "where"),
    [
        (Entry(ExportState.WRITTEN_BACK, "x-1"), _xero(), "to_send"),
        (Entry(ExportState.UPDATING, "x-1"), _xero(), "to_send"),
        (Entry(ExportState.UPDATED, "x-1"), _xero(), "recorded"),
        (Entry(ExportState.UPDATED, "x-1", dynamics_version="6"), _xero(), "to_send"),
        (Entry(ExportState.UPDATED, "x-1"), _xero("PAID"), "recorded"),
        (Entry(ExportState.WRITTEN_BACK, "x-1"), _xero("PAID"), "refused"),
        (Entry(ExportState.UPDATED, "x-1"), None, "refused"),
    ],
    ids=[
        "exported",
        "crashed before xero answered: sent again",
        "xero answered: only told",
        "an older version answered",
        "answered, paid since: still told",
        "paid",
        "gone from xero",
    ],
)
def test_the_ledger_says_which_updates_xero_already_took(
    entry: Entry, element: XeroInvoice | None, where: str
) -> None:
    subject = invoice(export_status=ExportStatus.UPDATE)
    in_xero = {"x-1": element} if element else {}
    result = updates.sort_out([subject], {subject.id: "x-1"}, {subject.id: entry}, in_xero)
    assert result.recorded == (
        [Recorded(subject, element)] if where == "recorded" and element else []
    )
    assert [f.invoice for f in result.refused] == ([subject] if where == "refused" else [])
    assert result.to_send == ([subject] if where == "to_send" else [])


def test_an_update_keeps_xero_s_status_and_names_the_invoice() -> None:
    body = {"Type": "ACCREC", "Status": "AUTHORISED", "Reference": "R", "LineItems": []}
    assert updates.update_body(body, "x-1") == {
        "InvoiceID": "x-1",
        "Type": "ACCREC",
        "Reference": "R",
        "LineItems": [],
    }


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (
            Create(invoice(), {"Status": "DRAFT", "Reference": "R"}),
            Update(invoice(), "x-1", {"InvoiceID": "x-1", "Reference": "R"}),
        ),
        (
            Fail(invoice(), Failure("value_too_long", f"Too long. {mapping.RETRY_HINT}")),
            Fail(invoice(), Failure("value_too_long", f"Too long. {updates.UPDATE_HINT}")),
        ),
        (Skip(invoice(), plan.NO_CONTACT), Skip(invoice(), plan.NO_CONTACT)),
    ],
    ids=["create becomes update", "failure says update again", "skip stays"],
)
def test_the_export_plan_s_decisions_become_updates(decision: Any, expected: Any) -> None:
    assert updates.updates([decision], {"inv-1": "x-1"}) == [expected]


def test_a_refusal_from_xero_says_how_to_try_the_update_again() -> None:
    refused = updates.refused_by_xero(
        Update(invoice(), "x-1", {}), ["Invoice not of valid status for modification"]
    )
    assert refused.failure.message == (
        "Xero did not accept the invoice: Invoice not of valid status for modification. "
        + updates.UPDATE_HINT
    )


def test_an_updated_invoice_is_reconciled_as_a_create_is() -> None:
    subject = invoice()
    element = _xero(
        "AUTHORISED",
        LineAmountTypes="Exclusive",
        LineItems=[{"LineAmount": 20, "TaxAmount": 3}],
        SubTotal=20,
        TotalTax=3,
        Total=23,
        AmountDue=23,
    )
    done = updates.reconciled(subject, element, WEB)
    assert done.message.startswith("Updated in Xero as INV-0042 (AUTHORISED).")
    assert done.mismatch is None
    assert done.line_taxes == {"line-1": 3}
    off_lines = XeroInvoice.from_xero({**element.to_xero(), "LineItems": [{"LineAmount": 25}]})
    off = updates.reconciled(subject, off_lines, WEB)
    assert off.mismatch is not None
    assert off.mismatch.endswith(updates.UPDATE_HINT)


# -- No on an exported invoice ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "shown", "told"),
    [
        (Entry(ExportState.WRITTEN_BACK, "x-1"), "x-1", True),
        (Entry(ExportState.CREATED, "x-1"), None, False),  # never written back: a retry
        (None, "x-1", True),  # exported before the ledger kept it
    ],
    ids=["written back", "created", "dynamics only"],
)
def test_no_on_an_exported_invoice_is_told_how_to_send_changes(
    entry: Entry | None, shown: str | None, told: bool
) -> None:
    subject = invoice(xero_invoice_id=shown)
    reconciliation = plan_recovery.reconcile(
        [subject], {} if entry is None else {subject.id: entry}
    )
    assert reconciliation.known == {subject.id: "x-1"}
    assert (subject.id in reconciliation.told) == told
    [link], again = plan_recovery.links([subject], reconciliation.known, {"x-1": _xero("DRAFT")})
    assert again == []
    done = updates.already_in_xero(link, WEB)
    assert done.already_exported
    assert done.message == (
        "Already in Xero as INV-0042: nothing was sent again. To send changes made in "
        'Dynamics since, set the Xero export status to "Update in Xero".'
    )


def test_a_retry_of_an_invoice_set_to_update_changes_nothing() -> None:
    retry = retries.decide("inv-1", ExportStatus.UPDATE)
    assert not retry.reset
    assert "its export status is Update in Xero" in retry.message


@pytest.mark.parametrize(
    ("version", "body", "same"),
    [
        ("7", {"InvoiceID": "x-1", "Reference": "R"}, True),
        ("8", {"InvoiceID": "x-1", "Reference": "R"}, False),
        ("7", {"InvoiceID": "x-1", "Reference": "S"}, False),
    ],
    ids=["same version and body", "new version", "new body"],
)
def test_one_idempotency_key_per_version_of_the_invoice(
    version: str, body: dict[str, Any], same: bool
) -> None:
    first = update_key(Update(invoice(), "x-1", {"InvoiceID": "x-1", "Reference": "R"}))
    again = update_key(Update(invoice(version=version), "x-1", body))
    assert (first == again) == same
