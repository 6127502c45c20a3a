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
import contextlib
import http.client
import ipaddress
import itertools
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

FORM = "/portal/help/"
TICKET_URL = re.compile(r"/portal/help/t/([^/]+)/\?new=1$")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CATEGORIES = ("medicine", "medical_care", "food", "care", "psychological", "other")
SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass
class Tally:
    """What one client (or all, merged) saw: outcomes, latencies in seconds, tickets given."""

    posts: int = 0
    accepted: int = 0
    duplicates: int = 0
    by_address: int = 0
    by_phone: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted_latencies: list[float] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    per_key: Counter[tuple[str, str]] = field(default_factory=Counter)  # (address or phone, outcome)
    seconds: float = 0.0

    def merge(self, other: Tally) -> None:
        for name in ("posts", "accepted", "duplicates", "by_address", "by_phone"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("errors", "latencies", "accepted_latencies", "tickets", "per_key"):
            getattr(self, name).__iadd__(getattr(other, name))


@dataclass(frozen=True)
class Mix:
    """How posts are made up: where to, which phones, how long to wait between them."""

    communities: list[tuple[int, int, int, list[int]]]  # district, street, community, grids
    fresh: itertools.count[int]
    shared: list[str]
    think: float


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds (0 when there is nothing)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))] * 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Client:
    """One resident's browser: a keep-alive connection, the CSRF cookie, the address the proxy reports."""

    def __init__(self, port: int, address: str, timeout: float) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.address = address
        self.cookies = "django_language=en"  # English messages tell the two 429s apart
        self.token = ""

    def request(self, method: str, body: str = "") -> tuple[int, dict[str, str], str]:
        headers = {"X-Forwarded-For": self.address, "Cookie": self.cookies, "Host": "127.0.0.1"}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, FORM, body=body.encode() if body else None, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except Exception:
            self.connection.close()  # the next request opens a new connection
            raise
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text

    def open_form(self) -> None:
        status, headers, text = self.request("GET")
        if status != 200:
            raise RuntimeError(f"GET {FORM} answered {status}")
        cookie: SimpleCookie = SimpleCookie(headers.get("set-cookie", ""))
        self.cookies += f"; csrftoken={cookie['csrftoken'].value}"
        found = TOKEN.search(text)
        if found is None:
            raise RuntimeError("no csrfmiddlewaretoken in the form")
        self.token = found.group(1)


def post_one(client: Client, mix: Mix, rng: random.Random, last: list[tuple[str, str]], tally: Tally) -> None:
    """One help request: pick its content, send it, file the answer in ``tally``."""
    district, street, community, grids = rng.choice(mix.communities)
    roll = rng.random()
    if roll < 0.15 and last:
        phone, category = last[-1]
    elif 0.15 <= roll < 0.30:
        phone, category = rng.choice(mix.shared), rng.choice(CATEGORIES)
    else:
        phone, category = f"139{next(mix.fresh):08d}", rng.choice(CATEGORIES)
    form = {
        "csrfmiddlewaretoken": client.token,
        "name": rng.choice(("张伟", "王芳", "李娜", "刘洋", "陈静", "Zhao Lei")),
        "phone": phone,
        "district": district,
        "street": street,
        "community": community,
        "grid": rng.choice(grids) if grids and rng.random() < 0.5 else "",
        "address": "3栋 502" if rng.random() < 0.5 else "",
        "category": category,
        "urgency": rng.choice(("urgent", "normal")),
        "description": rng.choice(("家中老人需要降压药", "need insulin, out of stock", "缺少蔬菜和米")),
    }
    started = time.perf_counter()
    try:
        status, headers, text = client.request("POST", urlencode(form))
    except TimeoutError:
        kind = "timeout"
    except Exception as error:  # every failure is an error to count
        kind = type(error).__name__
    else:
        kind = ""
    elapsed = time.perf_counter() - started
    tally.posts += 1
    tally.latencies.append(elapsed)
    if not kind:
        ticket = TICKET_URL.search(headers.get("location", "")) if status == 302 else None
        if ticket is not None:
            kind = "accepted"
            tally.accepted += 1
            tally.accepted_latencies.append(elapsed)
            tally.tickets.append(ticket.group(1))
            last.append((phone, category))
        elif status == 200 and 'data-testid="duplicate"' in text:
            kind = "duplicate"
            tally.duplicates += 1
        elif status == 429 and "from this connection" in text:
            kind = "by_address"
            tally.by_address += 1
        elif status == 429 and "This phone number" in text:
            kind = "by_phone"
            tally.by_phone += 1
        else:
            kind = f"HTTP {status}"
    if kind not in ("accepted", "duplicate", "by_address", "by_phone"):
        tally.errors[kind] += 1
        kind = "error"
    tally.per_key[(client.address, kind)] += 1
    tally.per_key[(phone, kind)] += 1


