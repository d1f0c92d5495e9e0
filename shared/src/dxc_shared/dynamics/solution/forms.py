"""The connector's forms (``systemform``, main forms) in FormXml: tabs, sections, one cell per
field, and the invoice's sync history as a subgrid ("Form XML schema", "<control> (FormXml)",
"<ViewId> (FormXml)", Microsoft Learn). Each field is named through the schema or the list of
standard columns in `views.py`, so a form can only show a column that exists."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from dxc_shared.dynamics.schema import (
    ACCOUNT,
    CONNECTOR,
    CONTACT,
    HISTORY_CONNECTOR,
    HISTORY_INVOICE,
    INVOICE,
    INVOICE_CONNECTOR,
    SETTINGS,
    SETTINGS_CONNECTOR,
    SYNC_HISTORY,
    Column,
    Table,
)
from dxc_shared.dynamics.solution.views import (
    CUSTOMER_NAME,
    INVOICE_HISTORY,
    View,
    own,
    standard,
)
from dxc_shared.dynamics.solution.xml import element, label, labels, stable_id, text

# The control each kind of column gets (the classid table of "<control> (FormXml)").
CONTROL_CLASSES = {
    "string": "{4273EDBD-AC1D-40d3-9FB2-095C621B552D}",  # TextBoxControl
    "url": "{71716B6C-711E-476c-8AB8-5D11542BFB47}",  # UrlControl
    "memo": "{E0DECE4B-6FC8-4a8f-A065-082708572369}",  # TextAreaControl
    "boolean": "{67FAC785-CD58-4f9f-ABB3-4B7DDC6ED5ED}",  # RadioControl (two options)
    "datetime": "{5B773807-9FB2-42db-97C3-7A91EFF8ADFF}",  # DateTimeControl
    "money": "{533B9E00-756B-4312-95A0-DC888637AC78}",  # MoneyControl
    "decimal": "{C3EFE0C3-0EC6-42be-8349-CBD9079DFD8E}",  # DecimalControl
    "integer": "{C6D124CA-7EDA-4a60-AEA9-7FB8D318B68F}",  # IntegerControl
    "choice": "{3EF39988-22BB-4f0b-BBBE-64B5A3748AEE}",  # PicklistControl
    "lookup": "{270BD3DB-D9AF-4782-9025-509E298DEC0A}",  # LookupControl
    "subgrid": "{E7A81278-8635-4d9e-8D4D-59480B391C5B}",  # SubGridControl
}
# The kinds of the standard columns the forms show.
_STANDARD_KINDS = {
    "name": "string",
    "fullname": "string",
    "invoicenumber": "string",
    "customerid": "lookup",
    "totalamount": "money",
    "datedelivered": "datetime",
}


@dataclass(frozen=True)
class Field:
    column: str  # logical name
    label: str
    kind: str
    read_only: bool = False

    def cell(self, form_key: str) -> ET.Element:
        control = element(
            "control",
            {
                "id": self.column,
                "classid": CONTROL_CLASSES[self.kind],
                "datafieldname": self.column,
                "disabled": str(self.read_only).lower(),
            },
        )
        cell_id = stable_id(f"form:{form_key}:cell:{self.column}")
        return element("cell", {"id": cell_id, "showlabel": "true"}, label(self.label), control)


@dataclass(frozen=True)
class Subgrid:
    """Rows of `view.table` that point at this form's row through `relationship`."""

    name: str
    label: str
    relationship: str
    view: View

    def cell(self, form_key: str) -> ET.Element:
        parameters = element(
            "parameters",
            {},
            text("ViewId", self.view.id),
            text("IsUserView", "false"),
            text("RelationshipName", self.relationship),
            text("TargetEntityType", self.view.table.logical_name),
            text("AutoExpand", "Fixed"),
            text("EnableViewPicker", "false"),
            text("RecordsPerPage", 10),
        )
        control = element(
            "control",
            {
                "id": self.name,
                "classid": CONTROL_CLASSES["subgrid"],
                "indicationOfSubgrid": "true",
            },
            parameters,
        )
        cell_id = stable_id(f"form:{form_key}:cell:{self.name}")
        return element(
            "cell",
            {"id": cell_id, "showlabel": "true", "colspan": "2", "rowspan": "8"},
            label(self.label),
            control,
        )


