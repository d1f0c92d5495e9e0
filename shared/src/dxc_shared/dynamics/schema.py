"""The connector's own tables and columns in Dynamics 365, defined once.

The connector's Dataverse solution (`solution/`) is generated from these definitions, and
portal-api installs it (`installer.py`); invoice-sync and payment-sync read and write them by
these names. Publisher prefix: `dxc`. Every table, column and lookup carries a description a
finance user understands: Dynamics shows it beside the field.

A note on the invoice's export status: Dataverse applies a choice's default only in forms, so an
invoice created through the API after installation has no export status. Readers treat an empty
export status as `ExportStatus.NO` (never exported).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal


class ExportStatus(enum.IntEnum):
    NO = 100000000
    YES = 100000001
    FAILED = 100000002
    UPDATE = 100000003  # set by a person on an exported invoice: push its changes to Xero


class SyncOutcome(enum.IntEnum):
    SUCCESS = 100000000
    FAILED = 100000001
    SKIPPED = 100000002
    INFORMATION = 100000003


class ConnectorStatus(enum.IntEnum):
    ACTIVE = 100000000
    REAUTHORISATION_NEEDED = 100000001
    INACTIVE = 100000002


class PaymentState(enum.IntEnum):
    """What Xero shows of an exported invoice's payment (payment-sync keeps it): a choice, so a
    Dynamics view can filter on it (e.g. every Part paid invoice)."""

    NOT_PAID = 100000000  # nothing paid yet (a credit note may have reduced what is due)
    PART_PAID = 100000001  # a payment received, something still due
    PAID = 100000002  # nothing due: paid, credited, or both (Xero status PAID)
    VOIDED_OR_DELETED = 100000003  # nothing due: Xero status VOIDED or DELETED


class DefaultInvoiceStatus(enum.IntEnum):
    DRAFT = 100000000
    SUBMITTED = 100000001
    AUTHORISED = 100000002


class LineAmountTypes(enum.IntEnum):
    """Whether Dynamics' amounts are sent to Xero as tax exclusive, tax inclusive or untaxed."""

    EXCLUSIVE = 100000000
    INCLUSIVE = 100000001
    NO_TAX = 100000002


CHOICE_LABELS: dict[type[enum.IntEnum], dict[int, str]] = {
    ExportStatus: {
        ExportStatus.NO: "No",
        ExportStatus.YES: "Yes",
        ExportStatus.FAILED: "Failed",
        ExportStatus.UPDATE: "Update in Xero",
    },
    SyncOutcome: {
        SyncOutcome.SUCCESS: "Success",
        SyncOutcome.FAILED: "Failed",
        SyncOutcome.SKIPPED: "Skipped",
        SyncOutcome.INFORMATION: "Information",
    },
    ConnectorStatus: {
        ConnectorStatus.ACTIVE: "Active",
        ConnectorStatus.REAUTHORISATION_NEEDED: "Re-authorisation needed",
        ConnectorStatus.INACTIVE: "Inactive",
    },
    PaymentState: {
        PaymentState.NOT_PAID: "Not paid",
        PaymentState.PART_PAID: "Part paid",
        PaymentState.PAID: "Paid",
        PaymentState.VOIDED_OR_DELETED: "Voided or deleted",
    },
    DefaultInvoiceStatus: {
        DefaultInvoiceStatus.DRAFT: "DRAFT",
        DefaultInvoiceStatus.SUBMITTED: "SUBMITTED",
        DefaultInvoiceStatus.AUTHORISED: "AUTHORISED",
    },
    LineAmountTypes: {
        LineAmountTypes.EXCLUSIVE: "Tax exclusive",
        LineAmountTypes.INCLUSIVE: "Tax inclusive",
        LineAmountTypes.NO_TAX: "No tax",
    },
}

ColumnKind = Literal[
    "string", "memo", "boolean", "datetime", "money", "decimal", "integer", "choice"
]


@dataclass(frozen=True)
class Column:
    schema_name: str
    label: str
    kind: ColumnKind
    max_length: int | None = None
    choices: type[enum.IntEnum] | None = None
    description: str = ""

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()


@dataclass(frozen=True)
class Lookup:
    """A lookup column, created with the one-to-many relationship it belongs to."""

    schema_name: str
    label: str
    target: str  # the referenced table's logical name
    relationship: str
    description: str = ""

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    @property
    def value_property(self) -> str:
        """How reads name the referenced id: `_dxc_connectorid_value`."""
        return f"_{self.logical_name}_value"

    def bind(self, entity_set: str, row_id: str) -> dict[str, str]:
        """The `@odata.bind` member that sets this lookup (navigation names are case-sensitive:
        the schema name)."""
        return {f"{self.schema_name}@odata.bind": f"/{entity_set}({row_id})"}


