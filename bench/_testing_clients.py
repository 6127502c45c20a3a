"""The collectors of bench/testing.py: phones logged in as their own sampler, each opening a tube,
scanning people's 核酸码 into it up to its size and closing it, again and again, over HTTP."""

from __future__ import annotations

import collections
import http.client
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TUBE_URL = re.compile(r"/testing/tubes/(\d+)/$")
COUNT = re.compile(r'data-count="(\d+)" data-capacity="(\d+)"')  # the tube, or the count in place
SAID = re.compile(r'data-testid="scan-said"[^>]*>([^<]*)<')
REASONS = (  # the refusal's English text (the phones ask for English) → its kind
    ("already sampled", "already sampled"),
    ("is full", "tube full"),
    ("is closed", "tube closed"),
    ("Unknown code", "unknown code"),
    ("may not sample", "not allowed"),
)


@dataclass
class Tally:
    """What one phone (or all, merged) was answered; latencies in seconds, times by perf_counter."""

    bound: list[tuple[int, int]] = field(default_factory=list)  # (person, tube) answered 200
    bound_at: list[float] = field(default_factory=list)
    refused: list[tuple[int, int, str]] = field(default_factory=list)  # (person, tube, kind) answered 422
    errors: Counter[str] = field(default_factory=Counter)
    scans: list[float] = field(default_factory=list)
    opens: list[float] = field(default_factory=list)
    closes: list[float] = field(default_factory=list)
    tubes: int = 0
    closed: int = 0
    start: float = 0.0
    deadline: float = 0.0

    def merge(self, other: Tally) -> None:
        for name in ("bound", "bound_at", "refused", "errors", "scans", "opens", "closes"):
            getattr(self, name).__iadd__(getattr(other, name))
        self.tubes += other.tubes
        self.closed += other.closed

    def in_window(self) -> int:
        """Bindings answered before the deadline (the rate's numerator)."""
        return sum(1 for at in self.bound_at if at <= self.deadline)


class Queue:
    """The people waiting at the sites, each handed out once; now and then (``rescan``) one just
    handed to a phone is handed again: a person queueing twice, maybe at the same moment."""

    def __init__(self, people: list[int], rescan: float) -> None:
        self.waiting = iter(people)
        self.recent: collections.deque[int] = collections.deque(maxlen=400)
        self.rescan = rescan
        self.lock = threading.Lock()
        self.ran_out = False

    def next(self, rng: random.Random) -> int | None:
        with self.lock:
            if self.recent and rng.random() < self.rescan:
                return rng.choice(self.recent)
            pk = next(self.waiting, None)
            if pk is None:
                self.ran_out = True
            else:
                self.recent.append(pk)
            return pk


class Phone:
    """A collector's phone: one keep-alive connection, the session and CSRF cookies, the form token."""

    def __init__(self, port: int, timeout: float) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies = {"django_language": "en"}  # English refusals are classified below
        self.token = ""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, htmx: bool = False
    ) -> tuple[int, str, str]:
        """(status, Location, body); keeps the cookies the answer sets."""
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.token}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx:
            headers["HX-Request"] = "true"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except Exception:
            self.connection.close()  # the next request opens a new connection
            raise
        for line in response.msg.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie(line)
            for name, morsel in cookie.items():
                if name in ("sessionid", "csrftoken"):
                    self.cookies[name] = morsel.value
        return response.status, response.getheader("Location", ""), text

    def page(self, path: str) -> str:
        """GET a page with a form and keep its CSRF token."""
        status, _location, text = self.request("GET", path)
        found = TOKEN.search(text)
        if status != 200 or found is None:
            raise RuntimeError(f"GET {path} answered {status} without a form")
        self.token = found.group(1)
        return text

    def log_in(self, username: str, password: str, scan_page: str) -> None:
        self.page("/accounts/login/")
        status, _location, _text = self.request(
            "POST", "/accounts/login/", {"username": username, "password": password}
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} answered {status}")
        self.page(scan_page)  # the token rotated at login


def _attempt(
    tally: Tally, what: str, phone: Phone, path: str, form: dict[str, str], *, htmx: bool = False
) -> tuple[int, str, str] | None:
    """The answer to a POST, or None with the failure counted under ``what``."""
    try:
        return phone.request("POST", path, form, htmx=htmx)
    except TimeoutError:
        tally.errors[f"{what}: timeout"] += 1
    except Exception as error:  # every failure is an error to count
        tally.errors[f"{what}: {type(error).__name__}"] += 1
    return None


