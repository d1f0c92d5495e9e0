"""The cancellations plan: what each cancelled or deleted exported invoice needs in Xero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from dxc_shared.dynamics.columns import InvoiceState
from dxc_shared.dynamics.schema import INVOICE_CONNECTOR, ExportStatus
from dxc_shared.xero.documents import CreditNote, Invoice
from invoice_sync.cancellations import plan
from invoice_sync.cancellations.plan import Action, CancellationOutcome, CancellationState, Noticed

pytestmark = pytest.mark.unit

CONNECTOR = "conn-1"


@dataclass
class Record:
    dynamics_invoice_id: str = "inv-1"
    xero_invoice_id: str = "x-1"
    invoice_number: str | None = "INV-7"
    state: str = CancellationState.PENDING
    outcome: str | None = None


@dataclass
class Export:
    xero_invoice_id: str | None
    xero_invoice_number: str | None


def _row(invoice_id: str = "inv-1", **overrides: Any) -> dict[str, Any]:
    return {
        "invoiceid": invoice_id,
        "invoicenumber": "INV-7",
        "statecode": InvoiceState.CANCELED,
        "dxc_exportstatus": ExportStatus.YES.value,
        "dxc_xeroinvoiceid": "x-1",
        INVOICE_CONNECTOR.value_property: CONNECTOR,
    } | overrides


@pytest.mark.parametrize(
    ("overrides", "cancelled"),
    [
        ({}, True),
        ({"statecode": 0}, False),
        ({"statecode": 2}, False),
        ({"dxc_exportstatus": ExportStatus.NO.value}, False),
        ({"dxc_exportstatus": ExportStatus.FAILED.value}, False),
        ({"dxc_xeroinvoiceid": None}, False),
        ({INVOICE_CONNECTOR.value_property: "another"}, False),
    ],
    ids=["cancelled", "active", "paid", "not exported", "failed", "no xero id", "other connector"],
)
def test_a_change_is_a_cancellation_of_this_connectors_exported_invoice(
    overrides: dict[str, Any], cancelled: bool
) -> None:
    rows = plan.cancelled_rows([_row(**overrides)], CONNECTOR)
    assert list(rows) == (["inv-1"] if cancelled else [])


@pytest.mark.parametrize(
    ("cancelled", "deleted", "exports", "known", "expected"),
    [
        ({"inv-1": _row()}, [], {}, set(), [Noticed("inv-1", "x-1", "INV-7", False)]),
        ({"inv-1": _row()}, [], {}, {"inv-1"}, []),
        (
            {},
            ["inv-2"],
            {"inv-2": Export("x-2", "INV-8")},
            set(),
            [Noticed("inv-2", "x-2", "INV-8", True)],
        ),
        ({}, ["inv-3"], {}, set(), []),
        ({}, ["inv-2"], {"inv-2": Export(None, None)}, set(), []),
        (
            {"inv-1": _row(invoicenumber=None)},
            [],
            {"inv-1": Export("x-1", "XERO-1")},
            set(),
            [Noticed("inv-1", "x-1", "XERO-1", False)],
        ),
        (
            {"inv-1": _row()},
            ["inv-1"],
            {},
            set(),
            [Noticed("inv-1", "x-1", "INV-7", False)],
        ),
    ],
    ids=[
        "cancelled",
        "recorded before",
        "deleted, exported",
        "deleted, never exported",
        "deleted, no xero id",
        "number from the ledger",
        "reported twice",
    ],
)
def test_which_cancellations_are_recorded(
    cancelled: dict[str, dict[str, Any]],
    deleted: list[str],
    exports: dict[str, Export],
    known: set[str],
    expected: list[Noticed],
) -> None:
    assert plan.noticed(cancelled, deleted, exports, known) == expected


@pytest.mark.parametrize(
    ("state", "create_credit_notes", "invoice", "action"),
    [
        (CancellationState.ACTED, True, None, Action.HISTORY_ONLY),
        (CancellationState.ACTED, False, None, Action.HISTORY_ONLY),
        (CancellationState.PENDING, False, {"Status": "AUTHORISED"}, Action.LEAVE_ALONE),
        (CancellationState.PENDING, True, None, Action.ALREADY_GONE),
        (CancellationState.PENDING, True, {"Status": "DELETED"}, Action.ALREADY_GONE),
        (CancellationState.PENDING, True, {"Status": "VOIDED"}, Action.ALREADY_GONE),
        (CancellationState.PENDING, True, {"Status": "DRAFT"}, Action.DELETE),
        (CancellationState.PENDING, True, {"Status": "SUBMITTED"}, Action.DELETE),
        (CancellationState.PENDING, True, {"Status": "PAID"}, Action.FULLY_PAID),
        (CancellationState.PENDING, True, {"Status": "AUTHORISED"}, Action.CREDIT),
        (
            CancellationState.PENDING,
            True,
            {"Status": "AUTHORISED", "AmountPaid": 0},
            Action.CREDIT,
        ),
        (
            CancellationState.PENDING,
            True,
            {"Status": "AUTHORISED", "AmountPaid": 5.0},
            Action.CREDIT_UNALLOCATED,
        ),
        (CancellationState.CREDITING, True, {"Status": "AUTHORISED"}, Action.CREDIT),
    ],
    ids=[
        "history only",
        "history only, setting off",
        "setting off",
        "not in xero",
        "deleted in xero",
        "voided in xero",
        "draft",
        "submitted",
        "paid",
        "authorised",
        "authorised, nothing paid",
        "part paid",
        "credit interrupted",
    ],
)
def test_what_a_cancellation_needs_in_xero(
    state: str, create_credit_notes: bool, invoice: dict[str, Any] | None, action: Action
) -> None:
    cancellation = Record(state=state)
    in_xero = None if invoice is None else Invoice.from_xero(invoice)
    assert plan.action_for(cancellation, in_xero, create_credit_notes=create_credit_notes) == action


@pytest.mark.parametrize(
    ("create_credit_notes", "expected"),
    [(True, ["x-1", "x-3"]), (False, [])],
    ids=["setting on", "setting off"],
)
def test_only_invoices_still_to_act_on_are_read_from_xero(
    create_credit_notes: bool, expected: list[str]
) -> None:
    pending = [
        Record("a", "x-1"),
        Record("b", "x-2", state=CancellationState.ACTED),
        Record("c", "x-3", state=CancellationState.CREDITING),
    ]
    assert plan.needs_xero(pending, create_credit_notes) == expected


@pytest.mark.parametrize(
    ("number", "outcome", "errors", "words"),
    [
        (
            "INV-7",
            CancellationOutcome.DELETED,
            "",
            "Invoice INV-7 was cancelled in Dynamics 365, so it was deleted in Xero.",
        ),
        (None, CancellationOutcome.DELETED, "", "Invoice was cancelled"),
        ("INV-7", CancellationOutcome.FULLY_PAID, "", "The invoice is fully paid in Xero"),
        (
            "INV-7",
            CancellationOutcome.FAILED,
            "locked",
            "Xero refused to cancel it: locked. Cancel it in Xero by hand.",
        ),
        ("INV-7", CancellationOutcome.FAILED, "", "Xero refused to cancel it. Cancel"),
        ("INV-7", CancellationOutcome.CREDITED_UNALLOCATED, "", "Allocate it in Xero"),
        ("INV-7", CancellationOutcome.LEFT_ALONE, "", "switched off"),
    ],
    ids=["deleted", "unnumbered", "paid", "failed", "failed without words", "part paid", "off"],
)
def test_what_the_sync_history_says(
    number: str | None, outcome: CancellationOutcome, errors: str, words: str
) -> None:
    assert words in plan.message(Record(invoice_number=number, outcome=outcome), errors)


@pytest.mark.parametrize(
    ("invoice", "number", "reference"),
    [
        ({"InvoiceNumber": "INV-0042"}, "DYN-1", "Cancellation of INV-0042"),
        ({}, "DYN-1", "Cancellation of DYN-1"),
    ],
)
def test_the_credit_note_reference(invoice: dict[str, Any], number: str, reference: str) -> None:
    in_xero = Invoice.from_xero(invoice)
    assert plan.credit_reference(Record(invoice_number=number), in_xero) == reference


@pytest.mark.parametrize(
    ("notes", "found"),
    [
        ([], None),
        ([{"CreditNoteID": "cn-1", "Status": "AUTHORISED"}], "cn-1"),
        ([{"CreditNoteID": "cn-1", "Status": "VOIDED"}], None),
        (
            [
                {"CreditNoteID": "cn-1", "Status": "DELETED"},
                {"CreditNoteID": "cn-2", "Status": "DRAFT"},
            ],
            "cn-2",
        ),
    ],
    ids=["none", "live", "voided", "first live"],
)
def test_an_interrupted_credit_finds_its_credit_note(
    notes: list[dict[str, Any]], found: str | None
) -> None:
    assert plan.earlier_credit_note([CreditNote.from_xero(note) for note in notes]) == found


@pytest.mark.parametrize(
    ("due", "amount"), [(115.0, 115.0), (0, None), (None, None), ("12.5", 12.5)]
)
def test_the_credit_note_is_allocated_for_what_is_due(due: Any, amount: float | None) -> None:
    assert plan.allocation(Invoice.from_xero({"AmountDue": due})) == amount


def test_the_credit_note_copies_the_invoices_lines() -> None:
    invoice = Invoice.from_xero(
        {
            "Contact": {"ContactID": "c-1", "Name": "Fabrikam"},
            "CurrencyCode": "NZD",
            "LineItems": [
                {"Description": "Widget", "Quantity": 2, "UnitAmount": 5, "LineItemID": "l-1"},
                {"Description": "Note", "TaxType": None},
            ],
        }
    )
    assert plan.credit_note_for(invoice, "Cancellation of INV-1", date(2026, 5, 2)) == {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": "c-1"},
        "Date": "2026-05-02",
        "LineAmountTypes": "Exclusive",
        "CurrencyCode": "NZD",
        "Reference": "Cancellation of INV-1",
        "Status": "AUTHORISED",
        "LineItems": [
            {"Description": "Widget", "Quantity": 2, "UnitAmount": 5},
            {"Description": "Note"},
        ],
    }


@pytest.mark.parametrize(
    ("read", "exported", "unseen"),
    [
        (["inv-1", "inv-2"], ["inv-1", "inv-2"], []),
        (["inv-1"], ["inv-2", "inv-1", "inv-3"], ["inv-2", "inv-3"]),
        (["INV-1"], ["inv-1"], []),
        ([], [], []),
    ],
    ids=["all read", "two unseen", "ids compared without case", "nothing exported"],
)
def test_a_full_read_leaves_unseen_the_exports_it_did_not_return(
    read: list[str], exported: list[str], unseen: list[str]
) -> None:
    rows = [{"invoiceid": invoice_id} for invoice_id in read]
    assert plan.unseen_exports(rows, exported) == unseen
