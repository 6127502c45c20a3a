"""The served app for the load: gunicorn on a free port, a fresh database, CPU time, logged errors."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _load_clients import Client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Timeout)\b")
CHAINED = ("During handling", "The above exception")
OWN_FRAME = re.compile(r'^\s*File ".*/(fangkong/[^"]+)", line (\d+), in (\w+)')


def server_errors(log: Path) -> Counter[str]:
    """The last exception of each traceback (chain) gunicorn logged, with the innermost frame of
    fangkong's own code it went through, counted."""
    found: Counter[str] = Counter()
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    where = ""
    for at, line in enumerate(lines):
        frame = OWN_FRAME.match(line)
        if frame:
            where = f"{frame.group(1)}:{frame.group(2)} {frame.group(3)}"
        if not EXCEPTION.match(line):
            continue
        following = next((later for later in lines[at + 1 : at + 4] if later.strip()), "")
        if not following.startswith(CHAINED):
            found[f"{line[:160]} (in {where or 'no fangkong frame'})"] += 1
            where = ""
    return found


def cpu_seconds(master: int) -> tuple[float, float, float, float] | None:
    """CPU seconds of the server (master and workers) and of this process; machine busy and total
    jiffies (from ``/proc``, Linux only: None elsewhere)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        server = 0.0
        for pid in [str(master), *children]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            server += (int(fields[11]) + int(fields[12])) / tick
        jiffies = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return None
    own = os.times()
    idle = jiffies[3] + jiffies[4]
    return server, own.user + own.system, sum(jiffies) - idle, sum(jiffies)


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database on the server of ``server_url``, dropped afterwards ("" for SQLite)."""
    if not server_url:
        yield ""
        return
    import psycopg

    parts = urlsplit(server_url)
    name = f"fangkong_bench_{int(time.time())}_{os.getpid()}"
    known = parts.path if parts.path.strip("/") else "/postgres"  # to connect to while creating it
    maintenance = urlunsplit(("postgresql", parts.netloc, known, parts.query, ""))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def served(args: argparse.Namespace, env: dict[str, str], var_dir: str) -> Iterator[tuple[int, int, Path]]:
    """gunicorn on a free loopback port, up and answering the form: (its pid, the port, its log)."""
    port, log = free_port(), Path(var_dir) / "gunicorn.log"
    # fmt: off
    command = [
        sys.executable, "-m", "gunicorn", "fangkong.config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", str(args.workers), "--threads", str(args.threads),
        "--keep-alive", "120", "--timeout", "120", "--backlog", "2048",
    ]
    # fmt: on
    with log.open("ab") as output:  # its error log and Django's warnings, read back at the end
        server = subprocess.Popen(command, env=env, cwd=var_dir, stdout=output, stderr=output)
    try:
        for _ in range(300):
            if server.poll() is not None:
                tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{tail}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        Client(port, "10.255.255.254", args.timeout).open_form()  # the app answers before the clock starts
        yield server.pid, port, log
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
