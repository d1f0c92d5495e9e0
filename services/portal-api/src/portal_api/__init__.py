"""portal-api: users, connections, plans, billing, OAuth connect flows and the checklist."""
