"""What every SMS backend is: ``max_batch`` and ``send(messages) -> list[Result]``.

A backend answers one ``Result`` per message it was given:
- ``sent``: the provider accepted it;
- ``failed``: the provider said no, or the request surely never left (a refused connection):
  nothing was sent, and a person may send it again;
- ``unknown``: the request may have reached the provider and no clear answer came back (a
  timeout, a dropped connection, a server error). It may have been delivered; it is never sent
  again by itself (a resident would get it twice).
A backend that raises is read as ``unknown`` for the whole batch by the sender.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SENT, FAILED, UNKNOWN = "sent", "failed", "unknown"


@dataclass(frozen=True)
class Outgoing:
    """A message as a backend sees it: the number in plaintext, 11 digits or +E.164."""

    id: int
    phone: str
    template: str
    params: Mapping[str, str]
    body: str


@dataclass(frozen=True)
class Result:
    id: int
    status: str  # SENT, FAILED or UNKNOWN
    batch_id: str = ""
    message_id: str = ""
    error: str = ""


class BaseBackend:
    name = "base"
    max_batch = 100  # messages in one provider request at most

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        raise NotImplementedError


def all_as(messages: Sequence[Outgoing], status: str, *, error: str = "", batch_id: str = "") -> list[Result]:
    """The same outcome for each of ``messages``."""
    return [Result(id=m.id, status=status, error=error, batch_id=batch_id) for m in messages]
