"""Typed names for every Dynamics 365 column the workers read or write, and the state and
status codes they compare or set, so no worker spells a column or a code itself.

The connector's own columns come from `schema.py` (`Table.column` fails at import when a name is
not declared there); the standard columns of standard tables are declared here, once. Values are
logical names, as the Web API reads and writes them (`$select`, `$filter`, row keys, bodies).

Usage: `row[InvoiceColumns.XERO_INVOICE_ID]`, `{Common.STATE: InvoiceState.PAID}`.
"""

from __future__ import annotations

import enum
from typing import Final

from dxc_shared.dynamics import schema


class Common:
    """Columns every table has, and the annotation that carries a row's version."""

    STATE: Final = "statecode"
    STATUS: Final = "statuscode"
    CREATED_ON: Final = "createdon"
    MODIFIED_ON: Final = "modifiedon"
    VERSION_NUMBER: Final = "versionnumber"
    ETAG: Final = "@odata.etag"  # the row's version as read, for `If-Match`


class InvoiceState(enum.IntEnum):
    """The invoice's `statecode`. Paid and Canceled invoices are read-only."""

    ACTIVE = 0
    CLOSED = 1
    PAID = 2
    CANCELED = 3


class InvoiceStatus(enum.IntEnum):
    """The invoice's `statuscode` (each belongs to one state)."""

    NEW = 1  # Active
    COMPLETE = 100001  # Paid: fully paid
    PARTIAL = 100002  # Paid: partially paid
    CANCELED = 100003  # Canceled


class RowState(enum.IntEnum):
    """`statecode` of the connector's own tables (e.g. the mirrored Xero reference data)."""

    ACTIVE = 0
    INACTIVE = 1


class RowStatus(enum.IntEnum):
    """`statuscode` of the connector's own tables: one status per state."""

    ACTIVE = 1
    INACTIVE = 2


class InvoiceColumns:
    ENTITY_SET: Final = schema.INVOICE.entity_set
    ID: Final = schema.INVOICE.primary_id
    NUMBER: Final = "invoicenumber"
    NAME: Final = "name"
    CUSTOMER: Final = "_customerid_value"
    CURRENCY: Final = "_transactioncurrencyid_value"
    PRICE_LIST: Final = "_pricelevelid_value"
    DATE_DELIVERED: Final = "datedelivered"
    DUE_DATE: Final = "duedate"
    PAYMENT_TERMS: Final = "paymenttermscode"
    TOTAL_DISCOUNT: Final = "totaldiscountamount"  # the invoice-level discount, percentage included
    FREIGHT: Final = "freightamount"
    LINES: Final = "invoice_details"  # navigation property to the invoice's lines
    CONNECTOR: Final = schema.INVOICE_CONNECTOR.value_property
    EXPORT_STATUS: Final = schema.INVOICE.column("dxc_ExportStatus")
    EXPORTED_ON: Final = schema.INVOICE.column("dxc_ExportedOn")
    XERO_INVOICE_ID: Final = schema.INVOICE.column("dxc_XeroInvoiceId")
    XERO_INVOICE_NUMBER: Final = schema.INVOICE.column("dxc_XeroInvoiceNumber")
    XERO_STATUS: Final = schema.INVOICE.column("dxc_XeroStatus")
    XERO_URL: Final = schema.INVOICE.column("dxc_XeroUrl")
    XERO_TOTAL_TAX: Final = schema.INVOICE.column("dxc_XeroTotalTax")
    AMOUNT_DUE: Final = schema.INVOICE.column("dxc_AmountDue")
    AMOUNT_PAID: Final = schema.INVOICE.column("dxc_AmountPaid")
    AMOUNT_CREDITED: Final = schema.INVOICE.column("dxc_AmountCredited")
    PAYMENT_STATE: Final = schema.INVOICE.column("dxc_PaymentState")


class InvoiceLineColumns:
    ENTITY_SET: Final = schema.INVOICE_LINE.entity_set
    ID: Final = schema.INVOICE_LINE.primary_id
    LINE_NUMBER: Final = "lineitemnumber"
    PRODUCT: Final = "_productid_value"
    WRITE_IN: Final = "isproductoverridden"
    PRODUCT_DESCRIPTION: Final = "productdescription"
    DESCRIPTION: Final = "description"
    QUANTITY: Final = "quantity"
    PRICE_PER_UNIT: Final = "priceperunit"
    VOLUME_DISCOUNT: Final = "volumediscountamount"  # per unit
    MANUAL_DISCOUNT: Final = "manualdiscountamount"
    BASE_AMOUNT: Final = "baseamount"
    TAX: Final = "tax"
    TAX_RATE: Final = schema.LINE_TAX_RATE.value_property
    ACCOUNT: Final = schema.LINE_ACCOUNT.value_property


class _CustomerColumns:
    """What accounts and contacts share: the link to the Xero contact and its balances."""

    XERO_CONTACT_ID: Final = schema.ACCOUNT.column("dxc_XeroContactId")
    PHONE: Final = "telephone1"
    # The billing address: lines, city, state or province, postal code, country.
    ADDRESS: Final = (
        "address1_line1",
        "address1_line2",
        "address1_city",
        "address1_stateorprovince",
        "address1_postalcode",
        "address1_country",
    )
    OUTSTANDING_BALANCE: Final = schema.ACCOUNT.column("dxc_OutstandingBalance")
    OVERDUE_BALANCE: Final = schema.ACCOUNT.column("dxc_OverdueBalance")