def fill_tubes(
    phone: Phone,
    *,
    tally: Tally,
    queue: Queue,
    codes: dict[int, str],
    scan_page: str,
    prefix: str,
    seed: int,
    think: float,
) -> None:
    """Open, fill and close tubes until ``tally.deadline`` (a tube begun is filled only until then,
    and closed after it when it holds anyone); ``think`` seconds pass between an answer and the
    next scan (the next person's code held under the scanner)."""
    rng, number = random.Random(seed), 0
    while time.perf_counter() < tally.deadline and not queue.ran_out:
        number += 1
        form = {"barcode": f"{prefix}{number:07d}", "kind": "pool"}
        started = time.perf_counter()
        answer = _attempt(tally, "open", phone, scan_page.replace("/scan/", "/scan/tube/"), form)
        tally.opens.append(time.perf_counter() - started)
        opened = TUBE_URL.search(answer[1]) if answer and answer[0] == 302 else None
        if answer is None or opened is None:
            if answer is not None:
                tally.errors[f"open: HTTP {answer[0]} {answer[1][:40]}"] += 1
            continue
        tube, tally.tubes = int(opened.group(1)), tally.tubes + 1
        count, capacity = 0, 1
        while count < capacity and time.perf_counter() < tally.deadline:
            person = queue.next(rng)
            if person is None:
                break
            if think:
                time.sleep(think)
            started = time.perf_counter()
            path, form = f"/testing/tubes/{tube}/scan/", {"code": codes[person]}
            answer = _attempt(tally, "scan", phone, path, form, htmx=True)
            done = time.perf_counter()
            tally.scans.append(done - started)
            if answer is None:
                continue
            status, _location, text = answer
            counted = COUNT.search(text)
            if counted is not None:
                count, capacity = int(counted.group(1)), int(counted.group(2))
            if status == 200 and 'data-beep="ok"' in text:
                tally.bound.append((person, tube))
                tally.bound_at.append(done)
            elif status == 422:
                said = SAID.search(text)
                reason = said.group(1) if said else "(no reason shown)"
                tally.refused.append(
                    (person, tube, next((k for t, k in REASONS if t in reason), reason[:60]))
                )
            else:
                tally.errors[f"scan: HTTP {status}"] += 1
        if count:
            started = time.perf_counter()
            answer = _attempt(tally, "close", phone, f"/testing/tubes/{tube}/close/", {})
            tally.closes.append(time.perf_counter() - started)
            if answer is not None and answer[0] == 302 and not TUBE_URL.search(answer[1]):
                tally.closed += 1
            elif answer is not None:
                tally.errors[f"close: HTTP {answer[0]}"] += 1


def run_phones(
    *,
    port: int,
    accounts: list[tuple[str, str]],
    password: str,
    seconds: float,
    queue: Queue,
    codes: dict[int, str],
    timeout: float,
    prefix: str,
    think: float,
    clock: Callable[[], Any] = lambda: None,
) -> tuple[Tally, float, tuple[Any, Any]]:
    """One thread per (username, scan page): all log in, then all scan for ``seconds``; the merged
    tally, the seconds the logins took, and ``clock()`` read as the scanning starts and ends."""
    tallies = [Tally() for _ in accounts]
    ready = threading.Barrier(len(accounts) + 1)
    logins = threading.Semaphore(8)  # a login hashes the password: a few at a time, none times out

    def work(index: int) -> None:
        username, scan_page = accounts[index]
        phone = Phone(port, timeout)
        try:
            with logins:
                phone.log_in(username, password, scan_page)
        except Exception as error:
            tallies[index].errors[f"login: {type(error).__name__}: {error}"[:120]] += 1
            ready.wait()
            return
        ready.wait()
        go.wait()
        tallies[index].deadline = deadline[0]
        fill_tubes(
            phone,
            tally=tallies[index],
            queue=queue,
            codes=codes,
            scan_page=scan_page,
            prefix=f"{prefix}{index:04d}",
            seed=index,
            think=think,
        )
        phone.connection.close()

    deadline: list[float] = []
    go = threading.Event()
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(accounts))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    ready.wait()  # every phone logged in (or failed to)
    total = Tally(start=time.perf_counter())
    login_s = total.start - began
    deadline.append(total.start + seconds)
    total.deadline = deadline[0]
    first = clock()
    go.set()
    for thread in threads:
        thread.join()
    last = clock()
    for tally in tallies:
        total.merge(tally)
    return total, login_s, (first, last)