@dataclass(frozen=True)
class Section:
    name: str
    label: str
    cells: tuple[Field | Subgrid, ...]

    def xml(self, form_key: str) -> ET.Element:
        rows = [element("row", {}, cell.cell(form_key)) for cell in self.cells]
        return element(
            "section",
            {
                "name": self.name,
                "id": stable_id(f"form:{form_key}:section:{self.name}"),
                "showlabel": "true",
                "showbar": "true",
                "columns": "1",
            },
            label(self.label),
            element("rows", {}, *rows),
        )


@dataclass(frozen=True)
class Tab:
    name: str
    label: str
    sections: tuple[Section, ...]

    def xml(self, form_key: str) -> ET.Element:
        column = element(
            "column",
            {"width": "100%"},
            element("sections", {}, *(s.xml(form_key) for s in self.sections)),
        )
        return element(
            "tab",
            {
                "name": self.name,
                "id": stable_id(f"form:{form_key}:tab:{self.name}"),
                "showlabel": "true",
                "expanded": "true",
            },
            label(self.label),
            element("columns", {}, column),
        )


@dataclass(frozen=True)
class Form:
    key: str
    table: Table
    name: str
    description: str
    tabs: tuple[Tab, ...]

    @property
    def id(self) -> str:
        return stable_id(f"form:{self.key}")

    def systemform(self) -> ET.Element:
        form = element("form", {}, element("tabs", {}, *(t.xml(self.key) for t in self.tabs)))
        return element(
            "systemform",
            {},
            text("formid", self.id),
            text("FormPresentation", 1),
            text("FormActivationState", 1),
            form,
            text("IsCustomizable", 1),
            text("CanBeDeleted", 0),
            labels("LocalizedNames", "LocalizedName", self.name),
            labels("Descriptions", "Description", self.description),
        )


def _kind(column: Column) -> str:
    return "url" if column.schema_name == "dxc_XeroUrl" else column.kind


def field(table: Table, schema_name: str, *, read_only: bool = False) -> Field:
    """A field for a column or lookup the package adds to `table`."""
    logical = own(table, schema_name)
    for lookup in table.lookups:
        if lookup.logical_name == logical:
            return Field(logical, lookup.label, "lookup", read_only)
    for column in (*table.columns, *(() if table.standard else (table.primary_name,))):
        if column.logical_name == logical:
            return Field(logical, column.label, _kind(column), read_only)
    raise KeyError(schema_name)


def standard_field(table: Table, logical_name: str, label: str) -> Field:
    return Field(standard(table, logical_name), label, _STANDARD_KINDS[logical_name])


def _setting_sections() -> tuple[Section, ...]:
    """One section per setting, headed by what it does, so the form explains each in place."""
    return tuple(
        Section(column.logical_name, column.description, (field(SETTINGS, column.schema_name),))
        for column in SETTINGS.columns
    )


def _customer_form(table: Table) -> Form:
    return Form(
        f"{table.logical_name}-xero",
        table,
        f"{table.label} (Xero)",
        f"The {table.label.lower()} with what it owes in Xero.",
        (
            Tab(
                "xero",
                "Xero",
                (
                    Section(
                        "xero",
                        "Xero",
                        (
                            standard_field(table, CUSTOMER_NAME[table.logical_name], "Name"),
                            field(table, "dxc_OutstandingBalance", read_only=True),
                            field(table, "dxc_OverdueBalance", read_only=True),
                            field(table, "dxc_XeroContactId", read_only=True),
                        ),
                    ),
                ),
            ),
        ),
    )


