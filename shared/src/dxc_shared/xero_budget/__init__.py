"""One Xero call budget per organisation, shared by every service through PostgreSQL:
`decisions` (the rules, pure), `repository` (the rows), `budget` (what a Xero client asks)."""
