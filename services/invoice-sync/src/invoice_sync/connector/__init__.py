"""The connector record in Dynamics 365: its status and its settings row."""
