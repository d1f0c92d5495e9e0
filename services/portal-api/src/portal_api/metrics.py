"""portal-api's own metrics: sign-ups, sign-ins, e-mail delivery and the connect flows."""

from prometheus_client import Counter

SIGNUPS = Counter("dxc_portal_signups_total", "Accounts registered (each starts a trial)")
LOGINS = Counter(
    "dxc_portal_logins_total",
    "Sign-in attempts by result: ok, wrong (bad e-mail or password) or throttled",
    ["result"],
)
EMAILS = Counter(
    "dxc_portal_emails_total",
    "E-mail send attempts by result: sent, failed (retried later) or rate_limited (never sent)",
    ["result"],
)
OAUTH_CALLBACKS = Counter(
    "dxc_portal_oauth_callbacks_total",
    "Returns from Xero or Microsoft sign-in, by provider and result: connected or failed",
    ["provider", "result"],
)
PUSH_POSTS = Counter(
    "dxc_portal_push_posts_total",
    "Dataverse webhook posts by outcome: queued (a sync request is pending), joined (coalesced "
    "into it), ignored, refused (wrong secret: 401), malformed or too_large",
    ["outcome"],
)
