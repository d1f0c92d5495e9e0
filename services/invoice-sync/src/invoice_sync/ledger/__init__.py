"""invoice-sync's own records: the per-connection lease and the ledger of exports."""
