"""Plumbing shared by every dx-connector service: settings, database, bus, outbox, logging,
metrics and the FastAPI service shell."""
