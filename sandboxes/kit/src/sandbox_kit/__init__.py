"""What the Xero and Dynamics 365 sandboxes share: the clock, the settings base, fault
injection (one meaning in both) and the helpers of their sign-in pages."""
