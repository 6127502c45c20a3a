"""Request-wide context (who, from where) that services read when they write the audit trail."""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest

client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def client_address(request: HttpRequest) -> str:
    """The client's address, for rate limits and the audit trail.

    ``REMOTE_ADDR`` unless the platform runs behind reverse proxies: with
    ``FANGKONG_TRUSTED_PROXIES = n`` (env), the address is the n-th entry from the right of
    ``X-Forwarded-For`` — the one the outermost trusted proxy saw. Entries further left are
    written by the client and never trusted.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    hops = settings.FANGKONG_TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    return forwarded[-hops] if len(forwarded) >= hops else remote
