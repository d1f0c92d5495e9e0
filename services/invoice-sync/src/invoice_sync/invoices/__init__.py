"""Ready Dynamics 365 invoices into Xero, exactly once: a pure plan of what each invoice needs
(`plan`), the steps that do the I/O (`steps`), and the run that alternates them (`workflow`)."""
