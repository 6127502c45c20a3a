"""Keeps each message in ``outbox`` (a list in memory) instead of sending it: for tests, as
``django.core.mail.outbox``. Empty it between tests (``outbox.clear()``)."""

from __future__ import annotations

from collections.abc import Sequence

from fangkong.notify.backends.base import SENT, BaseBackend, Outgoing, Result

outbox: list[Outgoing] = []
requests: list[list[Outgoing]] = []  # each call of ``send``: one provider request


class LocmemBackend(BaseBackend):
    name = "locmem"
    max_batch = 100

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        outbox.extend(messages)
        requests.append(list(messages))
        return [Result(id=m.id, status=SENT, message_id=f"locmem-{m.id}") for m in messages]
