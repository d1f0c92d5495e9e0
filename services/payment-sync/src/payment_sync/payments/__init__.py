"""Xero -> Dynamics 365 for invoices and customer balances: polling, webhook changes and the
change writer both end in."""