def limit_check(
    per_key: Counter[tuple[str, str]], *, keys: set[str], limit: int, rejected: str
) -> tuple[int, int]:
    """How many ``keys`` were let through more than ``limit`` times, and how many were refused
    (``rejected``) before ``limit`` uses were counted (errors count as uses: they may have been)."""
    over = early = 0
    counted = ("accepted", "duplicate", "by_phone") if rejected == "by_address" else ("accepted", "duplicate")
    for key in keys:
        used = sum(per_key[(key, outcome)] for outcome in counted)
        over += used > limit
        early += per_key[(key, rejected)] > 0 and used + per_key[(key, "error")] < limit
    return over, early


def run_clients(*, port: int, clients: int, sharing: int, seconds: float, mix: Mix, timeout: float) -> Tally:
    """``clients`` threads posting for ``seconds`` after all have their form, ``sharing`` of them
    behind each address; merged tallies."""
    tallies = [Tally() for _ in range(clients)]
    ready = threading.Barrier(clients + 1)
    start_at: list[float] = []

    def work(index: int) -> None:
        client = Client(port, str(ipaddress.IPv4Address("10.0.0.1") + index // sharing), timeout)
        rng = random.Random(index)
        try:
            client.open_form()
        except Exception as error:
            tallies[index].errors[f"GET form: {type(error).__name__}: {error}"] += 1
            ready.wait()
            return
        ready.wait()
        last: list[tuple[str, str]] = []
        deadline = start_at[0] + seconds
        while time.perf_counter() < deadline:
            post_one(client, mix, rng, last, tallies[index])
            if mix.think:
                time.sleep(rng.uniform(0, mix.think))
        client.connection.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_at.append(time.perf_counter() + 0.01)
    ready.wait()
    for thread in threads:
        thread.join()
    total = Tally(seconds=time.perf_counter() - start_at[0])
    for tally in tallies:
        total.merge(tally)
    return total


def run_peer(
    *, port: int, seconds: float, mix: Mix, per_address: int, phones_per_address: float, timeout: float
) -> Tally:
    """One client, one POST at a time, a new address every ``per_address`` posts.

    The shared phones grow with the addresses used, as many per address as in part 1.
    """
    tally, rng = Tally(), random.Random(2022)
    started = time.perf_counter()
    for index in itertools.count():
        if time.perf_counter() - started >= seconds:
            break
        while len(mix.shared) < 1 + int(index * phones_per_address):
            mix.shared.append(f"1360000{len(mix.shared):04d}")
        client = Client(port, str(ipaddress.IPv4Address("10.128.0.1") + index), timeout)
        client.open_form()
        last: list[tuple[str, str]] = []
        for _ in range(per_address):
            if time.perf_counter() - started >= seconds:
                break
            post_one(client, mix, rng, last, tally)
        client.connection.close()
    tally.seconds = time.perf_counter() - started
    return tally


def report(name: str, tally: Tally) -> None:
    rate = tally.posts / tally.seconds if tally.seconds else 0.0
    errors = ", ".join(f"{kind} {n:,}" for kind, n in tally.errors.most_common()) or "none"
    print(f"{name}: {tally.posts:,} POSTs answered in {tally.seconds:.1f} s = {rate:,.1f} POSTs/s")
    print(f"  accepted: {tally.accepted:,} ({tally.accepted / tally.seconds:,.1f}/s)")
    print(f"  duplicates acknowledged: {tally.duplicates:,}")
    print(
        f"  rejected (429): {tally.by_address + tally.by_phone:,} "
        f"(by address {tally.by_address:,}, by phone {tally.by_phone:,})"
    )
    print(f"  errors: {sum(tally.errors.values()):,} ({errors})")
    lat, acc = tally.latencies, tally.accepted_latencies
    print(
        f"  latency of the POST, ms: p50 {percentile(lat, 50):,.0f}, p95 {percentile(lat, 95):,.0f}, "
        f"p99 {percentile(lat, 99):,.0f}, max {percentile(lat, 100):,.0f}; accepted only: "
        f"p50 {percentile(acc, 50):,.0f}, p95 {percentile(acc, 95):,.0f}, p99 {percentile(acc, 99):,.0f}"
    )


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
