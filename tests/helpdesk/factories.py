"""Help requests as the public form would send them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fangkong.helpdesk.models import HelpRequest
from fangkong.helpdesk.services import RequestData, help_request_submit

_phones = iter(range(13_800_000_000, 13_900_000_000))


def make_request(
    *,
    community: Any,
    urgency: str = "urgent",
    category: str = "medicine",
    phone: str | None = None,
    now: datetime | None = None,
    description: str = "需要降压药，家里老人断药两天了",
    **extra: Any,
) -> HelpRequest:
    data = RequestData(
        name=extra.pop("name", "王小明"),
        phone=phone or str(next(_phones)),
        community_id=community.pk,
        category=category,
        urgency=urgency,
        description=description,
        **extra,
    )
    return help_request_submit(data=data, now=now).request
