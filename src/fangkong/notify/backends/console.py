"""Prints each message (phone masked) instead of sending it: the default, for development."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from fangkong.notify.backends.base import SENT, BaseBackend, Outgoing, Result
from fangkong.people.masking import mask_phone


class ConsoleBackend(BaseBackend):
    name = "console"
    max_batch = 100

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        for message in messages:
            self.stream.write(
                f"[SMS #{message.id}] {mask_phone(message.phone)} {message.template}: {message.body}\n"
            )
        self.stream.flush()
        return [Result(id=m.id, status=SENT, message_id=f"console-{m.id}") for m in messages]
