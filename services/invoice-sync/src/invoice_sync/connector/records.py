"""The connector record and its settings, as invoice-sync reads them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dxc_shared.dynamics.schema import DefaultInvoiceStatus

from invoice_sync.kit.dataverse import column

_STATUS_NAMES: dict[int, str] = {status.value: status.name for status in DefaultInvoiceStatus}

SETTINGS_COLUMN = {
    "xero_number": column("dxc_UseXeroInvoiceNumber"),
    "contacts": column("dxc_CreateContacts"),
    "products": column("dxc_CreateProducts"),
    "status": column("dxc_DefaultInvoiceStatus"),
    "sales_account": column("dxc_DefaultSalesAccountCode"),
    "credit_notes": column("dxc_CreateCreditNotes"),
}


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

        def flag(name: str, default: bool) -> bool:
            value = row.get(SETTINGS_COLUMN[name])
            return default if value is None else bool(value)

        status = row.get(SETTINGS_COLUMN["status"])
        account = (row.get(SETTINGS_COLUMN["sales_account"]) or "").strip()
        return cls(
            use_xero_invoice_number=flag("xero_number", defaults.use_xero_invoice_number),
            create_contacts=flag("contacts", defaults.create_contacts),
            create_products=flag("products", defaults.create_products),
            create_credit_notes=flag("credit_notes", defaults.create_credit_notes),
            default_status=_STATUS_NAMES.get(status, defaults.default_status)
            if isinstance(status, int)
            else defaults.default_status,
            sales_account_code=account or defaults.sales_account_code,
        )