class AccountColumns(_CustomerColumns):
    ENTITY_SET: Final = schema.ACCOUNT.entity_set
    ID: Final = schema.ACCOUNT.primary_id
    NAME: Final = "name"
    ACCOUNT_NUMBER: Final = "accountnumber"
    EMAIL: Final = "emailaddress1"


class ContactColumns(_CustomerColumns):
    ENTITY_SET: Final = schema.CONTACT.entity_set
    ID: Final = schema.CONTACT.primary_id
    FULL_NAME: Final = "fullname"
    FIRST_NAME: Final = "firstname"
    LAST_NAME: Final = "lastname"
    EMAIL: Final = "emailaddress1"


class ProductColumns:
    ENTITY_SET: Final = "products"
    ID: Final = "productid"
    NUMBER: Final = "productnumber"
    NAME: Final = "name"
    DESCRIPTION: Final = "description"
    PRICE: Final = "price"


class CurrencyColumns:
    ENTITY_SET: Final = "transactioncurrencies"
    ID: Final = "transactioncurrencyid"
    ISO_CODE: Final = "isocurrencycode"


class ConnectorColumns:
    ENTITY_SET: Final = schema.CONNECTOR.entity_set
    ID: Final = schema.CONNECTOR.primary_id
    CONNECTION_ID: Final = schema.CONNECTOR.column("dxc_ConnectionId")
    XERO_ORGANISATION: Final = schema.CONNECTOR.column("dxc_XeroOrganisation")
    STATUS: Final = schema.CONNECTOR.column("dxc_Status")
    STATUS_MESSAGE: Final = schema.CONNECTOR.column("dxc_StatusMessage")
    LAST_SYNC_ON: Final = schema.CONNECTOR.column("dxc_LastSyncOn")


class SettingsColumns:
    ENTITY_SET: Final = schema.SETTINGS.entity_set
    ID: Final = schema.SETTINGS.primary_id
    CONNECTOR: Final = schema.SETTINGS_CONNECTOR.value_property
    USE_XERO_INVOICE_NUMBER: Final = schema.SETTINGS.column("dxc_UseXeroInvoiceNumber")
    CREATE_CONTACTS: Final = schema.SETTINGS.column("dxc_CreateContacts")
    CREATE_PRODUCTS: Final = schema.SETTINGS.column("dxc_CreateProducts")
    DEFAULT_INVOICE_STATUS: Final = schema.SETTINGS.column("dxc_DefaultInvoiceStatus")
    DEFAULT_SALES_ACCOUNT_CODE: Final = schema.SETTINGS.column("dxc_DefaultSalesAccountCode")
    DEFAULT_PURCHASE_ACCOUNT_CODE: Final = schema.SETTINGS.column("dxc_DefaultPurchaseAccountCode")
    CREATE_CREDIT_NOTES: Final = schema.SETTINGS.column("dxc_CreateCreditNotes")
    LINE_AMOUNT_TYPES: Final = schema.SETTINGS.column("dxc_LineAmountTypes")
    FREIGHT_ACCOUNT_CODE: Final = schema.SETTINGS.column("dxc_FreightAccountCode")
    FREIGHT_TAX_TYPE: Final = schema.SETTINGS.column("dxc_FreightTaxType")
    DEFAULT_PAYMENT_TERMS_DAYS: Final = schema.SETTINGS.column("dxc_DefaultPaymentTermsDays")


class SyncHistoryColumns:
    ENTITY_SET: Final = schema.SYNC_HISTORY.entity_set
    OCCURRED_ON: Final = schema.SYNC_HISTORY.column("dxc_OccurredOn")
    OUTCOME: Final = schema.SYNC_HISTORY.column("dxc_Outcome")
    MESSAGE: Final = schema.SYNC_HISTORY.column("dxc_Message")


class TaxRateColumns:
    ENTITY_SET: Final = schema.TAX_RATES.entity_set
    ID: Final = schema.TAX_RATES.primary_id
    CONNECTOR: Final = schema.TAX_RATES.lookups[0].value_property
    NAME: Final = schema.TAX_RATES.column("dxc_Name")
    TAX_TYPE: Final = schema.TAX_RATES.column("dxc_TaxType")
    RATE: Final = schema.TAX_RATES.column("dxc_Rate")


class XeroAccountColumns:
    ENTITY_SET: Final = schema.ACCOUNTS.entity_set
    ID: Final = schema.ACCOUNTS.primary_id
    CONNECTOR: Final = schema.ACCOUNTS.lookups[0].value_property
    NAME: Final = schema.ACCOUNTS.column("dxc_Name")
    CODE: Final = schema.ACCOUNTS.column("dxc_Code")
    ACCOUNT_TYPE: Final = schema.ACCOUNTS.column("dxc_AccountType")
    TAX_TYPE: Final = schema.ACCOUNTS.column("dxc_TaxType")


class BrandingThemeColumns:
    ENTITY_SET: Final = schema.BRANDING_THEMES.entity_set
    ID: Final = schema.BRANDING_THEMES.primary_id
    CONNECTOR: Final = schema.BRANDING_THEMES.lookups[0].value_property
    NAME: Final = schema.BRANDING_THEMES.column("dxc_Name")
    BRANDING_THEME_ID: Final = schema.BRANDING_THEMES.column("dxc_BrandingThemeId")
