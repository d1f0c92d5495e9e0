"""The export plan: every decision it takes, and why."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dxc_shared.clients.dataverse import BatchResult
from dxc_shared.clients.xero_accounting import ElementResult
from dxc_shared.dynamics.columns import InvoiceState
from dxc_shared.xero.documents import Invoice as XeroInvoice
from invoice_sync.connector.records import ConnectorSettings
from invoice_sync.invoices import plan, plan_recovery
from invoice_sync.invoices.mapping import Failure
from invoice_sync.invoices.plan import Create, Fail, Skip
from invoice_sync.invoices.plan_recovery import RecoveryLookup
from invoice_sync.invoices.records import Exported, Failed
from invoice_sync.ledger.models import ExportState

from tests.unit.invoice_sync.records import CUSTOMER_ID, customer, data, invoice, line, product

pytestmark = pytest.mark.unit

WEB = "https://go.xero.test"


@dataclass
class Entry:
    state: str
    xero_invoice_id: str | None


# -- which invoices -----------------------------------------------------------------------------


TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({}, None),
        ({"lines": [line(1), line(2)]}, None),
        ({"date_delivered": TODAY - timedelta(days=30)}, None),
        ({"lines": []}, "Not sent: the invoice has no lines."),
        ({"price_list_id": None}, "Not sent: the invoice has no price list."),
        ({"customer_id": None, "price_list_id": None}, "Not sent: the invoice has no customer."),
        ({"date_delivered": None}, "Waiting: the invoice has no delivery date."),
        (
            {"date_delivered": date(2026, 12, 25)},
            "Waiting: the delivery date 25 Dec 2026 is in the future.",
        ),
        ({"state": InvoiceState.PAID}, "Already Paid in Dynamics: nothing sent."),
        (
            {"state": InvoiceState.CANCELED, "lines": []},
            "Already Canceled in Dynamics: nothing sent.",
        ),
        ({"state": InvoiceState.CLOSED}, "Already Closed in Dynamics: nothing sent."),
    ],
    ids=[
        "ready",
        "two lines",
        "delivered earlier",
        "no lines",
        "no price list",
        "no customer",
        "no delivery date",
        "delivered in the future",
        "paid",
        "canceled",
        "closed",
    ],
)
def test_a_handed_over_invoice_is_sent_or_skipped_with_the_reason(
    overrides: dict[str, Any], reason: str | None
) -> None:
    values: dict[str, Any] = {"price_list_id": "pl-1", "date_delivered": TODAY}
    subject = invoice(**(values | overrides))
    ready, skipped = plan.sort_out([subject], TODAY)
    assert ready == ([] if reason else [subject])
    assert skipped == ([Skip(subject, reason)] if reason else [])


@pytest.mark.parametrize(
    ("told", "reason", "news"),
    [
        (None, "Not sent: the invoice has no lines.", True),
        ("Not sent: the invoice has no lines.", "Not sent: the invoice has no lines.", False),
        ("Not sent: the invoice has no lines.", "Not sent: the invoice has no price list.", True),
        (
            "Waiting: the delivery date 25 Dec 2026 is in the future.",
            "Waiting: the delivery date 26 Dec 2026 is in the future.",
            True,
        ),
    ],
    ids=["never told", "told already", "another cause", "another date"],
)
def test_a_skip_is_told_once_per_reason(told: str | None, reason: str, news: bool) -> None:
    skip = Skip(invoice(), reason)
    known = {} if told is None else {skip.invoice.id: told}
    assert plan.news([skip], known) == ([skip] if news else [])


NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("active_until", "paused_until", "reason", "inactive"),
    [
        (None, None, None, False),
        (NOW + timedelta(days=3), None, None, False),
        (NOW - timedelta(days=1), None, plan.SUBSCRIPTION_INACTIVE, True),
        (
            None,
            NOW + timedelta(days=31),
            "Not sent: this month's plan limit is reached; it waits until 1 Apr 2026 or a "
            "bigger plan.",
            False,
        ),
        (None, NOW - timedelta(seconds=1), None, False),
        (NOW - timedelta(days=1), NOW + timedelta(days=31), plan.SUBSCRIPTION_INACTIVE, True),
    ],
    ids=["active", "trial on", "ended", "plan limit", "limit over", "ended and limited"],
)
def test_a_held_connection_says_why_nothing_is_sent(
    active_until: datetime | None, paused_until: datetime | None, reason: str | None, inactive: bool
) -> None:
    held = plan.held(active_until, paused_until, NOW)
    assert (held.reason if held else None) == reason
    message = held.connector_message if held else None
    assert (message is not None) == inactive
    if message is not None:
        assert message.startswith("Inactive since 28 Feb 2026: the connector's subscription ended")


DENIED = (
    "Principal user (Id=1, type=8, roleCount=1, privilegeCount=9, accessMode=0), is missing "
    "prvWriteInvoice privilege (Id=2) on OTC=1090 for entity 'invoice'."
)


@pytest.mark.parametrize(
    ("error", "privilege", "words"),
    [
        (
            DENIED,
            "prvWriteInvoice",
            "Dynamics refused the update: the connector's user lacks Write on Invoice.",
        ),
        ("The record is locked.", None, "Dynamics refused the update: The record is locked."),
    ],
    ids=["privilege", "other refusal"],
)
def test_a_refused_write_back_is_told_in_words(
    error: str, privilege: str | None, words: str
) -> None:
    in_xero = XeroInvoice(invoice_id="x-1", invoice_number="INV-9")
    done = plan.exported(invoice(), in_xero, WEB)
    message = plan.not_written_message(done, error)
    assert message.startswith("In Xero as INV-9, but ")
    assert words in message
    assert plan.missing_privilege(error) == privilege


@pytest.mark.parametrize(
    ("mappings", "readable", "usable"),
    [
        ({"new_po": "Reference"}, ["new_po"], {"new_po": "Reference"}),
        ({"New_PO": "Reference"}, ["new_po"], {"New_PO": "Reference"}),
        ({"x eq 1": "Reference"}, [], {}),
        ({}, [], {}),
    ],
    ids=["plain", "case", "odata smuggled", "none"],
)
def test_only_readable_columns_are_mapped(
    mappings: dict[str, str], readable: list[str], usable: dict[str, str]
) -> None:
    assert plan.usable_mappings(mappings, readable) == usable


# -- earlier attempts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        (None, "new"),
        (Entry(ExportState.PENDING, None), "pending"),
        (Entry(ExportState.PENDING, "x-1"), "pending"),
        (Entry(ExportState.CREATED, "x-1"), "known"),
        (Entry(ExportState.WRITTEN_BACK, "x-1"), "known"),
        (Entry(ExportState.CREATED, None), "pending"),
    ],
    ids=["no entry", "pending", "pending with id", "created", "written back", "created no id"],
)
def test_the_ledger_sorts_invoices_into_new_known_and_pending(
    entry: Entry | None, where: str
) -> None:
    subject = invoice()
    result = plan_recovery.reconcile([subject], {} if entry is None else {subject.id: entry})
    assert result.new == ([subject] if where == "new" else [])
    assert result.pending == ([subject] if where == "pending" else [])
    assert result.known == ({subject.id: "x-1"} if where == "known" else {})


@pytest.mark.parametrize(
    ("use_xero_number", "mappings", "row", "key", "field"),
    [
        (True, {}, {}, "INV-inv-1", "Reference"),
        (True, {"new_po": "Reference"}, {"new_po": "PO-9"}, "PO-9", "Reference"),
        (True, {"new_po": "Reference"}, {"new_po": ""}, "INV-inv-1", "Reference"),
        (False, {"new_po": "Reference"}, {"new_po": "PO-9"}, "INV-inv-1", "InvoiceNumber"),
    ],
    ids=["number as reference", "mapped reference", "empty mapped", "dynamics numbers"],
)
def test_a_pending_invoice_is_looked_for_by_what_it_was_sent_with(
    use_xero_number: bool, mappings: dict[str, str], row: dict[str, Any], key: str, field: str
) -> None:
    subject = invoice(row=row)
    settings = ConnectorSettings(use_xero_invoice_number=use_xero_number)
    lookup = plan_recovery.recovery_lookup([subject], settings, mappings)
    assert lookup.keys == {subject.id: key}
    assert lookup.key_of(XeroInvoice.from_xero({field: key})) == key


def _xero(xero_id: str, **fields: Any) -> XeroInvoice:
    return XeroInvoice.from_xero(
        {"InvoiceID": xero_id, "Reference": "R-1", "Status": "DRAFT"} | fields
    )


@pytest.mark.parametrize(
    ("found", "taken", "xero_customer", "expected"),
    [
        ([], set(), None, None),
        ([_xero("x-1")], set(), None, "x-1"),
        ([_xero("x-1", Reference="R-2")], set(), None, None),
        ([_xero("x-1", Type="ACCPAY")], set(), None, None),
        ([_xero("x-1", Status="DELETED")], set(), None, None),
        ([_xero("x-1", Status="VOIDED")], set(), None, None),
        ([_xero("x-1")], {"x-1"}, None, None),
        (
            [_xero("x-1"), _xero("x-2", Contact={"ContactNumber": CUSTOMER_ID})],
            set(),
            None,
            "x-2",
        ),
        (
            [_xero("x-1"), _xero("x-2", Contact={"ContactID": "c-9"})],
            set(),
            "c-9",
            "x-2",
        ),
        ([_xero("x-1", Contact={"ContactID": "other"}), _xero("x-2")], set(), "c-9", "x-1"),
    ],
    ids=[
        "nothing found",
        "found",
        "other key",
        "a bill",
        "deleted",
        "voided",
        "claimed by another invoice",
        "the customer's by contact number",
        "the customer's by contact id",
        "first when none is the customer's",
    ],
)
def test_a_pending_invoice_matches_a_live_unclaimed_sales_invoice_with_its_key(
    found: list[XeroInvoice],
    taken: set[str],
    xero_customer: str | None,
    expected: str | None,
) -> None:
    owner = customer(xero_contact_id=xero_customer)
    by_reference = RecoveryLookup({}, by_reference=True)
    assert plan_recovery.match("R-1", found, by_reference, taken, owner) == expected


def test_two_pending_invoices_with_one_key_do_not_claim_the_same_xero_invoice() -> None:
    first, second = invoice("a"), invoice("b")
    reconciliation = plan_recovery.Reconciliation([], {"k": "x-0"}, [first, second])
    lookup = RecoveryLookup({"a": "R-1", "b": "R-1"}, by_reference=True)
    found = [_xero("x-0"), _xero("x-1")]
    known, not_found = plan_recovery.recover(reconciliation, lookup, found, {})
    assert known == {"k": "x-0", "a": "x-1"}
    assert not_found == [second]


@pytest.mark.parametrize(
    ("in_xero", "linked", "again"),
    [
        ({"x-1": {"InvoiceID": "x-1", "InvoiceNumber": "INV-0042", "Status": "AUTHORISED"}}, 1, 0),
        ({"x-1": {"InvoiceID": "x-1", "Status": "DRAFT"}}, 1, 0),
        ({"x-1": {"InvoiceID": "x-1", "Status": "DELETED"}}, 0, 1),
        ({"x-1": {"InvoiceID": "x-1", "Status": "VOIDED"}}, 0, 1),
        ({}, 0, 1),
    ],
    ids=["authorised", "draft", "deleted since", "voided since", "not in xero"],
)
def test_a_known_invoice_is_linked_unless_gone_from_xero(
    in_xero: dict[str, dict[str, Any]], linked: int, again: int
) -> None:
    subject, other = invoice("a"), invoice("b")
    typed = {xero_id: XeroInvoice.from_xero(element) for xero_id, element in in_xero.items()}
    links, to_create = plan_recovery.links([subject, other], {"a": "x-1"}, typed)
    assert [link.invoice for link in links] == [subject] * linked
    assert to_create == [subject] * again


@pytest.mark.parametrize(
    ("element", "reason"),
    [
        (
            {"InvoiceID": "x-1", "InvoiceNumber": "INV-0042", "Status": "DRAFT"},
            "Already in Xero from an earlier attempt as INV-0042; linked instead of created again.",
        ),
        (
            {"InvoiceID": "x-1", "Status": "DRAFT"},
            "Already in Xero from an earlier attempt as x-1; linked instead of created again.",
        ),
    ],
    ids=["by number", "by id"],
)
def test_a_link_says_why(element: dict[str, Any], reason: str) -> None:
    [link], _ = plan_recovery.links(
        [invoice("a")], {"a": "x-1"}, {"x-1": XeroInvoice.from_xero(element)}
    )
    assert link.reason == reason


@pytest.mark.parametrize(
    ("element", "message", "number", "text"),
    [
        (
            {"InvoiceID": "x-1", "InvoiceNumber": "INV-7", "Status": "AUTHORISED"},
            "",
            "INV-7",
            "Exported to Xero as INV-7 (AUTHORISED).",
        ),
        ({"InvoiceID": "x-1", "InvoiceNumber": ""}, "", None, "Exported to Xero as x-1 (DRAFT)."),
        ({"InvoiceID": "x-1"}, "Linked.", None, "Linked."),
    ],
    ids=["numbered", "unnumbered", "given message"],
)
def test_what_dynamics_is_told_of_an_exported_invoice(
    element: dict[str, Any], message: str, number: str | None, text: str
) -> None:
    in_xero = XeroInvoice.from_xero(element | {"TotalTax": 3.0})
    done = plan.exported(invoice(), in_xero, WEB + "/", message)
    assert done.xero_number == number
    assert done.message == text
    assert done.total_tax == 3.0
    assert done.xero_url == f"{WEB}/AccountsReceivable/View.aspx?InvoiceID=x-1"


# -- per invoice --------------------------------------------------------------------------------

MISSING = Failure("contact_missing", "no contact")


@pytest.mark.parametrize(
    ("customers", "contacts", "decision"),
    [
        ([customer()], {CUSTOMER_ID: "c-1"}, Create),
        ([customer()], {CUSTOMER_ID: MISSING}, Fail),
        ([], {CUSTOMER_ID: "c-1"}, Skip),
        ([customer()], {}, Skip),
    ],
    ids=["create", "fail: no contact", "skip: customer gone", "skip: no contact"],
)
def test_each_invoice_is_created_failed_or_skipped(
    customers: list[Any], contacts: dict[str, Any], decision: type
) -> None:
    subject = invoice()
    [made] = plan.decide(
        [subject],
        contacts,
        settings=ConnectorSettings(),
        data=data(*customers, products=(product(),)),
        item_codes={},
        mappings={},
    )
    assert type(made) is decision
    assert made.invoice is subject
    if isinstance(made, Fail):
        assert made.failure == MISSING
    if isinstance(made, Skip):
        assert made.reason == (plan.CUSTOMER_GONE if not customers else plan.NO_CONTACT)
    if isinstance(made, Create):
        assert made.body["Contact"] == {"ContactID": "c-1"}


@pytest.mark.parametrize(("count", "sizes"), [(0, []), (1, [1]), (50, [50]), (51, [50, 1])])
def test_creates_go_in_batches_of_at_most_fifty(count: int, sizes: list[int]) -> None:
    creates = [Create(invoice(str(n)), {}) for n in range(count)]
    assert [len(batch) for batch in plan.batches(creates, 50)] == sizes


def test_xero_answers_a_batch_create_invoice_by_invoice() -> None:
    batch = [Create(invoice("a"), {}), Create(invoice("b"), {})]
    results = [
        ElementResult(XeroInvoice.from_xero({"InvoiceID": "x-a", "Status": "DRAFT"})),
        ElementResult(XeroInvoice(), errors=["Account code '999' is not a valid code"]),
    ]
    done, failed = plan.created(batch, results, WEB)
    assert [(e.invoice.id, e.xero_invoice_id) for e in done] == [("a", "x-a")]
    assert [(f.invoice.id, f.failure.reason) for f in failed] == [("b", "account_code_unknown")]


def test_the_answer_to_a_re_sent_request_settles_each_invoice_in_the_ledger() -> None:
    results = [
        ElementResult(XeroInvoice(invoice_id="x-a", invoice_number="INV-1")),
        ElementResult(XeroInvoice(), errors=["Account code '999' is not a valid code"]),
        ElementResult(XeroInvoice(invoice_id="x-c", invoice_number="")),
    ]
    created, refused = plan_recovery.answered(["a", "b", "c"], results)
    assert created == {"a": ("x-a", "INV-1"), "c": ("x-c", None)}
    assert refused == ["b"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Organisation is not subscribed to currency USD", "currency_not_enabled"),
        ("Something odd", "xero_validation"),
    ],
)
def test_a_refused_request_fails_every_invoice_in_it(message: str, reason: str) -> None:
    batch = [Create(invoice("a"), {}), Create(invoice("b"), {})]
    failed = plan.refused(batch, message)
    assert [(f.invoice.id, f.failure.reason) for f in failed] == [("a", reason), ("b", reason)]


def _result(status: int) -> BatchResult:
    body = {"error": {"message": "refused"}} if status in (400, 412) else None
    return BatchResult(status, {}, body)


def _exported(invoice_id: str) -> Exported:
    return plan.exported(invoice(invoice_id), XeroInvoice(invoice_id=f"x-{invoice_id}"), WEB)


@pytest.mark.parametrize(
    ("statuses", "written", "not_written", "failures_not_written"),
    [
        ([[204, 204], [204, 204]], ["a"], {}, []),
        ([[204, 400], [204, 204]], [], {"a": "refused"}, []),
        ([[204, 204], [412, 204]], ["a"], {}, ["b"]),
        ([[500, 204], [400, 400]], [], {"a": "HTTP 500"}, ["b"]),
    ],
    ids=["all written", "export refused", "failure refused", "both refused"],
)
def test_a_write_back_is_read_change_set_by_change_set(
    statuses: list[list[int]],
    written: list[str],
    not_written: dict[str, str],
    failures_not_written: list[str],
) -> None:
    results = [[_result(status) for status in change_set] for change_set in statuses]
    outcome = plan.written_back([_exported("a")], [Failed(invoice("b"), "no")], results)
    assert outcome.written == written
    assert outcome.not_written == not_written
    assert outcome.failures_not_written == failures_not_written


@pytest.mark.parametrize(
    ("invoice_status", "tax_statuses", "written", "refused"),
    [
        (204, [204, 204], ["a"], {}),
        (204, [204, 400], ["a"], {"a": "refused"}),
        # The invoice itself refused (its lines share its privileges): one failure, not two.
        (400, [400, 400], [], {}),
    ],
    ids=["taxes written", "taxes refused", "invoice refused"],
)
def test_refused_line_taxes_are_read_after_the_outcomes(
    invoice_status: int, tax_statuses: list[int], written: list[str], refused: dict[str, str]
) -> None:
    exported = dataclasses.replace(
        _exported("a"), xero_number="INV-9", line_taxes={"l-1": Decimal(1), "l-2": Decimal(2)}
    )
    results = [
        [_result(204), _result(invoice_status)],
        [_result(204), _result(204)],
        [_result(status) for status in tax_statuses],
    ]
    outcome = plan.written_back([exported], [Failed(invoice("b"), "no")], results)
    assert outcome.written == written
    assert outcome.taxes_refused == refused
    if refused:
        failed = plan.tax_refused(exported, refused["a"])
        assert failed.message.startswith(
            "Xero has the invoice as INV-9, but Dynamics 365 refused Xero's tax on its lines "
            "(refused), so its total tax and total differ from Xero's."
        )


@pytest.mark.parametrize("system", ["Xero", "Dynamics"])
def test_giving_up_says_what_could_not_be_reached_and_what_to_do(system: str) -> None:
    text = plan.give_up_message(system, 3, RuntimeError("down"))
    assert text == (
        f"{system} could not be reached after 3 attempts (down). Set the invoice's Xero export "
        "status back to No to try again."
    )


def test_what_xero_returned_is_checked_and_its_tax_goes_back_to_the_lines() -> None:
    subject = invoice(
        lines=[line(1, quantity=1, price=100, tax=Decimal(0)), line(2, quantity=2, price=50)]
    )
    element = {
        "InvoiceID": "x-1",
        "InvoiceNumber": "INV-1",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {"LineAmount": 100.0, "TaxAmount": 15.0},
            {"LineAmount": 100.0, "TaxAmount": 15.0},
        ],
        "SubTotal": 200.0,
        "TotalTax": 30.0,
        "Total": 230.0,
    }
    done = plan.checked(subject, XeroInvoice.from_xero(element), WEB)
    assert done.mismatch is None
    assert done.line_taxes == {"line-1": Decimal(15), "line-2": Decimal(15)}
    unchanged = invoice(
        lines=[line(1, quantity=1, price=100, tax=Decimal(15)), line(2, quantity=2, price=50)]
    )
    assert plan.checked(unchanged, XeroInvoice.from_xero(element), WEB).line_taxes == {
        "line-2": Decimal(15)
    }
    assert "Line 1's tax was 0.00 in Dynamics; Xero calculated 15.00" in done.message

    short = element | {
        "LineItems": [
            {"LineAmount": 100.0, "TaxAmount": 15.0},
            {"LineAmount": 90.0, "TaxAmount": 13.5},
        ],
        "SubTotal": 190.0,
        "TotalTax": 28.5,
        "Total": 218.5,
    }
    mismatched = plan.checked(subject, XeroInvoice.from_xero(short), WEB)
    assert mismatched.mismatch is not None
    assert mismatched.mismatch.startswith(
        "Xero's total 218.50 differs from Dynamics' 228.50: line 2 is 90.00 in Xero and 100.00 "
        "in Dynamics. The invoice is in Xero (linked here) but does not match."
    )
    assert mismatched.xero_invoice_id == "x-1"
