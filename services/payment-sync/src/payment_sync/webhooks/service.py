"""What a Xero webhook delivery says, as pure functions: its signature, its events, and the
invoices and contacts they name per organisation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]

# A Xero delivery nests four deep; the bound keeps a hostile body from exhausting the parser's
# recursion (a 100,000-deep array would raise RecursionError).
MAX_JSON_DEPTH = 32
# A JSON string (skipped whole, brackets inside it included; an unterminated one runs to the
# end, so the scan stays linear) or a bracket.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def _nesting_within(body: bytes, limit: int) -> bool:
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return False
        elif token in (b"]", b"}"):
            depth -= 1
    return True


def signature_of(body: bytes, key: str) -> str:
    """Xero's `x-xero-signature`: base64 HMAC-SHA256 of the raw body with the webhook key."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def events_of(body: bytes) -> list[Event] | None:
    """The delivery's events; None when the body is not a Xero webhook payload (or nests
    deeper than MAX_JSON_DEPTH)."""
    if not _nesting_within(body, MAX_JSON_DEPTH):
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        return None
    return events


def tenant_of(event: Event) -> str:
    return str(event.get("tenantId") or "").lower()


@dataclass
class TenantChanges:
    """The invoice and contact ids one delivery names, per (lower-case) tenant id."""

    invoices: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    contacts: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, events: list[Event]) -> TenantChanges:
        changes = cls()
        for event in events:
            tenant = tenant_of(event)
            resource = str(event.get("resourceId") or "").lower()
            if not tenant or not resource:
                continue
            category = event.get("eventCategory")
            if event.get("eventType") == "CREATE":
                # A record just created has nothing for payment-sync yet: an invoice is one the
                # connector exported (and wrote back itself) or one it never links; a contact
                # owes nothing. The polling read still sees them (and their balances) in its
                # interval, so the connector's own exports cost no read of their own.
                continue
            if category == "INVOICE":
                changes.invoices[tenant].add(resource)
            elif category == "CONTACT":
                changes.contacts[tenant].add(resource)
        return changes

    def any_for(self, tenant: str) -> bool:
        return bool(self.invoices[tenant] or self.contacts[tenant])
