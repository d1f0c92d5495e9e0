"""The part of the export plan about what the invoices point at: which customers have a Xero
contact (and which to look for or create), which products have a Xero Item. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dxc_shared.clients.xero_accounting import ElementResult
from dxc_shared.xero.documents import Contact, Item

from invoice_sync.invoices import mapping
from invoice_sync.invoices.mapping import Failure
from invoice_sync.invoices.records import Customer, Invoice, Product, ReferenceData


@dataclass(frozen=True)
class LinkContact:
    """Update the customer in Dynamics with the Xero contact found or created for it."""

    customer: Customer
    contact_id: str


# -- contacts -----------------------------------------------------------------------------------


@dataclass
class Contacts:
    """Customer id -> its Xero ContactID, or why it has none; and the customers to update in
    Dynamics with a ContactID found or created for them."""

    ids: dict[str, str | Failure] = field(default_factory=dict)
    links: list[LinkContact] = field(default_factory=list)

    def link(self, customer: Customer, contact_id: str) -> None:
        self.ids[customer.id] = contact_id
        self.links.append(LinkContact(customer, contact_id))


def customers_of(invoices: Iterable[Invoice], data: ReferenceData) -> dict[str, Customer]:
    return {
        customer.id: customer
        for invoice in invoices
        if (customer := data.customer_of(invoice)) is not None
    }


def known_contacts(customers: Mapping[str, Customer]) -> tuple[Contacts, list[Customer]]:
    """The contacts Dynamics already knows, and the customers to look for in Xero."""
    contacts = Contacts({c.id: c.xero_contact_id for c in customers.values() if c.xero_contact_id})
    return contacts, [c for c in customers.values() if c.id not in contacts.ids]


def match_contacts(
    contacts: Contacts, unknown: Sequence[Customer], found: Sequence[Contact]
) -> list[Customer]:
    """Link the customers Xero has a contact for (by ContactNumber, else by AccountNumber, as
    Xero keeps account numbers unique, else by name); returns those it has none for."""
    by_number = {x.contact_number: x for x in found if x.contact_number}
    by_account = {x.account_number: x for x in found if x.account_number}
    by_name = {(x.name or "").lower(): x for x in found}
    missing: list[Customer] = []
    for customer in unknown:
        element = (
            by_number.get(customer.id)
            or (by_account.get(customer.account_number) if customer.account_number else None)
            or by_name.get(customer.name.lower())
        )
        if element is None:
            missing.append(customer)
        else:
            contacts.link(customer, str(element.contact_id))
    return missing


def contacts_missing(contacts: Contacts, missing: Sequence[Customer]) -> None:
    """Creating contacts is switched off: their invoices fail, saying so."""
    for customer in missing:
        contacts.ids[customer.id] = mapping.contact_missing(customer.name)


def contacts_xero_takes(contacts: Contacts, missing: Sequence[Customer]) -> list[Customer]:
    """The customers Xero can take as contacts; the others' invoices fail, naming the limit."""
    creatable: list[Customer] = []
    for customer in missing:
        failure = mapping.contact_too_long(customer)
        if failure is None:
            creatable.append(customer)
        else:
            contacts.ids[customer.id] = failure
    return creatable


def contacts_created(
    contacts: Contacts, missing: Sequence[Customer], created: Sequence[ElementResult[Contact]]
) -> None:
    for customer, element in zip(missing, created, strict=False):
        if element.ok:
            contacts.link(customer, str(element.element.contact_id))
        else:
            contacts.ids[customer.id] = mapping.contact_not_created(customer.name, element.errors)


# -- items --------------------------------------------------------------------------------------


def item_codes(invoices: Iterable[Invoice], data: ReferenceData) -> dict[str, str]:
    """Product id -> the Xero Item code its lines would carry (products Xero can take)."""
    products = {
        product.id: product
        for invoice in invoices
        for line in invoice.lines
        if not line.written_in and (product := data.products.get(line.product_id or "")) is not None
    }
    return {pid: code for pid, product in products.items() if (code := mapping.item_code(product))}


def items_missing(
    codes: Mapping[str, str], products: Mapping[str, Product], existing: Iterable[str]
) -> tuple[dict[str, str], list[Product]]:
    """The codes of Items Xero has (product id -> code), and the products it lacks (one per
    code, compared without case)."""
    have = {code.lower() for code in existing}
    available = {pid: code for pid, code in codes.items() if code.lower() in have}
    missing = {
        code.lower(): products[pid] for pid, code in codes.items() if code.lower() not in have
    }
    return available, list(missing.values())


def items_created(
    codes: Mapping[str, str], created: Sequence[ElementResult[Item]]
) -> dict[str, str]:
    """Product id -> code of the Items Xero created."""
    made = {(element.element.code or "").lower() for element in created if element.ok}
    return {pid: code for pid, code in codes.items() if code.lower() in made}
