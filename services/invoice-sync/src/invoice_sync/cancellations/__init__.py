"""Cancelled or deleted exported invoices: what happens to them in Xero, exactly once. A pure
plan (`plan`), the steps that do the I/O (`steps`), the run that alternates them (`workflow`)."""
