"""Xero's webhook endpoint."""