@dataclass(frozen=True)
class Table:
    """A table of the connector's own (`columns` and `lookups`), or the connector's additions
    to a standard table (`standard=True`)."""

    schema_name: str
    label: str
    plural_label: str
    entity_set: str
    columns: tuple[Column, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    standard: bool = False
    change_tracking: bool = False
    primary_name: Column = field(
        default_factory=lambda: Column(
            "dxc_Name", "Name", "string", 200, description="The name lists show."
        )
    )
    description: str = ""

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    @property
    def primary_id(self) -> str:
        return f"{self.logical_name}id"

    def column(self, schema_name: str) -> str:
        """The logical name of one of this table's columns declared here (`KeyError` when it
        is not declared: a misspelt column fails at import, not in a request)."""
        own_name: tuple[Column, ...] = () if self.standard else (self.primary_name,)
        for column in (*self.columns, *own_name):
            if column.schema_name == schema_name:
                return column.logical_name
        raise KeyError(f"{self.schema_name} declares no column {schema_name}")


def _connector_lookup(table: str, description: str) -> Lookup:
    """Every table that belongs to a connector points at it through `dxc_ConnectorId`."""
    return Lookup(
        "dxc_ConnectorId", "Connector", "dxc_connector", f"dxc_connector_{table}", description
    )


_OF_CONNECTOR = "The Xero connection this row belongs to."


SETTINGS_CONNECTOR = _connector_lookup(
    "dxc_connectorsetting", "The Xero connection these settings apply to."
)
HISTORY_CONNECTOR = _connector_lookup("dxc_synchistory", "The Xero connection that synced.")
HISTORY_INVOICE = Lookup(
    "dxc_InvoiceId",
    "Invoice",
    "invoice",
    "dxc_invoice_dxc_synchistory",
    "The invoice this entry is about.",
)
INVOICE_CONNECTOR = _connector_lookup(
    "invoice",
    "Set it when the invoice is ready to go to Xero: the connector sends it on its next run.",
)
LINE_TAX_RATE = Lookup(
    "dxc_TaxRateId",
    "Xero tax rate",
    "dxc_xerotaxrate",
    "dxc_xerotaxrate_invoicedetail",
    "The Xero tax rate for this line. Empty: the Xero item's, else the account's.",
)
LINE_ACCOUNT = Lookup(
    "dxc_AccountId",
    "Xero account",
    "dxc_xeroaccount",
    "dxc_xeroaccount_invoicedetail",
    "The Xero account for this line. Empty: the default Xero sales account code.",
)


CONNECTOR = Table(
    "dxc_Connector",
    "Xero connector",
    "Xero connectors",
    "dxc_connectors",
    description="One row per Xero connection: which Xero organisation invoices go to, and "
    "whether the connector is working.",
    columns=(
        Column(
            "dxc_ConnectionId",
            "Portal connection id",
            "string",
            64,
            description="The connection in the connector's portal this row stands for.",
        ),
        Column(
            "dxc_XeroOrganisation",
            "Xero organisation",
            "string",
            200,
            description="The Xero organisation invoices are sent to.",
        ),
        Column(
            "dxc_Status",
            "Status",
            "choice",
            choices=ConnectorStatus,
            description="Active: syncing. Re-authorisation needed: sign in to Xero again in "
            "the portal. Inactive: the subscription has ended.",
        ),
        Column(
            "dxc_StatusMessage",
            "Status message",
            "memo",
            4000,
            description="Why the connector is not Active, and what to do about it.",
        ),
        Column(
            "dxc_LastSyncOn",
            "Last sync",
            "datetime",
            description="When the connector last finished a run.",
        ),
    ),
)
SETTINGS = Table(
    "dxc_ConnectorSetting",
    "Xero connector settings",
    "Xero connector settings",
    "dxc_connectorsettings",
    description="How invoices go to Xero. The connector reads them at every run.",
    columns=(
        Column(
            "dxc_UseXeroInvoiceNumber",
            "Use Xero invoice number",
            "boolean",
            description="Yes: Xero numbers the invoice. No: the Dynamics invoice number is "
            "the Xero invoice number.",
        ),
        Column(
            "dxc_CreateContacts",
            "Create new contacts in Xero",
            "boolean",
            description="Yes: a customer Xero does not know yet is created in Xero. No: the "
            "invoice is not sent and its sync history says why.",
        ),
        Column(
            "dxc_CreateProducts",
            "Create new products in Xero",
            "boolean",
            description="Yes: a product Xero does not know yet is created as a Xero item. No: "
            "the line is sent without an item code.",
        ),
        Column(
            "dxc_DefaultInvoiceStatus",
            "Default Xero invoice status",
            "choice",
            choices=DefaultInvoiceStatus,
            description="The status invoices get in Xero: DRAFT, SUBMITTED (awaiting "
            "approval) or AUTHORISED (approved, can be paid).",
        ),
        Column(
            "dxc_DefaultSalesAccountCode",
            "Default Xero sales account code",
            "string",
            10,
            description="The Xero account of lines that name none (e.g. 200, Sales).",
        ),
        Column(
            "dxc_DefaultPurchaseAccountCode",
            "Default Xero purchase account code",
            "string",
            10,
            description="The Xero account of purchase lines that name none.",
        ),
        Column(
            "dxc_CreateCreditNotes",
            "Create credit note automatically",
            "boolean",
            description="Yes: cancelling or deleting an exported invoice in Dynamics credits "
            "or deletes it in Xero. No: nothing changes in Xero.",
        ),
        Column(
            "dxc_LineAmountTypes",
            "Xero line amounts",
            "choice",
            choices=LineAmountTypes,
            description="How Xero reads the Dynamics amounts: Tax exclusive (empty: the "
            "default; Xero adds tax), Tax inclusive (the amounts hold the tax) or No tax.",
        ),
        Column(
            "dxc_FreightAccountCode",
            "Xero freight account code",
            "string",
            10,
            description="The account of the Xero line that carries an invoice's freight. "
            "Empty: the default Xero sales account code.",
        ),
        Column(
            "dxc_FreightTaxType",
            "Xero freight tax type",
            "string",
            50,
            description="The tax type of the freight line. Empty: NONE (no tax), as Dynamics "
            "has no line to hold tax on freight.",
        ),
        Column(
            "dxc_DefaultPaymentTermsDays",
            "Default payment terms (days)",
            "integer",
            description="Days after the invoice date an invoice is due when it has neither a "
            "due date nor payment terms in Dynamics. Empty: the Xero contact's or "
            "organisation's payment terms.",
        ),
    ),
    lookups=(SETTINGS_CONNECTOR,),
)
SYNC_HISTORY = Table(
    "dxc_SyncHistory",
    "Sync history",
    "Sync history",
    "dxc_synchistories",
    description="What the connector did with an invoice, and why, each time it tried.",
    columns=(
        Column("dxc_OccurredOn", "Occurred on", "datetime", description="When it happened."),
        Column(
            "dxc_Outcome",
            "Outcome",
            "choice",
            choices=SyncOutcome,
            description="Success: in Xero. Failed: not in Xero; the message says why. "
            "Skipped: not sent yet; the message says what it waits for. Information: news "
            "from Xero.",
        ),
        Column(
            "dxc_Message",
            "Message",
            "memo",
            4000,
            description="What happened, in words; on a failure, what to fix.",
        ),
    ),
    lookups=(HISTORY_INVOICE, HISTORY_CONNECTOR),
)
TAX_RATES = Table(
    "dxc_XeroTaxRate",
    "Xero tax rate",
    "Xero tax rates",
    "dxc_xerotaxrates",
    description="The Xero organisation's tax rates, copied by the connector to pick on lines.",
    columns=(
        Column("dxc_TaxType", "Tax type", "string", 50, description="Xero's tax type code."),
        Column("dxc_Rate", "Rate (%)", "decimal", description="The rate, in percent."),
    ),
    lookups=(_connector_lookup("dxc_xerotaxrate", _OF_CONNECTOR),),
)
ACCOUNTS = Table(
    "dxc_XeroAccount",
    "Xero account",
    "Xero chart of accounts",
    "dxc_xeroaccounts",
    description="The Xero organisation's chart of accounts, copied by the connector.",
    columns=(
        Column("dxc_Code", "Code", "string", 10, description="The account code in Xero."),
        Column("dxc_AccountType", "Type", "string", 50, description="Xero's account type."),
        Column("dxc_TaxType", "Tax type", "string", 50, description="The account's default tax."),
    ),
    lookups=(_connector_lookup("dxc_xeroaccount", _OF_CONNECTOR),),
)
BRANDING_THEMES = Table(
    "dxc_XeroBrandingTheme",
    "Xero branding theme",
    "Xero branding themes",
    "dxc_xerobrandingthemes",
    description="The Xero organisation's invoice branding themes, copied by the connector.",
    columns=(
        Column(
            "dxc_BrandingThemeId",
            "Branding theme id",
            "string",
            36,
            description="The theme's id in Xero.",
        ),
    ),
    lookups=(_connector_lookup("dxc_xerobrandingtheme", _OF_CONNECTOR),),
)
INVOICE = Table(
    "Invoice",
    "Invoice",
    "Invoices",
    "invoices",
    standard=True,
    columns=(
        Column(
            "dxc_ExportStatus",
            "Xero export status",
            "choice",
            choices=ExportStatus,
            description="No: send the invoice to Xero when it is ready. Yes: it is in Xero. "
            "Failed: it could not be sent (see its sync history); fix the cause and set it back "
            "to No. Update in Xero: choose it on an invoice already in Xero to send the changes "
            "made since; it goes back to Yes once Xero has them.",
        ),
        Column(
            "dxc_ExportedOn",
            "Xero export date",
            "datetime",
            description="When the connector last sent the invoice to Xero.",
        ),
        Column(
            "dxc_XeroInvoiceId",
            "Xero invoice id",
            "string",
            36,
            description="The invoice's id in Xero.",
        ),
        Column(
            "dxc_XeroInvoiceNumber",
            "Xero invoice number",
            "string",
            255,
            description="The invoice's number in Xero.",
        ),
        Column(
            "dxc_XeroStatus",
            "Xero invoice status",
            "string",
            20,
            description="DRAFT, SUBMITTED, AUTHORISED, PAID, VOIDED or DELETED, as Xero shows.",
        ),
        Column(
            "dxc_XeroUrl",
            "Xero invoice URL",
            "string",
            500,
            description="Opens the invoice in Xero.",
        ),
        Column("dxc_XeroTotalTax", "Xero tax", "money", description="The tax Xero calculated."),
        Column(
            "dxc_AmountDue",
            "Amount due",
            "money",
            description="What Xero says is still to be paid.",
        ),
        Column("dxc_AmountPaid", "Amount paid", "money", description="Payments Xero received."),
        Column(
            "dxc_AmountCredited",
            "Amount credited",
            "money",
            description="Credit notes, prepayments and overpayments allocated in Xero.",
        ),
        Column(
            "dxc_PaymentState",
            "Xero payment state",
            "choice",
            choices=PaymentState,
            description="Not paid, Part paid, Paid, or Voided or deleted, as Xero shows it.",
        ),
    ),
    lookups=(INVOICE_CONNECTOR,),
)
INVOICE_LINE = Table(
    "InvoiceDetail",
    "Invoice product",
    "Invoice products",
    "invoicedetails",
    standard=True,
    lookups=(LINE_TAX_RATE, LINE_ACCOUNT),
)
_CUSTOMER_COLUMNS = (
    Column(
        "dxc_XeroContactId",
        "Xero contact id",
        "string",
        36,
        description="The customer's contact in Xero (the connector fills it in).",
    ),
    Column(
        "dxc_OutstandingBalance",
        "Xero outstanding",
        "money",
        description="What the customer owes on invoices in Xero.",
    ),
    Column(
        "dxc_OverdueBalance",
        "Xero overdue",
        "money",
        description="The part of it that is past its due date.",
    ),
)
ACCOUNT = Table(
    "Account", "Account", "Accounts", "accounts", standard=True, columns=_CUSTOMER_COLUMNS
)
CONTACT = Table(
    "Contact", "Contact", "Contacts", "contacts", standard=True, columns=_CUSTOMER_COLUMNS
)

# In installation order: a lookup's target table exists before the lookup is created.
TABLES: tuple[Table, ...] = (
    CONNECTOR,
    SETTINGS,
    SYNC_HISTORY,
    TAX_RATES,
    ACCOUNTS,
    BRANDING_THEMES,
    INVOICE,
    INVOICE_LINE,
    ACCOUNT,
    CONTACT,
)

# What the connector's Dynamics user must be allowed to do, in words a person understands: the
# privileges of the solution's "Xero Connector User" security role, exactly (the install guide's
# list: invoices, accounts and contacts read-write, products and users read, the connector's
# tables read-write; and currencies read, which every invoice names). Invoice lines are governed
# by the invoice's privileges; users' by `prvReadUser`. Append/AppendTo let the connector point
# its rows (sync history, reference data) at their invoice and connector. Nothing is deleted,
# and no standard row is created.
REQUIRED_PRIVILEGES: dict[str, str] = {
    "prvReadInvoice": "read invoices and their lines",
    "prvWriteInvoice": "update invoices and their lines",
    "prvAppendToInvoice": "link sync history to invoices",
    "prvReadAccount": "read accounts",
    "prvWriteAccount": "update accounts",
    "prvReadContact": "read contacts",
    "prvWriteContact": "update contacts",
    "prvReadProduct": "read products",
    "prvReadTransactionCurrency": "read currencies",
    "prvReadUser": "read users",
    "prvAppendTodxc_Connector": "link rows to the Xero connector",
    **{
        f"prv{verb}{table.schema_name}": words.format(table.plural_label.lower())
        for table in TABLES
        if not table.standard
        for verb, words in (
            ("Create", "create {}"),
            ("Read", "read {}"),
            ("Write", "update {}"),
            ("Append", "point {} at their connector or invoice"),
        )
    },
}
