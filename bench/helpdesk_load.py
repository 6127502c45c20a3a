"""Help requests under load: concurrent residents posting the public form to the served app.

    .venv/bin/python bench/helpdesk_load.py [--clients 200] [--seconds 60] [--peer-seconds 10]
        [--clients-per-address 4] [--shared-phones 20] [--think 0.05] [--workers 3] [--threads 8]
        [--database-url postgres://postgres@127.0.0.1:5432/]

Serves the app with gunicorn (gthread) on 127.0.0.1 and a free port, as behind one reverse proxy
(``FANGKONG_TRUSTED_PROXIES=1``), on a fresh database: SQLite in a temporary directory by default,
or a new PostgreSQL database created through ``--database-url`` (or ``DATABASE_URL``: the server
to use) and dropped afterwards. Migrates and loads the demo city's org tree (``--residents`` few
residents), then:

1. ``--clients`` clients (threads, ``http.client``, one keep-alive connection each) GET the form
   once for the CSRF cookie and token, then POST help requests one after another for
   ``--seconds``, with a random think time of 0 to ``--think`` seconds between them. The proxy's
   ``X-Forwarded-For`` gives every ``--clients-per-address`` clients one address (a carrier's
   NAT), so that the per-address limit (``FORM_LIMIT_PER_ADDRESS`` an hour, read from
   ``helpdesk.public_views``) rejects posts within the run. Each POST is for a random community
   (a grid one time in two); its phone is fresh (70 %), the client's last accepted phone and need
   again (15 %: a resident pressing send twice, which the duplicate guard acknowledges), or one
   of ``--shared-phones`` phones that every client uses (15 %: the per-phone limit,
   ``FORM_LIMIT_PER_PHONE`` a day).
2. The peer: one client alone, one POST at a time, no think time, the same mix, moving to a new
   address after as many posts as an address of part 1 received, for ``--peer-seconds``.

Prints, for both: POSTs answered, accepted (302 to the ticket), duplicates acknowledged (200),
rejected (429, by address and by phone), errors (anything else: 5xx, 4xx, timeouts, connection
errors, shown by kind), p50/p95/p99 latency of the POST (all and accepted only), throughput, and
for part 1 the CPU seconds of the server and the clients and how busy the machine was; then
the ratios: part 1's throughput over the peer's (what 200 clients at once get from the server
beyond one client alone) and its latencies over the peer's (the price of queueing). Last, the
check: every ticket a client was given is in the database and the database holds no other help
request. Prints ``lost: 0``, or the losses and exit status 1. Also checked, from what the clients
were answered: no address or phone let through beyond its limit nor refused before it, and
(from the database) no phone and need stored twice within the duplicate window. Server errors
logged by gunicorn are summarised by their exception line and where in fangkong they arose.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from _load_clients import Mix, Tally, limit_check, percentile, report, run_clients, run_peer
from _served import cpu_seconds, fresh_database, served, server_errors

SRC = Path(__file__).resolve().parent.parent / "src"


def communities_to_choose() -> list[tuple[int, int, int, list[int]]]:
    """(district, street, community, its grids) for every community of the tree."""
    from fangkong.orgs.models import Level, OrgUnit

    units = {unit.pk: unit for unit in OrgUnit.objects.all()}
    grids: dict[int, list[int]] = {}
    for unit in units.values():
        if unit.level == Level.GRID and unit.parent_id is not None:
            grids.setdefault(unit.parent_id, []).append(unit.pk)
    chosen = []
    for unit in units.values():
        if unit.level == Level.COMMUNITY and unit.parent_id is not None:
            street = units[unit.parent_id]
            assert street.parent_id is not None
            chosen.append((street.parent_id, street.pk, unit.pk, grids.get(unit.pk, [])))
    return chosen


def print_ratios(load: Tally, peer: Tally) -> None:
    def ratio(ours: float, theirs: float) -> float:
        return ours / theirs if theirs else float("inf")

    latencies = ", ".join(
        f"p{p} {ratio(percentile(load.latencies, p), percentile(peer.latencies, p)):,.1f}×"
        for p in (50, 95, 99)
    )
    print(
        f"ratio: {ratio(load.posts / load.seconds, peer.posts / peer.seconds):,.2f}× the peer's POSTs/s, "
        f"{ratio(load.accepted / load.seconds, peer.accepted / peer.seconds):,.2f}× its accepted/s; "
        f"latency {latencies} the peer's"
    )


def print_limit_checks(per_key: Counter[tuple[str, str]], crossed: tuple[bool, bool]) -> None:
    from fangkong.helpdesk.public_views import FORM_LIMIT_PER_ADDRESS, FORM_LIMIT_PER_PHONE

    addresses = {key for key, _ in per_key if key.count(".") == 3}
    phones = {key for key, _ in per_key} - addresses
    for what, keys, limit, rejected, new_window in (
        ("per-address", addresses, FORM_LIMIT_PER_ADDRESS, "by_address", crossed[0]),
        ("per-phone", phones, FORM_LIMIT_PER_PHONE, "by_phone", crossed[1]),
    ):
        if new_window:
            print(f"note: the run crossed the start of a new {what} window: that limit is not checked")
            continue
        over, early = limit_check(per_key, keys=keys, limit=limit, rejected=rejected)
        print(f"{what} limit ({limit}): {over:,} of {len(keys):,} let through more, {early:,} refused before")


def check_database(tickets: list[str]) -> int:
    """Exactly the requests the clients were given tickets for are stored: prints ``lost``; 1 if not."""
    from fangkong.helpdesk.models import HelpRequest
    from fangkong.helpdesk.services import DUPLICATE_WINDOW

    stored = set(HelpRequest.objects.values_list("ticket", flat=True))
    lost, unanswered, reused = set(tickets) - stored, stored - set(tickets), len(tickets) - len(set(tickets))
    print(f"database: {len(stored):,} help requests; tickets given to clients: {len(tickets):,}")
    if unanswered:
        print(f"stored but never acknowledged to a client: {len(unanswered):,}")
    if reused:
        print(f"tickets given twice: {reused:,}")
    rows = HelpRequest.objects.order_by("phone_index", "category", "submitted_at")
    previous: tuple[str, str, datetime] | None = None
    gaps = []  # a second request for the same phone and need within the window: the guard missed it
    for phone_index, category, at in rows.values_list("phone_index", "category", "submitted_at"):
        if previous and previous[:2] == (phone_index, category) and at - previous[2] < DUPLICATE_WINDOW:
            gaps.append((at - previous[2]).total_seconds() * 1000)
        previous = (phone_index, category, at)
    if gaps:
        shown = ", ".join(f"{gap:,.0f}" for gap in sorted(gaps)[:5])
        print(
            f"duplicate guard let through: {len(gaps):,} requests (same phone and need within "
            f"{DUPLICATE_WINDOW}), stored {shown} ms after the first"
        )
    print(f"lost: {len(lost):,}")
    return 1 if lost or unanswered or reused else 0


def main(var_dir: str) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--peer-seconds", type=float, default=10.0)
    parser.add_argument("--clients-per-address", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.05, help="most seconds between two posts")
    parser.add_argument("--shared-phones", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request")
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="a server")
    args = parser.parse_args()

    with fresh_database(args.database_url) as database_url:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
        env.update(
            FANGKONG_VAR_DIR=var_dir,  # local keys (and the SQLite file) live here only
            FANGKONG_TRUSTED_PROXIES="1",
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1",
            LOG_LEVEL="WARNING",
            **({"DATABASE_URL": database_url} if database_url else {}),
        )
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(SRC))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from fangkong.demo.load import demo_load
        from fangkong.helpdesk.public_views import (
            FORM_LIMIT_PER_ADDRESS,
            FORM_LIMIT_PER_PHONE,
            FORM_WINDOW,
            PHONE_WINDOW,
        )

        db = settings.DATABASES["default"]
        print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        call_command("migrate", verbosity=0)  # also writes the local keys the workers will share
        demo_load(residents=args.residents)
        communities = communities_to_choose()
        connection.close()

        def windows() -> tuple[int, int]:
            now = time.time()
            return int(now // FORM_WINDOW.total_seconds()), int(now // PHONE_WINDOW.total_seconds())

        with served(args, env, var_dir) as (pid, port, log):
            print(
                f"server: gunicorn gthread, {args.workers} workers × {args.threads} threads, "
                f"127.0.0.1:{port}, FANGKONG_TRUSTED_PROXIES=1; {len(communities)} communities"
            )
            print(
                f"load: {args.clients} clients for {args.seconds:.0f} s, {args.clients_per_address} per "
                f"address, think time 0–{args.think * 1000:.0f} ms, {args.shared_phones} shared phones; "
                f"limits {FORM_LIMIT_PER_ADDRESS} per address per {FORM_WINDOW.total_seconds() / 3600:g} h, "
                f"{FORM_LIMIT_PER_PHONE} per phone per {PHONE_WINDOW.total_seconds() / 3600:g} h; "
                f"peer: 1 client for {args.peer_seconds:.0f} s, no think time"
            )
            windows_before, cpu_before = windows(), cpu_seconds(pid)
            shared = [f"1370000{i:04d}" for i in range(args.shared_phones)]
            load = run_clients(
                port=port,
                clients=args.clients,
                sharing=args.clients_per_address,
                seconds=args.seconds,
                mix=Mix(communities, itertools.count(), shared, args.think),
                timeout=args.timeout,
            )
            cpu_after = cpu_seconds(pid)
            report(f"{args.clients} clients", load)
            if cpu_before and cpu_after:
                used = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
                print(
                    f"  CPU: gunicorn {used[0]:,.1f} s, clients {used[1]:,.1f} s, in {load.seconds:.1f} s "
                    f"on {os.cpu_count()} cores (machine busy {used[2] / used[3] * 100:.0f} %, all processes)"
                )
            addresses = -(-args.clients // args.clients_per_address)
            per_address = max(1, round(load.posts / addresses))
            peer = run_peer(
                port=port,
                seconds=args.peer_seconds,
                mix=Mix(communities, itertools.count(50_000_000), [], 0),
                per_address=per_address,
                phones_per_address=args.shared_phones / addresses,
                timeout=args.timeout,
            )
            report(f"peer, 1 client ({per_address} posts per address)", peer)
            windows_after = windows()
        print_ratios(load, peer)
        print_limit_checks(
            load.per_key + peer.per_key,
            (windows_before[0] != windows_after[0], windows_before[1] != windows_after[1]),
        )
        for line, count in server_errors(log).most_common(8):
            print(f"server error ×{count}: {line}")
        status = check_database(load.tickets + peer.tickets)
        connection.close()
        return status


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    scratch = tempfile.mkdtemp(prefix="fangkong-bench-")
    try:
        sys.exit(main(scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
