"""The change writer's decisions: which Dynamics invoice and customer columns Xero's documents
change, in which order, and why."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from dxc_shared.clients.dataverse import JSON
from dxc_shared.dynamics.columns import (
    AccountColumns,
    Common,
    ContactColumns,
    InvoiceColumns,
    InvoiceState,
    InvoiceStatus,
    SyncHistoryColumns,
)
from dxc_shared.dynamics.schema import PaymentState, SyncOutcome
from dxc_shared.xero.documents import Balance, Contact, Invoice
from payment_sync.payments.decisions import (
    ACCOUNTS,
    CLOSE,
    CONTACTS,
    REOPEN,
    InvoiceChange,
    InvoicePatch,
    balance_patches,
    deep_link,
    fully_paid,
    invoice_patch,
    payment_state,
    plan_invoices,
    receivables_of,
    target_state,
)
from payment_sync.payments.schemas import XeroChanges

pytestmark = pytest.mark.unit

XERO_ID = "8f6a0b52-1c3d-4e5f-9a7b-0c1d2e3f4a5b"
CONTACT_ID = "5D1E7C4A-0000-4000-8000-00000000C0DE"
LINK = "https://go.xero.test/organisationlogin/default.aspx?shortcode=!abc"
NEW_LINK = "https://go.xero.test/organisationlogin/default.aspx?shortcode=!xyz"

STATUS, NUMBER, TAX, DUE, URL = (
    InvoiceColumns.XERO_STATUS,
    InvoiceColumns.XERO_INVOICE_NUMBER,
    InvoiceColumns.XERO_TOTAL_TAX,
    InvoiceColumns.AMOUNT_DUE,
    InvoiceColumns.XERO_URL,
)
PAID_AMOUNT, CREDITED, PAYMENT = (
    InvoiceColumns.AMOUNT_PAID,
    InvoiceColumns.AMOUNT_CREDITED,
    InvoiceColumns.PAYMENT_STATE,
)
C = InvoiceChange
P = PaymentState
MARK_PAID, CANCEL = CLOSE[InvoiceState.PAID], CLOSE[InvoiceState.CANCELED]
CONNECTOR_ID = "c0000000-0000-4000-8000-00000000000c"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def dynamics_invoice(**columns: Any) -> JSON:
    """An exported, active invoice that shows what `xero_invoice()` says."""
    return {
        InvoiceColumns.ID: "d0000000-0000-4000-8000-000000000001",
        InvoiceColumns.NUMBER: "ORD-1001",
        Common.STATE: InvoiceState.ACTIVE.value,
        Common.STATUS: InvoiceStatus.NEW.value,
        Common.ETAG: 'W/"101"',
        InvoiceColumns.XERO_INVOICE_ID: XERO_ID,
        STATUS: "AUTHORISED",
        NUMBER: "INV-0001",
        TAX: 15.0,
        DUE: 115.0,
        PAID_AMOUNT: 0.0,
        CREDITED: 0.0,
        PAYMENT: P.NOT_PAID.value,
        URL: LINK,
        **columns,
    }


def xero_invoice(**fields: Any) -> Invoice:
    return Invoice.from_xero(
        {
            "InvoiceID": XERO_ID,
            "Status": "AUTHORISED",
            "InvoiceNumber": "INV-0001",
            "TotalTax": 15.0,
            "AmountDue": 115.0,
            "AmountPaid": 0.0,
            "AmountCredited": 0.0,
            "Contact": {"ContactID": CONTACT_ID},
            **fields,
        }
    )


PAID_STATE = {Common.STATE: InvoiceState.PAID.value, Common.STATUS: InvoiceStatus.COMPLETE.value}
CANCELED_STATE = {
    Common.STATE: InvoiceState.CANCELED.value,
    Common.STATUS: InvoiceStatus.CANCELED.value,
}


GONE_COLUMNS = {DUE: 0, PAYMENT: P.VOIDED_OR_DELETED.value}
PAID_COLUMNS = {STATUS: "PAID", DUE: 0.0, PAYMENT: P.PAID.value}


@pytest.mark.parametrize(
    ("row", "invoice", "link", "bodies", "changes"),
    [
        pytest.param({}, {}, LINK, None, None, id="unchanged"),
        pytest.param(
            {}, {"Status": "SUBMITTED"}, LINK, [{STATUS: "SUBMITTED"}], [C.STATUS], id="status"
        ),
        pytest.param(
            {},
            {"Status": "VOIDED"},
            LINK,
            [{STATUS: "VOIDED", **GONE_COLUMNS}, CANCEL],
            [C.STATUS, C.AMOUNT_DUE, C.PAYMENT_STATE, C.CANCELED],
            id="voided in Xero: nothing due, then Canceled",
        ),
        pytest.param(
            {STATUS: "DRAFT", NUMBER: None, TAX: 0.0},
            {"Status": "DELETED", "InvoiceNumber": "", "TotalTax": 0.0},
            LINK,
            [{STATUS: "DELETED", **GONE_COLUMNS}, CANCEL],
            [C.STATUS, C.AMOUNT_DUE, C.PAYMENT_STATE, C.CANCELED],
            id="draft deleted in Xero: nothing due, then Canceled",
        ),
        pytest.param(
            {STATUS: "VOIDED", **GONE_COLUMNS},
            {"Status": "VOIDED"},
            LINK,
            [CANCEL],
            [C.CANCELED],
            id="columns already voided, state not yet",
        ),
        pytest.param(
            {**CANCELED_STATE, STATUS: "VOIDED", **GONE_COLUMNS},
            {"Status": "VOIDED"},
            LINK,
            None,
            None,
            id="Canceled and voided: nothing to do",
        ),
        pytest.param(
            {**CANCELED_STATE, STATUS: "DRAFT"},
            {"Status": "DELETED"},
            LINK,
            [REOPEN, {STATUS: "DELETED", **GONE_COLUMNS}, CANCEL],
            [C.REOPENED, C.STATUS, C.AMOUNT_DUE, C.PAYMENT_STATE],
            id="Canceled in Dynamics, deleted in Xero: columns written, Canceled again",
        ),
        pytest.param(
            CANCELED_STATE,
            {"Status": "PAID", "AmountDue": 0.0, "AmountCredited": 115.0},
            LINK,
            [REOPEN, {**PAID_COLUMNS, CREDITED: 115.0}, CANCEL],
            [C.REOPENED, C.STATUS, C.AMOUNT_DUE, C.AMOUNT_CREDITED, C.PAYMENT_STATE],
            id="Canceled in Dynamics, credited in full in Xero: shown PAID, stays Canceled",
        ),
        pytest.param(
            {**PAID_STATE, **PAID_COLUMNS, PAID_AMOUNT: 115.0},
            {"Status": "VOIDED", "AmountPaid": 0.0},
            LINK,
            [REOPEN, {STATUS: "VOIDED", PAID_AMOUNT: 0.0, PAYMENT: P.VOIDED_OR_DELETED}, CANCEL],
            [C.REOPENED, C.STATUS, C.AMOUNT_PAID, C.PAYMENT_STATE, C.CANCELED],
            id="Paid, then payment removed and voided in Xero: Canceled",
        ),
        pytest.param(
            {},
            {"AmountDue": 85.0, "AmountPaid": 30.0},
            LINK,
            [{DUE: 85.0, PAID_AMOUNT: 30.0, PAYMENT: P.PART_PAID.value}],
            [C.AMOUNT_DUE, C.AMOUNT_PAID, C.PAYMENT_STATE],
            id="part paid",
        ),
        pytest.param(
            {DUE: 85.0, PAID_AMOUNT: 30.0, PAYMENT: P.PART_PAID.value},
            {"AmountDue": 20.0, "AmountPaid": 95.0},
            LINK,
            [{DUE: 20.0, PAID_AMOUNT: 95.0}],
            [C.AMOUNT_DUE, C.AMOUNT_PAID],
            id="paid a little more",
        ),
        pytest.param(
            {},
            {"AmountDue": 65.0, "AmountCredited": 50.0},
            LINK,
            [{DUE: 65.0, CREDITED: 50.0}],
            [C.AMOUNT_DUE, C.AMOUNT_CREDITED],
            id="part credited: not paid, the credit shown",
        ),
        pytest.param(
            {},
            {"Status": "PAID", "AmountDue": 0, "AmountPaid": 115.0},
            LINK,
            [{**PAID_COLUMNS, DUE: 0, PAID_AMOUNT: 115.0}, MARK_PAID],
            [C.STATUS, C.AMOUNT_DUE, C.AMOUNT_PAID, C.PAYMENT_STATE, C.PAID],
            id="paid in full: columns first, then Paid",
        ),
        pytest.param(
            PAID_COLUMNS,
            {"Status": "PAID", "AmountDue": 0},
            LINK,
            [MARK_PAID],
            [C.PAID],
            id="columns already paid, state not yet",
        ),
        pytest.param(
            {},
            {"Status": "PAID", "AmountDue": 0.0, "AmountCredited": 115.0},
            LINK,
            [{**PAID_COLUMNS, CREDITED: 115.0}, MARK_PAID],
            [C.STATUS, C.AMOUNT_DUE, C.AMOUNT_CREDITED, C.PAYMENT_STATE, C.PAID],
            id="credited in full counts as paid",
        ),
        pytest.param(
            {},
            {"Status": "PAID", "AmountDue": 5.0},
            LINK,
            [{STATUS: "PAID", DUE: 5.0}],
            [C.STATUS, C.AMOUNT_DUE],
            id="PAID with an amount due is not paid",
        ),
        pytest.param(
            {**PAID_STATE, **PAID_COLUMNS},
            {"Status": "PAID", "AmountDue": 0},
            LINK,
            None,
            None,
            id="Paid in both: read-only, nothing to do",
        ),
        pytest.param(
            {**PAID_STATE, **PAID_COLUMNS},
            {"Status": "PAID", "AmountDue": 0, "AmountPaid": 115.0},
            LINK,
            None,
            None,
            id="Paid in both: not reopened for a column alone",
        ),
        pytest.param(
            {**PAID_STATE, **PAID_COLUMNS},
            {"Status": "AUTHORISED", "AmountDue": 115.0},
            LINK,
            [REOPEN, {STATUS: "AUTHORISED", DUE: 115.0, PAYMENT: P.NOT_PAID.value}],
            [C.REOPENED, C.STATUS, C.AMOUNT_DUE, C.PAYMENT_STATE],
            id="payment removed in Xero: reopened, then updated",
        ),
        pytest.param(
            {**PAID_STATE},
            {},
            LINK,
            [REOPEN],
            [C.REOPENED],
            id="Paid in Dynamics alone: reopened",
        ),
        pytest.param({}, {"TotalTax": 17.25}, LINK, [{TAX: 17.25}], [C.TAX], id="tax"),
        pytest.param({TAX: 15}, {"TotalTax": 15.0}, LINK, None, None, id="15 is 15.0"),
        pytest.param(
            {DUE: "115.00"}, {"AmountDue": 115}, LINK, None, None, id="money as text is compared"
        ),
        pytest.param({DUE: 115.00001}, {}, LINK, None, None, id="below rate precision"),
        pytest.param({DUE: None}, {}, LINK, [{DUE: 115.0}], [C.AMOUNT_DUE], id="due never set"),
        pytest.param(
            {PAID_AMOUNT: None, CREDITED: None, PAYMENT: None},
            {},
            LINK,
            [{PAID_AMOUNT: 0.0, CREDITED: 0.0, PAYMENT: P.NOT_PAID.value}],
            [C.AMOUNT_PAID, C.AMOUNT_CREDITED, C.PAYMENT_STATE],
            id="exported before the payment columns existed",
        ),
        pytest.param(
            {NUMBER: None}, {}, LINK, [{NUMBER: "INV-0001"}], [C.NUMBER], id="number assigned"
        ),
        pytest.param({NUMBER: None}, {"InvoiceNumber": ""}, LINK, None, None, id="no number yet"),
        pytest.param({URL: None}, {}, LINK, [{URL: LINK}], [C.LINK], id="deep link first written"),
        pytest.param({}, {}, NEW_LINK, [{URL: NEW_LINK}], [C.LINK], id="deep link changed"),
        pytest.param({}, {}, None, None, None, id="no short code: link kept as is"),
        pytest.param(
            {STATUS: "DRAFT", NUMBER: None, TAX: 0, DUE: 0, URL: None},
            {},
            LINK,
            [{STATUS: "AUTHORISED", NUMBER: "INV-0001", TAX: 15.0, DUE: 115.0, URL: LINK}],
            [C.STATUS, C.NUMBER, C.TAX, C.AMOUNT_DUE, C.LINK],
            id="everything at once, in one body",
        ),
    ],
)
def test_an_invoice_is_patched_with_what_differs(
    row: JSON,
    invoice: JSON,
    link: str | None,
    bodies: list[JSON] | None,
    changes: list[InvoiceChange] | None,
) -> None:
    patch = invoice_patch(dynamics_invoice(**row), xero_invoice(**invoice), link)

    if bodies is None:
        assert patch is None
    else:
        assert patch is not None
        assert list(patch.bodies) == bodies
        assert sorted(patch.changes) == sorted(changes or [])


def test_only_the_first_write_of_a_change_set_carries_the_etag() -> None:
    row = dynamics_invoice(**PAID_STATE)
    patch = invoice_patch(row, xero_invoice(AmountDue=10.0), LINK)
    assert patch is not None

    operations = patch.operations(None, NOW)

    assert [operation.headers["If-Match"] for operation in operations] == ['W/"101"', "*"]
    assert {operation.method for operation in operations} == {"PATCH"}
    assert {operation.path for operation in operations} == {
        f"{InvoiceColumns.ENTITY_SET}({row[InvoiceColumns.ID]})"
    }


def test_a_row_read_without_an_etag_is_written_unconditionally_but_never_created() -> None:
    row = dynamics_invoice()
    del row[Common.ETAG]
    patch = InvoicePatch(row, xero_invoice(), ({DUE: 1},), (C.AMOUNT_DUE,))

    [operation] = patch.operations(None, NOW)

    assert operation.headers == {"If-Match": "*"}


@pytest.mark.parametrize(
    ("row", "invoice", "note"),
    [
        pytest.param(
            {},
            {"Status": "VOIDED"},
            "Xero invoice INV-0001 was voided in Xero, so this invoice is now Canceled in "
            "Dynamics 365 with nothing due.",
            id="voided",
        ),
        pytest.param(
            {STATUS: "DRAFT"},
            {"Status": "DELETED", "InvoiceNumber": ""},
            "The Xero invoice was deleted in Xero, so this invoice is now Canceled in Dynamics "
            "365 with nothing due.",
            id="draft deleted",
        ),
        pytest.param(
            {**CANCELED_STATE, STATUS: "DRAFT"},
            {"Status": "DELETED"},
            "Xero invoice INV-0001 was deleted in Xero. This invoice was already Canceled in "
            "Dynamics 365; it now shows the Xero status with nothing due.",
            id="deleted after a cancellation in Dynamics",
        ),
        pytest.param({STATUS: "VOIDED", **GONE_COLUMNS}, {"Status": "VOIDED"}, None, id="told"),
        pytest.param({}, {"AmountDue": 15.0, "AmountPaid": 100.0}, None, id="part paid"),
        pytest.param(
            CANCELED_STATE,
            {"Status": "PAID", "AmountDue": 0.0, "AmountCredited": 115.0},
            None,
            id="credited after a cancellation (invoice-sync's row says so)",
        ),
    ],
)
def test_voided_or_deleted_in_xero_gets_one_history_row_in_words(
    row: JSON, invoice: JSON, note: str | None
) -> None:
    dynamics_row = dynamics_invoice(**row)
    patch = invoice_patch(dynamics_row, xero_invoice(**invoice), LINK)
    assert patch is not None or note is None

    operations = patch.operations(CONNECTOR_ID, NOW) if patch else []

    posts = [operation for operation in operations if operation.method == "POST"]
    if note is None:
        assert posts == []
        return
    assert operations[-1] is posts[0], "the row goes with, and after, the change it describes"
    assert posts[0].path == SyncHistoryColumns.ENTITY_SET
    assert posts[0].body == {
        "dxc_name": f"Invoice ORD-1001: {note}"[:200],
        SyncHistoryColumns.OCCURRED_ON: NOW.isoformat(),
        SyncHistoryColumns.OUTCOME: SyncOutcome.INFORMATION.value,
        SyncHistoryColumns.MESSAGE: note,
        "dxc_ConnectorId@odata.bind": f"/dxc_connectors({CONNECTOR_ID})",
        "dxc_InvoiceId@odata.bind": f"/invoices({dynamics_row[InvoiceColumns.ID]})",
    }


def test_a_history_row_cannot_be_written_without_the_connector_record() -> None:
    patch = invoice_patch(dynamics_invoice(), xero_invoice(Status="VOIDED"), LINK)
    assert patch is not None

    with pytest.raises(ValueError, match="connector record"):
        patch.operations(None, NOW)


@pytest.mark.parametrize(
    ("invoice", "state"),
    [
        ({}, P.NOT_PAID),
        ({"Status": "DRAFT"}, P.NOT_PAID),
        ({"AmountDue": 65.0, "AmountCredited": 50.0}, P.NOT_PAID),
        ({"AmountDue": 85.0, "AmountPaid": 30.0}, P.PART_PAID),
        ({"AmountDue": 35.0, "AmountPaid": 30.0, "AmountCredited": 50.0}, P.PART_PAID),
        ({"Status": "PAID", "AmountDue": 0, "AmountPaid": 115.0}, P.PAID),
        ({"Status": "PAID", "AmountDue": 0, "AmountCredited": 115.0}, P.PAID),
        ({"Status": "VOIDED", "AmountDue": 115.0}, P.VOIDED_OR_DELETED),
        ({"Status": "DELETED"}, P.VOIDED_OR_DELETED),
    ],
)
def test_payment_state(invoice: JSON, state: PaymentState) -> None:
    assert payment_state(xero_invoice(**invoice)) is state


@pytest.mark.parametrize(
    ("state", "invoice", "target"),
    [
        (InvoiceState.ACTIVE, {}, InvoiceState.ACTIVE),
        (InvoiceState.ACTIVE, {"Status": "PAID", "AmountDue": 0}, InvoiceState.PAID),
        (InvoiceState.ACTIVE, {"Status": "VOIDED"}, InvoiceState.CANCELED),
        (InvoiceState.ACTIVE, {"Status": "DELETED"}, InvoiceState.CANCELED),
        (InvoiceState.PAID, {}, InvoiceState.ACTIVE),
        (InvoiceState.PAID, {"Status": "VOIDED"}, InvoiceState.CANCELED),
        (InvoiceState.CANCELED, {}, InvoiceState.CANCELED),
        (InvoiceState.CANCELED, {"Status": "PAID", "AmountDue": 0}, InvoiceState.CANCELED),
    ],
)
def test_the_dynamics_state_that_matches_xero(
    state: InvoiceState, invoice: JSON, target: InvoiceState
) -> None:
    assert target_state(state.value, xero_invoice(**invoice)) is target


def test_the_plan_skips_invoices_gone_from_xero_and_collects_their_contacts() -> None:
    unchanged = dynamics_invoice()
    changed = dynamics_invoice(
        **{InvoiceColumns.ID: "d2", InvoiceColumns.XERO_INVOICE_ID: "AAAA-2", DUE: 1.0}
    )
    gone = dynamics_invoice(**{InvoiceColumns.ID: "d3", InvoiceColumns.XERO_INVOICE_ID: "gone"})
    read = {
        XERO_ID: xero_invoice(),
        "aaaa-2": xero_invoice(InvoiceID="AAAA-2", Contact={"ContactID": "Other"}),
    }

    plan = plan_invoices([unchanged, changed, gone], read, "https://go.xero.test", None)

    assert [patch.invoice_id for patch in plan.patches] == ["d2"]
    assert plan.patches[0].xero_invoice_id == "AAAA-2"
    assert plan.contact_ids == {CONTACT_ID.lower(), "other"}


def test_the_plan_writes_the_deep_link_of_the_organisation() -> None:
    plan = plan_invoices(
        [dynamics_invoice(**{URL: None})], {XERO_ID: xero_invoice()}, "https://go.xero.test/", "!k"
    )

    [patch] = plan.patches
    assert patch.bodies[0][URL] == deep_link("https://go.xero.test", "!k", xero_invoice())


@pytest.mark.parametrize(
    ("web_url", "short_code", "expected"),
    [
        ("https://go.xero.test", None, None),
        ("https://go.xero.test", "", None),
        (
            "https://go.xero.test/",
            "!aBc9",
            "https://go.xero.test/organisationlogin/default.aspx?shortcode=%21aBc9"
            f"&redirecturl=/AccountsReceivable/View.aspx?InvoiceID={XERO_ID}",
        ),
        (
            "http://127.0.0.1:8101",
            "a b&c",
            "http://127.0.0.1:8101/organisationlogin/default.aspx?shortcode=a%20b%26c"
            f"&redirecturl=/AccountsReceivable/View.aspx?InvoiceID={XERO_ID}",
        ),
    ],
)
def test_deep_link(web_url: str, short_code: str | None, expected: str | None) -> None:
    assert deep_link(web_url, short_code, xero_invoice()) == expected


@pytest.mark.parametrize(
    ("invoice", "paid"),
    [
        ({"Status": "PAID", "AmountDue": 0}, True),
        ({"Status": "PAID", "AmountDue": "0.00"}, True),
        ({"Status": "PAID"}, True),  # no amount due reads as nothing due
        ({"Status": "PAID", "AmountDue": 0.01}, False),
        ({"Status": "AUTHORISED", "AmountDue": 0}, False),
        ({"Status": "VOIDED", "AmountDue": 0}, False),
    ],
)
def test_fully_paid(invoice: JSON, paid: bool) -> None:
    assert fully_paid(Invoice.from_xero(invoice)) is paid


# -- balances ------------------------------------------------------------------------------

OUT, OVERDUE, LINKED = (
    AccountColumns.OUTSTANDING_BALANCE,
    AccountColumns.OVERDUE_BALANCE,
    AccountColumns.XERO_CONTACT_ID,
)


def customer(contact_id: str = CONTACT_ID, **columns: Any) -> JSON:
    return {
        AccountColumns.ID: "a1",
        ContactColumns.ID: "c1",
        LINKED: contact_id,
        OUT: 100.0,
        OVERDUE: 0.0,
        **columns,
    }


@pytest.mark.parametrize(
    ("row", "receivable", "body"),
    [
        pytest.param({}, {"Outstanding": 100.0, "Overdue": 0.0}, None, id="unchanged"),
        pytest.param({}, {"Outstanding": 60.0, "Overdue": 0.0}, {OUT: 60.0}, id="outstanding"),
        pytest.param({}, {"Outstanding": 100, "Overdue": 40.0}, {OVERDUE: 40.0}, id="overdue"),
        pytest.param(
            {},
            {"Outstanding": 0, "Overdue": 0},
            {OUT: 0},
            id="all paid",
        ),
        pytest.param(
            {OUT: None, OVERDUE: None},
            {},
            {OUT: 0, OVERDUE: 0},
            id="no receivables in Xero: zero",
        ),
        pytest.param(
            {OUT: 1.0, OVERDUE: 2.0},
            {"Outstanding": 3.0, "Overdue": 4.0},
            {OUT: 3.0, OVERDUE: 4.0},
            id="both",
        ),
    ],
)
def test_a_customer_gets_the_balances_that_differ(
    row: JSON, receivable: JSON, body: JSON | None
) -> None:
    receivables = {CONTACT_ID.lower(): Balance.from_xero(receivable)}

    patches = balance_patches([(ACCOUNTS, customer(**row))], receivables)

    assert [patch.body for patch in patches] == ([body] if body else [])


def test_balances_go_to_accounts_and_contacts_by_their_own_ids() -> None:
    receivables = {CONTACT_ID.lower(): Balance.from_xero({"Outstanding": 1.0, "Overdue": 0})}
    customers = [(ACCOUNTS, customer()), (CONTACTS, customer()), (ACCOUNTS, customer("other"))]

    patches = balance_patches(customers, receivables)

    assert [(patch.operation().path, patch.table.label) for patch in patches] == [
        (f"{AccountColumns.ENTITY_SET}(a1)", "account"),
        (f"{ContactColumns.ENTITY_SET}(c1)", "contact"),
    ], "a customer whose Xero contact was not read is left as it is"


def test_receivables_are_keyed_by_lower_case_contact_id() -> None:
    answer: list[JSON] = [
        {"ContactID": "ABC", "Balances": {"AccountsReceivable": {"Outstanding": 5}}},
        {"ContactID": "def", "Balances": None},
        {"ContactID": "0A1"},
    ]
    contacts = [Contact.from_xero(contact) for contact in answer]
    assert receivables_of(contacts) == {
        "abc": Balance(outstanding=Decimal(5)),
        "def": Balance(),
        "0a1": Balance(),
    }


def test_xero_changes_are_lower_case_and_include_the_invoices_read() -> None:
    read = Invoice.from_xero({"InvoiceID": "EF", "Status": "PAID"})
    changes = XeroChanges.of(["AB"], ["CD"], [read])

    assert changes.invoice_ids == {"ab", "ef"}
    assert changes.contact_ids == {"cd"}
    assert changes.invoices_read == {"ef": read}
