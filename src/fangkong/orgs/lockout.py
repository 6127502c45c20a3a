"""The login lockout, shared by the staff login and the admin login.

Rules:

- Failures are counted per account AND address. The first ``FREE_FAILURES`` cost nothing; after
  the n-th failure (n ≥ ``FREE_FAILURES``) that account may be tried again from that address
  only after ``BASE_DELAY × 2^(n − FREE_FAILURES)`` (30 s, 1 min, 2 min, …, at most
  ``MAX_DELAY``). A try during the wait is refused before the password is checked, and is not
  counted. A success clears the pair; a pair quiet for ``FORGET_AFTER`` is forgotten.
- Other addresses are not touched: a stranger who guesses at a named account delays only
  himself, never the account's owner at their own desk.
- One address that fails ``ADDRESS_LIMIT`` times in ``ADDRESS_WINDOW``, over any accounts
  (password spraying), is refused until the window ends.
- Usernames are compared trimmed and in lower case (``Zhao`` and ``zhao`` share one count).
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from fangkong.common.ratelimit import rate_count, rate_limited, retry_after
from fangkong.orgs.models import LoginFailure

FREE_FAILURES = 5
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)
ADDRESS_LIMIT = 30
ADDRESS_WINDOW = timedelta(minutes=15)


def login_username(raw: object) -> str:
    """The username as the lockout counts it."""
    return str(raw or "").strip().lower()[:150]


def delay_after(failures: int) -> timedelta:
    """How long the next try waits after ``failures`` failures in a row (growing, capped)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    delay: timedelta = BASE_DELAY * 2 ** min(failures - FREE_FAILURES, 20)
    return min(delay, MAX_DELAY)


def _address_key(address: str) -> str:
    return f"login:ip:{address}"


def login_wait(*, username: str, address: str) -> int:
    """Seconds before ``username`` may be tried again from ``address`` (0: now)."""
    now = timezone.now()
    waits = [0]
    row = LoginFailure.objects.filter(username=login_username(username), address=address[:64]).first()
    if row is not None and now - row.last_failed_at < FORGET_AFTER:
        until = row.last_failed_at + delay_after(row.failures)
        if until > now:
            waits.append(math.ceil((until - now).total_seconds()))
    if rate_limited(key=_address_key(address), limit=ADDRESS_LIMIT, window=ADDRESS_WINDOW):
        waits.append(retry_after(window=ADDRESS_WINDOW))
    return max(waits)


@transaction.atomic
def login_failure_record(*, username: str, address: str) -> int:
    """Count a failed login of ``username`` from ``address``; returns the seconds the next try
    from there must wait. Pairs quiet for ``FORGET_AFTER`` are deleted on the way."""
    now = timezone.now()
    LoginFailure.objects.filter(last_failed_at__lt=now - FORGET_AFTER).delete()
    row, _created = LoginFailure.objects.select_for_update().get_or_create(
        username=login_username(username), address=address[:64], defaults={"last_failed_at": now}
    )
    row.failures += 1
    row.last_failed_at = now
    row.save(update_fields=["failures", "last_failed_at"])
    rate_count(key=_address_key(address), window=ADDRESS_WINDOW, limit=ADDRESS_LIMIT)
    return math.ceil(delay_after(row.failures).total_seconds())


def login_success_record(*, username: str, address: str) -> None:
    """A login succeeded: the pair's count starts again from nothing."""
    LoginFailure.objects.filter(username=login_username(username), address=address[:64]).delete()
