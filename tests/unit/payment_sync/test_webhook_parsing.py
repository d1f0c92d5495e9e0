"""What a Xero webhook delivery names, per organisation."""

from __future__ import annotations

import pytest
from payment_sync.webhooks.service import TenantChanges, events_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"events": {}}', b'{"events": [1]}', b"{}", b'"events"'],
)
def test_a_body_that_is_not_a_webhook_payload(body: bytes) -> None:
    assert events_of(body) is None


def test_events_are_grouped_per_tenant_in_lower_case() -> None:
    events = events_of(
        b'{"events": ['
        b'{"tenantId": "T1", "resourceId": "INV-A", "eventCategory": "INVOICE"},'
        b'{"tenantId": "t1", "resourceId": "inv-a", "eventCategory": "INVOICE"},'
        b'{"tenantId": "T1", "resourceId": "C-1", "eventCategory": "CONTACT"},'
        b'{"tenantId": "T2", "resourceId": "CN-1", "eventCategory": "CREDITNOTE"},'
        b'{"tenantId": "", "resourceId": "X", "eventCategory": "INVOICE"},'
        b'{"tenantId": "T3", "eventCategory": "INVOICE"},'
        b'{"tenantId": "T1", "resourceId": "INV-B", "eventCategory": "INVOICE",'
        b' "eventType": "CREATE"},'
        b'{"tenantId": "T1", "resourceId": "C-2", "eventCategory": "CONTACT",'
        b' "eventType": "CREATE"},'
        b'{"tenantId": "T1", "resourceId": "INV-C", "eventCategory": "INVOICE",'
        b' "eventType": "UPDATE"}'
        b"]}"
    )
    assert events is not None

    changes = TenantChanges.of(events)

    # Created records wait for the poll: only changes to existing ones are read at once.
    assert (dict(changes.invoices), dict(changes.contacts)) == (
        {"t1": {"inv-a", "inv-c"}},
        {"t1": {"c-1"}},
    )
    assert [changes.any_for(tenant) for tenant in ("t1", "t2", "t3")] == [True, False, False]


def test_an_intent_to_receive_check_has_no_events() -> None:
    assert events_of(b'{"events": [], "firstEventSequence": 0}') == []
