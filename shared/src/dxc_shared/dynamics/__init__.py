"""The connector's footprint in Dynamics 365: its tables and columns, and how to install them."""
