"""token-broker: stores OAuth credentials encrypted, refreshes them and hands out access tokens."""
