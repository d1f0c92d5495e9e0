"""What the change writer is asked to bring over from one Xero organisation."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from dxc_shared.xero.documents import Invoice


@dataclass(frozen=True)
class XeroChanges:
    """What changed in one Xero organisation: invoice ids, contact ids, and invoices already
    read (by the polling path), keyed by lower-case id."""

    invoice_ids: frozenset[str]
    contact_ids: frozenset[str] = frozenset()
    invoices_read: Mapping[str, Invoice] | None = None

    @classmethod
    def of(
        cls,
        invoice_ids: Collection[str] = (),
        contact_ids: Collection[str] = (),
        invoices_read: Collection[Invoice] = (),
    ) -> XeroChanges:
        read = {str(invoice.invoice_id).lower(): invoice for invoice in invoices_read}
        return cls(
            frozenset(i.lower() for i in invoice_ids) | frozenset(read),
            frozenset(c.lower() for c in contact_ids),
            read,
        )

    def merged(self, other: XeroChanges) -> XeroChanges:
        """Both notifications' ids (what either already read is read again)."""
        return XeroChanges(
            self.invoice_ids | other.invoice_ids, self.contact_ids | other.contact_ids
        )
