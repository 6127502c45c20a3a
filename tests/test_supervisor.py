"""``fangkong demo`` keeps its worker and clock alive: a child that dies is started again, with a
message and a growing delay; the server's end ends the demo."""

from __future__ import annotations

import subprocess
import sys

from fangkong.supervisor import Child, supervise


def _python(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])  # noqa: S603 - our own command line


def test_a_dead_worker_is_restarted_with_a_message_and_a_growing_delay():
    server = _python("import time; time.sleep(120)")
    starts: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        starts.append(_python("raise SystemExit(3)"))
        if len(starts) == 2:
            server.terminate()  # ends the demo once the worker was started twice more
            server.wait()
        return starts[-1]

    worker = Child("worker", start, _python("raise SystemExit(3)"), delay=0.01)
    messages: list[str] = []
    try:
        code = supervise(server, [worker], poll=0.01, log=messages.append)
    finally:
        server.kill()
        for process in starts:
            process.wait()
    assert code != 0 and len(starts) == 2
    stopped = [m for m in messages if "stopped" in m]
    assert stopped[:2] == [
        "fangkong: the worker stopped (exit code 3); restarting it in 0 s",
        "fangkong: the worker stopped (exit code 3); restarting it in 0 s",
    ]
    assert worker.delay == 0.04  # doubled at each death: 0.01, 0.02, 0.04
    assert sum("started again" in m for m in messages) == 2
