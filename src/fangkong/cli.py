"""The ``fangkong`` command.

fangkong demo        migrate, load the demo city once, run the web server and the worker
fangkong serve       the web server (gunicorn in production: see README)
fangkong worker      the background worker (Django tasks, database queue); it first retries or fails
                     the jobs whose worker stopped (``jobs_sweep``)
fangkong scheduler   the clock: enqueues the periodic sweeps (escalation each minute, daily sweeps)
fangkong synth-mobility --people N --days D --out DIR [--seed S]
                     synthetic location pings and venue check-ins of a city, as Parquet
fangkong purge-mobility --dataset DIR --older-than DAYS
                     delete location data past the look-back
fangkong trace --case NUMBER --user USERNAME [--start T] [--end T] [--enqueue]
                     find a case's contacts in the location data and venue check-ins
fangkong report --date D [--unit CODE] [--user U] [--out F] [--charts DIR] [--lang zh-hans|en]
                     the daily report for the leadership as PDF (and PNG charts)
fangkong check-work [--fix]
                     open work items their subject no longer needs, live subjects missing theirs
fangkong backup DEST [--keys FILE]
                     an online backup of the database into DEST, the keys into a separate archive
fangkong restore SRC [--keys FILE] [--force] [--database-url URL]
                     restore a backup after checking its checksums and that its keys read it
fangkong <command>   any Django management command (migrate, createsuperuser, demo_load, ...)
"""

from __future__ import annotations

import contextlib
import os
import runpy
import signal
import subprocess
import sys
from collections.abc import Sequence

DEFAULT_ADDR = "127.0.0.1:8000"


def _django(argv: Sequence[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["fangkong", *argv])


def _spawn(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "fangkong.cli", *argv])  # noqa: S603 (our own argv)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def demo(addr: str = DEFAULT_ADDR) -> int:
    """Set up and run the platform on its embedded defaults; Ctrl-C stops server and worker. A
    worker or clock that dies is started again (``fangkong.supervisor``)."""
    from fangkong.supervisor import Child, supervise

    signal.signal(signal.SIGTERM, _interrupt)  # a supervisor's stop ends server and worker too
    os.environ.setdefault("FANGKONG_PUBLIC_URL", f"http://{addr}")  # the links in the demo's texts
    _django(["migrate", "--no-input", "-v", "0"])
    _django(["demo_load"])
    children = [
        Child("worker", lambda: _spawn(["worker"]), _spawn(["worker"])),
        Child("clock", lambda: _spawn(["scheduler"]), _spawn(["scheduler"])),
    ]
    server = _spawn(["runserver", addr, "--noreload", "--skip-checks"])
    print(
        f"\nfangkong is running at http://{addr}/  (API docs: http://{addr}/api/docs) — Ctrl-C stops it.\n",
        flush=True,
    )
    try:
        return supervise(server, children)
    except KeyboardInterrupt:
        return 0
    finally:
        processes = (server, *(child.process for child in children))
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def scheduler() -> int:
    """Run the clock (``fangkong.config.schedule``) until stopped; SIGTERM or Ctrl-C end it quietly."""
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        runpy.run_module("fangkong.config.schedule", run_name="__main__")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = args[0], args[1:]
    if command == "demo":
        return demo(rest[0] if rest else DEFAULT_ADDR)
    if command == "serve":
        _django(["runserver", rest[0] if rest else DEFAULT_ADDR, "--noreload"])
        return 0
    if command == "scheduler":
        return scheduler()
    if command == "purge-mobility":
        sys.argv = ["fangkong purge-mobility", *rest]
        runpy.run_module("fangkong.engine.retention", run_name="__main__")
        return 0
    if command == "synth-mobility":
        sys.argv = ["fangkong synth-mobility", *rest]
        runpy.run_module("fangkong.engine.synth", run_name="__main__")
        return 0
    if command == "trace":
        _django(["contacts_trace", *rest])
        return 0
    if command == "check-work":
        _django(["check_work", *rest])
        return 0
    if command == "report":
        _django(["dashboard_report", *rest])
        return 0
    if command == "worker":
        _django(["jobs_sweep"])
        _django(["db_worker", "--queue-name", "*", "--no-reload", *rest])
        return 0
    _django(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
