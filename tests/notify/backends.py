"""Backends that misbehave on purpose, for the sender's rules."""

from __future__ import annotations

from collections.abc import Sequence

from fangkong.notify.backends.base import FAILED, UNKNOWN, Outgoing, Result, all_as
from fangkong.notify.backends.locmem import LocmemBackend

calls: list[list[int]] = []


class SmallBatchBackend(LocmemBackend):
    name = "small"
    max_batch = 3


class RejectingBackend(LocmemBackend):
    """The provider says no to every message (a definite answer)."""

    name = "rejecting"

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        calls.append([m.id for m in messages])
        return all_as(messages, FAILED, error="isv.MOBILE_NUMBER_ILLEGAL: bad number")


class TimeoutBackend(LocmemBackend):
    """The request left and no answer came back."""

    name = "timeout"

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        calls.append([m.id for m in messages])
        return all_as(messages, UNKNOWN, error="transport: TimeoutError: timed out")


class CrashingBackend(LocmemBackend):
    name = "crashing"

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        calls.append([m.id for m in messages])
        raise RuntimeError("the SDK broke")
