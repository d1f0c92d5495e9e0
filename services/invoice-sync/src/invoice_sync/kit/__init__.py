"""Plumbing the domains share: time zones, idempotency keys, the sync history row, the run's
context."""
