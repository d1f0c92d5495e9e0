"""payment-sync: Xero status, tax, payments, balances and reference data back into Dynamics 365."""
