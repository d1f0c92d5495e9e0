"""The connector record and its settings, as invoice-sync reads them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dxc_shared.dynamics.columns import SettingsColumns
from dxc_shared.dynamics.schema import DefaultInvoiceStatus

_STATUS_NAMES: dict[int, str] = {status.value: status.name for status in DefaultInvoiceStatus}

SETTINGS_COLUMNS = [
    SettingsColumns.USE_XERO_INVOICE_NUMBER,
    SettingsColumns.CREATE_CONTACTS,
    SettingsColumns.CREATE_PRODUCTS,
    SettingsColumns.DEFAULT_INVOICE_STATUS,
    SettingsColumns.DEFAULT_SALES_ACCOUNT_CODE,
    SettingsColumns.CREATE_CREDIT_NOTES,
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

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> ConnectorSettings:
        if row is None:
            return cls()
        defaults = cls()

        def flag(column: str, default: bool) -> bool:
            value = row.get(column)
            return default if value is None else bool(value)

        status = row.get(SettingsColumns.DEFAULT_INVOICE_STATUS)
        account = (row.get(SettingsColumns.DEFAULT_SALES_ACCOUNT_CODE) or "").strip()
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
            sales_account_code=account or defaults.sales_account_code,
        )
