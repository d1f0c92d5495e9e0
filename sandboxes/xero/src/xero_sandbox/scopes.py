"""OAuth scopes the sandbox knows, and which ones open each Accounting API area."""

from __future__ import annotations

from typing import Literal

Area = Literal["invoices", "payments", "contacts", "settings"]

IDENTITY_SCOPES = {"openid", "profile", "email", "offline_access"}

# Granular scopes (required of apps created since 2026) and the older broad ones they split.
_AREA_SCOPES: dict[Area, tuple[str, ...]] = {
    "invoices": ("accounting.invoices", "accounting.transactions"),
    "payments": ("accounting.payments", "accounting.transactions"),
    "contacts": ("accounting.contacts",),
    "settings": ("accounting.settings",),
}

ACCOUNTING_SCOPES = {
    scope + suffix
    for scopes in _AREA_SCOPES.values()
    for scope in scopes
    for suffix in ("", ".read")
} | {
    "accounting.reports.read",
    "accounting.journals.read",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.banktransactions",
    "accounting.banktransactions.read",
}

KNOWN_SCOPES = IDENTITY_SCOPES | ACCOUNTING_SCOPES


def allows(granted: list[str], area: Area, write: bool) -> bool:
    """A write needs the full scope; a read is also allowed by its ``.read`` variant."""
    for scope in _AREA_SCOPES[area]:
        if scope in granted or (not write and f"{scope}.read" in granted):
            return True
    return False