_XERO = "Xero"
INVOICE_FORM = Form(
    "invoice-xero",
    INVOICE,
    "Invoice (Xero)",
    "The invoice with its Xero details and sync history. Choose it with the form selector.",
    (
        Tab(
            "general",
            "Invoice",
            (
                Section(
                    "invoice",
                    "Invoice",
                    (
                        standard_field(INVOICE, "name", "Name"),
                        standard_field(INVOICE, "invoicenumber", "Invoice ID"),
                        standard_field(INVOICE, "customerid", "Customer"),
                        standard_field(INVOICE, "datedelivered", "Date delivered"),
                        standard_field(INVOICE, "totalamount", "Total amount"),
                        field(INVOICE, INVOICE_CONNECTOR.schema_name),
                    ),
                ),
            ),
        ),
        Tab(
            "xero",
            _XERO,
            (
                Section(
                    "xero_details",
                    "Xero details",
                    (
                        field(INVOICE, "dxc_ExportStatus"),
                        field(INVOICE, "dxc_ExportedOn", read_only=True),
                        field(INVOICE, "dxc_XeroInvoiceNumber", read_only=True),
                        field(INVOICE, "dxc_XeroStatus", read_only=True),
                        field(INVOICE, "dxc_XeroUrl", read_only=True),
                        field(INVOICE, "dxc_PaymentState", read_only=True),
                        field(INVOICE, "dxc_AmountDue", read_only=True),
                        field(INVOICE, "dxc_AmountPaid", read_only=True),
                        field(INVOICE, "dxc_AmountCredited", read_only=True),
                        field(INVOICE, "dxc_XeroTotalTax", read_only=True),
                    ),
                ),
                Section(
                    "sync_history",
                    "Sync history",
                    (
                        Subgrid(
                            "sync_history",
                            "Sync history",
                            HISTORY_INVOICE.relationship,
                            INVOICE_HISTORY,
                        ),
                    ),
                ),
            ),
        ),
    ),
)
FORMS: tuple[Form, ...] = (
    INVOICE_FORM,
    _customer_form(ACCOUNT),
    _customer_form(CONTACT),
    Form(
        "settings",
        SETTINGS,
        "Xero connector settings",
        "How invoices go to Xero; each setting says what it does.",
        (
            Tab(
                "settings",
                "Settings",
                (
                    Section(
                        "connector",
                        "Which connection",
                        (
                            field(SETTINGS, "dxc_Name"),
                            field(SETTINGS, SETTINGS_CONNECTOR.schema_name),
                        ),
                    ),
                    *_setting_sections(),
                ),
            ),
        ),
    ),
    Form(
        "connector",
        CONNECTOR,
        "Xero connector",
        "The Xero connection and whether it works.",
        (
            Tab(
                "connector",
                "Connector",
                (
                    Section(
                        "connector",
                        "Connector",
                        tuple(
                            field(CONNECTOR, c.schema_name, read_only=True)
                            for c in (CONNECTOR.primary_name, *CONNECTOR.columns)
                        ),
                    ),
                ),
            ),
        ),
    ),
    Form(
        "sync-history",
        SYNC_HISTORY,
        "Sync history",
        "One thing the connector did with an invoice, and why.",
        (
            Tab(
                "entry",
                "Sync history",
                (
                    Section(
                        "entry",
                        "Entry",
                        (
                            field(SYNC_HISTORY, "dxc_OccurredOn", read_only=True),
                            field(SYNC_HISTORY, "dxc_Outcome", read_only=True),
                            field(SYNC_HISTORY, HISTORY_INVOICE.schema_name, read_only=True),
                            field(SYNC_HISTORY, "dxc_Message", read_only=True),
                            field(SYNC_HISTORY, HISTORY_CONNECTOR.schema_name, read_only=True),
                        ),
                    ),
                ),
            ),
        ),
    ),
)
