"""invoice-sync: Dynamics 365 invoices, customers and products into Xero; cancellations."""
