"""The change writer's decisions: which Dynamics invoice and customer columns Xero's documents
change, in which order, and why."""

from __future__ import annotations

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
)
from payment_sync.payments.decisions import (
    ACCOUNTS,
    CONTACTS,
    MARK_PAID,
    REOPEN,
    InvoiceChange,
    InvoicePatch,
    balance_patches,
    deep_link,
    fully_paid,
    invoice_patch,
    plan_invoices,
    receivables_of,
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
C = InvoiceChange


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
        URL: LINK,
        **columns,
    }


def xero_invoice(**fields: Any) -> JSON:
    return {
        "InvoiceID": XERO_ID,
        "Status": "AUTHORISED",
        "InvoiceNumber": "INV-0001",
        "TotalTax": 15.0,
        "AmountDue": 115.0,
        "Contact": {"ContactID": CONTACT_ID},
        **fields,
    }


PAID_STATE = {Common.STATE: InvoiceState.PAID.value, Common.STATUS: InvoiceStatus.COMPLETE.value}
CANCELED_STATE = {
    Common.STATE: InvoiceState.CANCELED.value,
    Common.STATUS: InvoiceStatus.CANCELED.value,
}


@pytest.mark.parametrize(
    ("row", "invoice", "link", "bodies", "changes"),
    [
        pytest.param({}, {}, LINK, None, None, id="unchanged"),
        pytest.param(
            {}, {"Status": "SUBMITTED"}, LINK, [{STATUS: "SUBMITTED"}], [C.STATUS], id="status"
        ),
        pytest.param(
            {}, {"Status": "VOIDED"}, LINK, [{STATUS: "VOIDED"}], [C.STATUS], id="voided in Xero"
        ),
        pytest.param({}, {"AmountDue": 50.0}, LINK, [{DUE: 50.0}], [C.AMOUNT_DUE], id="part-paid"),
        pytest.param(
            {DUE: 50.0},
            {"AmountDue": 20.0},
            LINK,
            [{DUE: 20.0}],
            [C.AMOUNT_DUE],
            id="paid a little more",
        ),
        pytest.param(
            {},
            {"Status": "PAID", "AmountDue": 0},
            LINK,
            [{STATUS: "PAID", DUE: 0}, MARK_PAID],
            [C.STATUS, C.AMOUNT_DUE, C.PAID],
            id="paid in full: columns first, then Paid",
        ),
        pytest.param(
            {STATUS: "PAID", DUE: 0.0},
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
            [{STATUS: "PAID", DUE: 0.0}, MARK_PAID],
            [C.STATUS, C.AMOUNT_DUE, C.PAID],
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
            {**PAID_STATE, STATUS: "PAID", DUE: 0.0},
            {"Status": "PAID", "AmountDue": 0},
            LINK,
            None,
            None,
            id="Paid in both: read-only, nothing to do",
        ),
        pytest.param(
            {**PAID_STATE, STATUS: "PAID", DUE: 0.0},
            {"Status": "AUTHORISED", "AmountDue": 115.0},
            LINK,
            [REOPEN, {STATUS: "AUTHORISED", DUE: 115.0}],
            [C.REOPENED, C.STATUS, C.AMOUNT_DUE],
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
        pytest.param(
            CANCELED_STATE,
            {"Status": "PAID", "AmountDue": 0},
            LINK,
            None,
            None,
            id="canceled in Dynamics: left alone",
        ),
        pytest.param({}, {"TotalTax": 17.25}, LINK, [{TAX: 17.25}], [C.TAX], id="tax"),
        pytest.param({TAX: 15}, {"TotalTax": 15.0}, LINK, None, None, id="15 is 15.0"),
        pytest.param(
            {DUE: "115.00"}, {"AmountDue": 115}, LINK, None, None, id="money as text is compared"
        ),
        pytest.param({DUE: 115.00001}, {}, LINK, None, None, id="below rate precision"),
        pytest.param({DUE: None}, {}, LINK, [{DUE: 115.0}], [C.AMOUNT_DUE], id="due never set"),
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

    operations = patch.operations()

    assert [operation.headers["If-Match"] for operation in operations] == ['W/"101"', "*"]
    assert {operation.method for operation in operations} == {"PATCH"}
    assert {operation.path for operation in operations} == {
        f"{InvoiceColumns.ENTITY_SET}({row[InvoiceColumns.ID]})"
    }


def test_a_row_read_without_an_etag_is_written_unconditionally_but_never_created() -> None:
    row = dynamics_invoice()
    del row[Common.ETAG]
    patch = InvoicePatch(row, xero_invoice(), ({DUE: 1},), (C.AMOUNT_DUE,))

    [operation] = patch.operations()

    assert operation.headers == {"If-Match": "*"}


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
    assert fully_paid(invoice) is paid


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
    receivables = {CONTACT_ID.lower(): receivable}

    patches = balance_patches([(ACCOUNTS, customer(**row))], receivables)

    assert [patch.body for patch in patches] == ([body] if body else [])


def test_balances_go_to_accounts_and_contacts_by_their_own_ids() -> None:
    receivables = {CONTACT_ID.lower(): {"Outstanding": 1.0, "Overdue": 0}}
    customers = [(ACCOUNTS, customer()), (CONTACTS, customer()), (ACCOUNTS, customer("other"))]

    patches = balance_patches(customers, receivables)

    assert [(patch.operation().path, patch.table.label) for patch in patches] == [
        (f"{AccountColumns.ENTITY_SET}(a1)", "account"),
        (f"{ContactColumns.ENTITY_SET}(c1)", "contact"),
    ], "a customer whose Xero contact was not read is left as it is"


def test_receivables_are_keyed_by_lower_case_contact_id() -> None:
    contacts: list[JSON] = [
        {"ContactID": "ABC", "Balances": {"AccountsReceivable": {"Outstanding": 5}}},
        {"ContactID": "def", "Balances": None},
        {"ContactID": "0A1"},
    ]
    assert receivables_of(contacts) == {"abc": {"Outstanding": 5}, "def": {}, "0a1": {}}


def test_xero_changes_are_lower_case_and_include_the_invoices_read() -> None:
    changes = XeroChanges.of(["AB"], ["CD"], [{"InvoiceID": "EF", "Status": "PAID"}])

    assert changes.invoice_ids == {"ab", "ef"}
    assert changes.contact_ids == {"cd"}
    assert changes.invoices_read == {"ef": {"InvoiceID": "EF", "Status": "PAID"}}
