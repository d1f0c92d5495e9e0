"""token-broker's own metrics: refresh outcomes and grants lost, for the operators' alerts."""

from prometheus_client import Counter

TOKEN_REFRESHES = Counter(
    "dxc_token_broker_refreshes_total",
    "Access-token refreshes at the identity provider, by provider and result: ok, rejected "
    "(the grant is gone) or unavailable (the provider failed; tried again on the next request)",
    ["provider", "result"],
)
REAUTHORISATION_NEEDED = Counter(
    "dxc_token_broker_reauthorisation_needed_total",
    "Grants that can no longer be refreshed, so a person must reconnect",
    ["provider"],
)
