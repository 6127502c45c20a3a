"""Request-wide context (who, from where) that services read when they write the audit trail."""

from __future__ import annotations

from contextvars import ContextVar

client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)
