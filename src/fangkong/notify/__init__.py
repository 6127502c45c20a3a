"""Text messages (短信) to residents: an outbox, pluggable providers, limits (docs/notifications.md)."""
