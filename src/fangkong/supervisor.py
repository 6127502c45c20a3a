"""Keeping ``fangkong demo``'s background processes alive: a worker or clock that dies is
started again, with a message and a back-off (1 s, doubling to 60 s while it keeps dying; a
process that ran for a minute starts the count again). The web server is not restarted: when it
stops, the demo stops."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
HEALTHY_AFTER = 60.0


@dataclass
class Child:
    """A background process of the demo and how to start it again."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes]
    started_at: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = None


def supervise(
    server: subprocess.Popen[bytes],
    children: Sequence[Child],
    *,
    poll: float = 1.0,
    log: Callable[[str], None] = print,
) -> int:
    """Wait for ``server`` to end, restarting every child that dies meanwhile; returns the
    server's exit code."""
    for child in children:
        child.started_at = time.monotonic()
    while (code := server.poll()) is None:
        now = time.monotonic()
        for child in children:
            if child.restart_at is None and (died := child.process.poll()) is not None:
                if now - child.started_at >= HEALTHY_AFTER:
                    child.delay = FIRST_DELAY
                child.restart_at = now + child.delay
                log(
                    f"fangkong: the {child.name} stopped (exit code {died}); restarting it in {child.delay:.0f} s"
                )
                child.delay = min(child.delay * 2, MAX_DELAY)
            elif child.restart_at is not None and now >= child.restart_at:
                child.process, child.started_at, child.restart_at = child.start(), now, None
                log(f"fangkong: the {child.name} started again (pid {child.process.pid})")
        time.sleep(poll)
    return code
