"""The connector record and its settings, as invoice-sync reads them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dxc_shared.dynamics.columns import SettingsColumns
from dxc_shared.dynamics.schema import DefaultInvoiceStatus, LineAmountTypes

_STATUS_NAMES: dict[int, str] = {status.value: status.name for status in DefaultInvoiceStatus}
_AMOUNT_TYPES: dict[int, str] = {
    LineAmountTypes.EXCLUSIVE: "Exclusive",
    LineAmountTypes.INCLUSIVE: "Inclusive",
    LineAmountTypes.NO_TAX: "NoTax",
}

SETTINGS_COLUMNS = [
    SettingsColumns.USE_XERO_INVOICE_NUMBER,
    SettingsColumns.CREATE_CONTACTS,
    SettingsColumns.CREATE_PRODUCTS,
    SettingsColumns.DEFAULT_INVOICE_STATUS,
    SettingsColumns.DEFAULT_SALES_ACCOUNT_CODE,
    SettingsColumns.CREATE_CREDIT_NOTES,
    SettingsColumns.LINE_AMOUNT_TYPES,
    SettingsColumns.FREIGHT_ACCOUNT_CODE,
    SettingsColumns.FREIGHT_TAX_TYPE,
    SettingsColumns.DEFAULT_PAYMENT_TERMS_DAYS,
]


@dataclass(frozen=True)
class Connector:
    id: str
    status: int | None


@dataclass(frozen=True)
class ConnectorSettings:
    """The connector's settings row; an absent row or column means the documented default."""

    use_xero_invoice_number: bool = True
    create_contacts: bool = True
    create_products: bool = True
    default_status: str = "DRAFT"
    sales_account_code: str = "200"
    create_credit_notes: bool = False
    line_amount_types: str = "Exclusive"
    freight_account_code: str | None = None  # None: the sales account code
    # No tax on freight by default: Dynamics has no line to hold the tax Xero would add.
    freight_tax_type: str = "NONE"
    default_payment_days: int | None = None  # None: Xero's payment terms apply

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> ConnectorSettings:
        if row is None:
            return cls()
        defaults = cls()

        def flag(column: str, default: bool) -> bool:
            value = row.get(column)
            return default if value is None else bool(value)

        def text(column: str) -> str:
            return str(row.get(column) or "").strip()

        status = row.get(SettingsColumns.DEFAULT_INVOICE_STATUS)
        amount_types = row.get(SettingsColumns.LINE_AMOUNT_TYPES)
        days = row.get(SettingsColumns.DEFAULT_PAYMENT_TERMS_DAYS)
        return cls(
            use_xero_invoice_number=flag(
                SettingsColumns.USE_XERO_INVOICE_NUMBER, defaults.use_xero_invoice_number
            ),
            create_contacts=flag(SettingsColumns.CREATE_CONTACTS, defaults.create_contacts),
            create_products=flag(SettingsColumns.CREATE_PRODUCTS, defaults.create_products),
            create_credit_notes=flag(
                SettingsColumns.CREATE_CREDIT_NOTES, defaults.create_credit_notes
            ),
            default_status=_STATUS_NAMES.get(status, defaults.default_status)
            if isinstance(status, int)
            else defaults.default_status,
            sales_account_code=text(SettingsColumns.DEFAULT_SALES_ACCOUNT_CODE)
            or defaults.sales_account_code,
            line_amount_types=_AMOUNT_TYPES.get(amount_types, defaults.line_amount_types)
            if isinstance(amount_types, int)
            else defaults.line_amount_types,
            freight_account_code=text(SettingsColumns.FREIGHT_ACCOUNT_CODE) or None,
            freight_tax_type=text(SettingsColumns.FREIGHT_TAX_TYPE) or defaults.freight_tax_type,
            default_payment_days=days if isinstance(days, int) and days >= 0 else None,
        )
