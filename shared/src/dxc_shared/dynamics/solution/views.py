"""The connector's views (system views, ``savedquery``): which rows, which columns, what order,
as FetchXML and a grid layout ("Customize table views", "savedquery" entity reference and
"FetchXML reference", Microsoft Learn). Columns are named through the schema, so a view can
only show a column the package or Dynamics defines (`tests/unit/shared/test_solution.py`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from dxc_shared.dynamics.schema import (
    ACCOUNT,
    CONTACT,
    HISTORY_INVOICE,
    INVOICE,
    INVOICE_CONNECTOR,
    SYNC_HISTORY,
    ExportStatus,
    PaymentState,
    SyncOutcome,
    Table,
)
from dxc_shared.dynamics.solution.xml import element, labels, stable_id, text

# The standard columns the package's forms and views show, by table (Dynamics defines them;
# the sandbox's standard tables carry them too: `tests/sandboxes/dynamics/test_solution_import.py`).
STANDARD_COLUMNS: dict[str, frozenset[str]] = {
    "invoice": frozenset(
        {"name", "invoicenumber", "customerid", "totalamount", "datedelivered", "statecode"}
    ),
    "account": frozenset({"name"}),
    "contact": frozenset({"fullname"}),
}


# The primary name column of the standard customer tables.
CUSTOMER_NAME = {"account": "name", "contact": "fullname"}


def own(table: Table, schema_name: str) -> str:
    """The logical name of a column or lookup the package adds to `table` (`KeyError` if not)."""
    for lookup in table.lookups:
        if lookup.schema_name == schema_name:
            return lookup.logical_name
    return table.column(schema_name)


def standard(table: Table, logical_name: str) -> str:
    if logical_name not in STANDARD_COLUMNS.get(table.logical_name, frozenset()):
        raise KeyError(f"{logical_name} is not a standard column of {table.logical_name} we use")
    return logical_name


@dataclass(frozen=True)
class Condition:
    attribute: str
    operator: str
    value: int | None = None

    def xml(self) -> ET.Element:
        attributes = {"attribute": self.attribute, "operator": self.operator}
        if self.value is not None:
            attributes["value"] = str(self.value)
        return element("condition", attributes)


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def xml(self) -> ET.Element:
        return element("filter", {"type": "or"}, *(c.xml() for c in self.conditions))


@dataclass(frozen=True)
class Link:
    """An inner join to the row a lookup points at, filtered, showing some of its columns."""

    table: Table
    lookup: str  # the lookup column on the view's table
    alias: str
    conditions: tuple[Condition, ...] = ()
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class View:
    key: str
    table: Table
    name: str
    description: str
    columns: tuple[str, ...]
    conditions: tuple[Condition | AnyOf, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()  # (column, descending)
    link: Link | None = None
    widths: dict[str, int] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return stable_id(f"view:{self.key}")

    def fetch_xml(self) -> ET.Element:
        entity = element("entity", {"name": self.table.logical_name})
        primary = self.table.primary_id
        for name in (primary, *self.columns):
            entity.append(element("attribute", {"name": name}))
        for column, descending in self.order:
            entity.append(
                element("order", {"attribute": column, "descending": str(descending).lower()})
            )
        if self.conditions:
            entity.append(element("filter", {"type": "and"}, *(c.xml() for c in self.conditions)))
        if self.link is not None:
            link = element(
                "link-entity",
                {
                    "name": self.link.table.logical_name,
                    "from": self.link.table.primary_id,
                    "to": self.link.lookup,
                    "alias": self.link.alias,
                    "link-type": "inner",
                },
                *(element("attribute", {"name": c}) for c in self.link.columns),
            )
            if self.link.conditions:
                link.append(
                    element("filter", {"type": "and"}, *(c.xml() for c in self.link.conditions))
                )
            entity.append(link)
        return element("fetch", {"version": "1.0", "mapping": "logical"}, entity)

    def layout_xml(self) -> ET.Element:
        names = [*self.columns]
        if self.link is not None:
            names += [f"{self.link.alias}.{c}" for c in self.link.columns]
        cells = [element("cell", {"name": n, "width": str(self.widths.get(n, 150))}) for n in names]
        row = element("row", {"name": "result", "id": self.table.primary_id}, *cells)
        return element(
            "grid",
            {"name": "resultset", "jump": self.columns[0], "select": "1", "icon": "1"},
            row,
        )

    def savedquery(self) -> ET.Element:
        fetch = element("fetchxml", {}, self.fetch_xml())
        layout = element("layoutxml", {}, self.layout_xml())
        return element(
            "savedquery",
            {},
            text("IsCustomizable", 1),
            text("CanBeDeleted", 0),
            text("isquickfindquery", 0),
            text("isprivate", 0),
            text("isdefault", 0),
            text("savedqueryid", self.id),
            text("returnedtypecode", self.table.logical_name),
            text("querytype", 0),
            fetch,
            layout,
            labels("LocalizedNames", "LocalizedName", self.name),
            labels("Descriptions", "Description", self.description),
        )


def _i(schema_name: str) -> str:
    return own(INVOICE, schema_name)


def _h(schema_name: str) -> str:
    return own(SYNC_HISTORY, schema_name)


_INVOICE_COLUMNS = (
    standard(INVOICE, "name"),
    standard(INVOICE, "customerid"),
    standard(INVOICE, "totalamount"),
    standard(INVOICE, "datedelivered"),
)
_ACTIVE = Condition(standard(INVOICE, "statecode"), "eq", 0)
INVOICE_HISTORY = View(
    "invoice-sync-history",
    SYNC_HISTORY,
    "Sync history of the invoice",
    "Every time the connector handled the invoice, newest first.",
    (_h("dxc_OccurredOn"), _h("dxc_Outcome"), _h("dxc_Message")),
    order=((_h("dxc_OccurredOn"), True),),
    widths={_h("dxc_Message"): 500},
)
VIEWS: tuple[View, ...] = (
    View(
        "invoices-ready",
        INVOICE,
        "Invoices ready for Xero",
        "Handed to the connector and not sent yet: they go to Xero on its next run (those "
        "delivered in the future wait).",
        (*_INVOICE_COLUMNS, _i("dxc_ExportStatus")),
        conditions=(
            _ACTIVE,
            Condition(_i(INVOICE_CONNECTOR.schema_name), "not-null"),
            AnyOf(
                (
                    Condition(_i("dxc_ExportStatus"), "null"),
                    Condition(_i("dxc_ExportStatus"), "eq", ExportStatus.NO),
                )
            ),
        ),
        order=((standard(INVOICE, "datedelivered"), False),),
    ),
    View(
        "invoices-failed",
        SYNC_HISTORY,
        "Invoices failed in Xero",
        "Invoices whose export failed, with the message of each failure, newest first. Fix "
        "the cause, then set the invoice's Xero export status back to No.",
        (_h("dxc_OccurredOn"), own(SYNC_HISTORY, HISTORY_INVOICE.schema_name), _h("dxc_Message")),
        conditions=(Condition(_h("dxc_Outcome"), "eq", SyncOutcome.FAILED),),
        order=((_h("dxc_OccurredOn"), True),),
        link=Link(
            INVOICE,
            own(SYNC_HISTORY, HISTORY_INVOICE.schema_name),
            "invoice",
            (Condition(_i("dxc_ExportStatus"), "eq", ExportStatus.FAILED),),
            (standard(INVOICE, "customerid"), standard(INVOICE, "totalamount")),
        ),
        widths={_h("dxc_Message"): 500},
    ),
    View(
        "invoices-part-paid",
        INVOICE,
        "Invoices part paid in Xero",
        "A payment received in Xero and something still due.",
        (*_INVOICE_COLUMNS, _i("dxc_XeroInvoiceNumber"), _i("dxc_AmountPaid"), _i("dxc_AmountDue")),
        conditions=(Condition(_i("dxc_PaymentState"), "eq", PaymentState.PART_PAID),),
        order=((standard(INVOICE, "datedelivered"), False),),
    ),
    View(
        "invoices-exported-today",
        INVOICE,
        "Invoices exported to Xero today",
        "Sent to Xero today.",
        (
            *_INVOICE_COLUMNS,
            _i("dxc_XeroInvoiceNumber"),
            _i("dxc_XeroStatus"),
            _i("dxc_ExportedOn"),
        ),
        conditions=(Condition(_i("dxc_ExportedOn"), "today"),),
        order=((_i("dxc_ExportedOn"), True),),
    ),
    View(
        "sync-history-by-outcome",
        SYNC_HISTORY,
        "Sync history by outcome",
        "Every entry, grouped by outcome (Success, Failed, Skipped, Information), newest "
        "first within each.",
        (
            _h("dxc_Outcome"),
            _h("dxc_OccurredOn"),
            own(SYNC_HISTORY, HISTORY_INVOICE.schema_name),
            _h("dxc_Message"),
        ),
        order=((_h("dxc_Outcome"), False), (_h("dxc_OccurredOn"), True)),
        widths={_h("dxc_Message"): 500},
    ),
    INVOICE_HISTORY,
    *(
        View(
            f"{table.logical_name}-xero-balances",
            table,
            f"{table.plural_label} with Xero balances",
            "Customers linked to a Xero contact, with what they owe in Xero.",
            (
                standard(table, CUSTOMER_NAME[table.logical_name]),
                own(table, "dxc_OutstandingBalance"),
                own(table, "dxc_OverdueBalance"),
            ),
            conditions=(Condition(own(table, "dxc_XeroContactId"), "not-null"),),
            order=((own(table, "dxc_OverdueBalance"), True),),
        )
        for table in (ACCOUNT, CONTACT)
    ),
)
