"""Fixed-window rate limits shared by every process (public forms, login).

``rate_limited(key=..., limit=..., window=...)`` says whether ``key`` has used up its ``limit``
in the current window; ``rate_count(...)`` counts one more use. A window is aligned to the epoch
so that all processes agree on it; counters of past windows are deleted as they are passed.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fangkong.common.models import RateCounter


def _window_start(window: timedelta, now: datetime) -> datetime:
    seconds = window.total_seconds()
    return datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, tz=now.tzinfo)


def rate_used(*, key: str, window: timedelta) -> int:
    start = _window_start(window, timezone.now())
    return (
        RateCounter.objects.filter(key=key, window_start=start).values_list("count", flat=True).first() or 0
    )


def rate_limited(*, key: str, limit: int, window: timedelta) -> bool:
    """Whether ``key`` has been counted ``limit`` times or more in the current window."""
    return rate_used(key=key, window=window) >= limit


def rate_count(*, key: str, window: timedelta, limit: int | None = None) -> int:
    """Count one use of ``key`` in the current window; returns the count so far.

    With ``limit``, a key already past it is not counted again (the answer stays "past the
    limit"): a flood of refused requests then reads instead of writing.
    """
    if limit is not None:
        used = rate_used(key=key, window=window)
        if used > limit:
            return used
    start = _window_start(window, timezone.now())
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=start, count=1)
            except IntegrityError:  # another process created it first
                RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        RateCounter.objects.filter(key=key, window_start__lt=start - window).delete()
    return rate_used(key=key, window=window)


def retry_after(*, window: timedelta) -> int:
    """Seconds until the current window ends."""
    now = timezone.now()
    return max(1, int((_window_start(window, now) + window - now).total_seconds()))
