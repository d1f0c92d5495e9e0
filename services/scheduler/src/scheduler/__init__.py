"""scheduler: decides when each connection is due and dispatches its sync jobs."""
