"""The connections payment-sync serves, as portal-api describes them."""
