"""Text messages go to the in-memory backend in these tests, and the outbox list starts empty."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.notify.backends import locmem


@pytest.fixture(autouse=True)
def sms_locmem(settings: Any) -> list[Any]:
    settings.FANGKONG_SMS_BACKEND = "fangkong.notify.backends.locmem.LocmemBackend"
    settings.FANGKONG_SMS_DAILY_LIMIT = 3
    locmem.outbox.clear()
    locmem.requests.clear()
    return locmem.outbox
