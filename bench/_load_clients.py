"""The load's clients: what they post, how they tally the answers, the two runs and their report."""

from __future__ import annotations

import http.client
import ipaddress
import itertools
import math
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

FORM = "/portal/help/"
TICKET_URL = re.compile(r"/portal/help/t/([^/]+)/\?new=1$")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CATEGORIES = ("medicine", "medical_care", "food", "care", "psychological", "other")


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
