"""The plan for what the invoices point at: Xero contacts for customers, Items for products."""

from __future__ import annotations

from typing import Any

import pytest
from dxc_shared.clients.xero_accounting import ElementResult
from dxc_shared.xero.documents import Contact, Item
from invoice_sync.invoices import plan_reference
from invoice_sync.invoices.mapping import Failure
from invoice_sync.invoices.plan_reference import Contacts, LinkContact

from tests.unit.invoice_sync.records import customer, data, invoice, line, product

pytestmark = pytest.mark.unit


def test_the_customers_of_invoices_are_read_once_each_and_only_if_known() -> None:
    known = customer("c-1")
    invoices = [
        invoice("a", customer_id="c-1"),
        invoice("b", customer_id="c-1"),
        invoice("c", customer_id="c-gone"),
        invoice("d", customer_id=None),
    ]
    assert plan_reference.customers_of(invoices, data(known)) == {"c-1": known}


@pytest.mark.parametrize(
    ("xero_contact_id", "known", "unknown"),
    [("c-9", {"c-1": "c-9"}, []), (None, {}, ["c-1"]), ("", {}, ["c-1"])],
    ids=["linked in dynamics", "not linked", "empty link"],
)
def test_a_customer_linked_in_dynamics_needs_no_look_up(
    xero_contact_id: str | None, known: dict[str, str], unknown: list[str]
) -> None:
    subject = customer("c-1", xero_contact_id=xero_contact_id)
    contacts, to_look_up = plan_reference.known_contacts({"c-1": subject})
    assert contacts.ids == known
    assert [c.id for c in to_look_up] == unknown
    assert contacts.links == []


@pytest.mark.parametrize(
    ("found", "linked"),
    [
        ([{"ContactID": "x-1", "ContactNumber": "c-1", "Name": "Other"}], "x-1"),
        ([{"ContactID": "x-2", "Name": "FABRIKAM LTD"}], "x-2"),
        (
            [
                {"ContactID": "x-2", "Name": "Fabrikam Ltd"},
                {"ContactID": "x-1", "ContactNumber": "c-1", "Name": "Renamed"},
            ],
            "x-1",
        ),
        ([{"ContactID": "x-3", "Name": "Contoso"}], None),
        ([], None),
        ([{"ContactID": "x-4", "AccountNumber": "ACC-2", "Name": "Fabrikam (old name)"}], "x-4"),
        (
            [
                {"ContactID": "x-2", "Name": "Fabrikam Ltd"},
                {"ContactID": "x-4", "AccountNumber": "ACC-2", "Name": "Fabrikam Holdings"},
            ],
            "x-4",
        ),
    ],
    ids=[
        "by number",
        "by name, any case",
        "number before name",
        "another contact",
        "none",
        "by account number",
        "account number before name",
    ],
)
def test_a_customer_is_matched_to_a_xero_contact_by_number_then_name(
    found: list[dict[str, Any]], linked: str | None
) -> None:
    subject = customer("c-1", name="Fabrikam Ltd", account_number="ACC-2")
    contacts = Contacts()
    missing = plan_reference.match_contacts(
        contacts, [subject], [Contact.from_xero(contact) for contact in found]
    )
    if linked is None:
        assert missing == [subject]
        assert contacts.ids == {}
    else:
        assert missing == []
        assert contacts.ids == {"c-1": linked}
        assert contacts.links == [LinkContact(subject, linked)]


def test_with_contact_creation_off_a_missing_contact_fails_its_invoices() -> None:
    contacts = Contacts()
    plan_reference.contacts_missing(contacts, [customer("c-1", name="Fabrikam Ltd")])
    failure = contacts.ids["c-1"]
    assert isinstance(failure, Failure)
    assert failure.reason == "contact_missing"
    assert "'Fabrikam Ltd' does not exist in Xero" in failure.message
    assert contacts.links == []


def test_created_contacts_are_linked_and_refused_ones_explained() -> None:
    made, refused = customer("c-1"), customer("c-2", name="Bad")
    contacts = Contacts()
    plan_reference.contacts_created(
        contacts,
        [made, refused],
        [
            ElementResult(Contact(contact_id="x-1")),
            ElementResult(Contact(), errors=["Name is too long"]),
        ],
    )
    assert contacts.ids["c-1"] == "x-1"
    assert contacts.links == [LinkContact(made, "x-1")]
    failure = contacts.ids["c-2"]
    assert isinstance(failure, Failure)
    assert failure.reason == "xero_validation"
    assert "Xero would not create the contact 'Bad': Name is too long." in failure.message


@pytest.mark.parametrize(
    ("lines", "products", "codes"),
    [
        ([line()], [product()], {"00000000-0000-0000-0000-0000000000b1": "WIDGET"}),
        ([line(written_in=True)], [product()], {}),
        ([line()], [], {}),
        ([line()], [product(number="")], {}),
        ([line()], [product(number="X" * 31)], {}),
        (
            [line()],
            [product(number="X" * 30)],
            {"00000000-0000-0000-0000-0000000000b1": "X" * 30},
        ),
    ],
    ids=["catalogue", "written in", "product gone", "no number", "too long", "longest"],
)
def test_item_codes_come_from_catalogue_lines_xero_can_take(
    lines: list[Any], products: list[Any], codes: dict[str, str]
) -> None:
    assert (
        plan_reference.item_codes([invoice(lines=lines)], data(products=tuple(products))) == codes
    )


@pytest.mark.parametrize(
    ("existing", "available", "missing"),
    [
        (["WIDGET", "GADGET"], {"p-1": "WIDGET", "p-2": "gadget"}, []),
        (["widget"], {"p-1": "WIDGET"}, ["p-2"]),
        ([], {}, ["p-1", "p-2"]),
    ],
    ids=["all there", "one missing", "none there"],
)
def test_items_xero_lacks_are_found_without_regard_to_case(
    existing: list[str], available: dict[str, str], missing: list[str]
) -> None:
    codes = {"p-1": "WIDGET", "p-2": "gadget"}
    products = {"p-1": product("p-1"), "p-2": product("p-2", number="gadget")}
    have, lacking = plan_reference.items_missing(codes, products, existing)
    assert have == available
    assert [p.id for p in lacking] == missing


def test_products_sharing_a_code_are_created_once() -> None:
    codes = {"p-1": "WIDGET", "p-2": "widget"}
    products = {"p-1": product("p-1"), "p-2": product("p-2", number="widget")}
    _, lacking = plan_reference.items_missing(codes, products, [])
    assert len(lacking) == 1


def test_only_items_xero_created_are_put_on_lines() -> None:
    codes = {"p-1": "WIDGET", "p-2": "GADGET", "p-3": "widget"}
    created = [ElementResult(Item(code="Widget")), ElementResult(Item(code="GADGET"), ["taken"])]
    assert plan_reference.items_created(codes, created) == {"p-1": "WIDGET", "p-3": "widget"}


def test_a_name_xero_cannot_take_fails_its_invoices_without_a_create() -> None:
    contacts = Contacts()
    long_name = customer("c-2", name="N" * 256)
    creatable = plan_reference.contacts_xero_takes(contacts, [customer("c-1"), long_name])
    assert [c.id for c in creatable] == ["c-1"]
    failure = contacts.ids["c-2"]
    assert isinstance(failure, Failure)
    assert failure.reason == "value_too_long"
    assert "Xero's contact name takes at most 255" in failure.message
