"""Xero's reference data (tax rates, accounts, branding themes) mirrored into Dynamics 365."""
