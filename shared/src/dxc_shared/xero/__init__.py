"""Xero's Accounting API documents, typed once for the connector's client and the sandbox."""
