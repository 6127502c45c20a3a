"""Part 1 of bench/testing.py: collectors scanning over HTTP against the served app, the peer,
the ratios and targets, the checks from the database, and the profile of one scan."""

from __future__ import annotations

import argparse
import math
import statistics
import time
from datetime import timedelta
from typing import Any

from _load_clients import percentile
from _served import cpu_seconds, served, server_errors
from _testing_city import load, scan_profile
from _testing_clients import Queue, Tally, run_phones

PASSWORD = "bench-collector-pw-2022"


def scanning(
    args: argparse.Namespace,
    env: dict[str, str],
    var_dir: str,
    users: dict[str, Any],
    city: Any,
    sites: dict[int, Any],
    people: list[int],
) -> int:
    """Part 1 (see the module): the phones against the served app, the peer, the checks."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from fangkong.orgs.models import Membership
    from fangkong.people.models import Person
    from fangkong.testing.codes import person_code
    from fangkong.testing.services import round_create

    now = timezone.now()
    the_round = round_create(
        actor=users["commander"],
        name="bench scanning",
        org_unit=city,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=12),
        areas=[(city, "elsewhere")],
    )
    site_list = list(sites.values())
    hashed = make_password(PASSWORD)  # hashed once, shared: a login still checks it
    made = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench.sampler{n:03d}", password=hashed)
        for n in range(args.collectors + 1)
    )
    if not all(u.pk for u in made):  # SQLite before 3.35 gives no ids back
        made = list(
            get_user_model().objects.filter(username__startswith="bench.sampler").order_by("username")
        )
    Membership.objects.bulk_create(
        Membership(user=u, org_unit=site_list[n % len(site_list)].org_unit, role="sampler")
        for n, u in enumerate(made)
    )
    accounts = [
        (u.username, f"/testing/scan/?site={site_list[n % len(site_list)].pk}&round={the_round.pk}")
        for n, u in enumerate(made)
    ]
    started = time.perf_counter()
    codes = {pk: person_code(Person(pk=pk)) for pk in people}
    print(f"核酸码 of {len(codes):,} people signed here in {time.perf_counter() - started:.1f} s{load()}")
    split = int(len(people) * args.seconds / (args.seconds + args.peer_seconds))
    connection.close()
    with served(args, env, var_dir) as (pid, port, log):
        print(
            f"server: gunicorn gthread, {args.workers} workers × {args.threads} threads, 127.0.0.1:{port}; "
            f"{len(site_list)} sites, round {the_round.pk} (tubes of 20); {args.rescan:.0%} of scans a person again; "
            f"{args.think:.2f} s between an answer and a collector's next scan"
        )
        loaded, login_s, (before, after) = run_phones(
            port=port,
            accounts=accounts[:-1],
            password=PASSWORD,
            seconds=args.seconds,
            queue=(queue := Queue(people[:split], args.rescan)),
            codes=codes,
            timeout=args.timeout,
            prefix="T",
            think=args.think,
            clock=lambda: cpu_seconds(pid),
        )
        print(f"logins: {args.collectors} collectors through the login form in {login_s:.1f} s{load()}")
        report(f"{args.collectors} collectors for {args.seconds:.0f} s", loaded, ran_out=queue.ran_out)
        if before and after:
            used = [b - a for a, b in zip(before, after, strict=True)]
            print(
                f"  CPU while scanning: gunicorn {used[0]:,.1f} s ({used[0] * 1000 / max(1, len(loaded.scans)):.1f} "
                f"ms a scan POST, opens and closes included), the phones (this process) {used[1]:,.1f} s; "
                f"machine busy {used[2] / used[3] * 100:.0f} %{load()}"
            )
        peer, _login, _cpu = run_phones(
            port=port,
            accounts=accounts[-1:],
            password=PASSWORD,
            seconds=args.peer_seconds,
            queue=(peer_queue := Queue(people[split:], args.rescan)),
            codes=codes,
            timeout=args.timeout,
            prefix="P",
            think=0.0,  # the peer: one phone as fast as the server answers it
        )
        report(f"peer, 1 collector alone for {args.peer_seconds:.0f} s", peer, ran_out=peer_queue.ran_out)
    rate, peer_rate = loaded.in_window() / args.seconds, peer.in_window() / args.peer_seconds
    p99 = percentile(loaded.scans, 99)
    print(
        f"ratio: {rate / peer_rate if peer_rate else math.inf:,.2f}× the peer's bindings/s; scan latency "
        + ", ".join(
            f"p{p} {percentile(loaded.scans, p) / max(percentile(peer.scans, p), 1e-9):,.1f}×"
            for p in (50, 95, 99)
        )
        + f" the peer's{load()}"
    )
    met = rate >= 300 and p99 <= 500
    print(
        f"targets: ≥ 300 bindings/s {'met' if rate >= 300 else 'MISSED'} ({rate:,.0f}/s); "
        f"p99 ≤ 500 ms {'met' if p99 <= 500 else 'MISSED'} ({p99:,.0f} ms){load()}"
    )
    for line, count in server_errors(log).most_common(8):
        print(f"server error ×{count}: {line}")
    loaded.merge(peer)
    status = scan_check(the_round, loaded)
    if args.profile or not met:
        collector = get_user_model().objects.get(username=accounts[0][0])
        spare = Person.objects.filter(pk__gt=max(people)).order_by("pk").values_list("pk", flat=True)[:400]
        scan_profile(
            user=collector,
            site=site_list[0],
            the_round=the_round,
            codes=[person_code(Person(pk=pk)) for pk in spare],
            requests=200,
        )
    return status


def report(name: str, tally: Tally, *, ran_out: bool) -> None:
    seconds = tally.deadline - tally.start
    bound = tally.in_window()
    slices = [0] * 10
    for at in tally.bound_at:
        if at <= tally.deadline:
            slices[min(9, int((at - tally.start) / seconds * 10))] += 1
    rates = [n / (seconds / 10) for n in slices]
    print(
        f"{name}: {bound:,} bindings = {bound / seconds:,.1f} bindings/s (by tenth of the run: "
        f"min {min(rates):,.0f}/s, median {statistics.median(rates):,.0f}/s, max {max(rates):,.0f}/s)"
        f"{'; RAN OUT of people to scan' if ran_out else ''}{load()}"
    )
    lat = tally.scans
    print(
        f"  scan POST, ms: p50 {percentile(lat, 50):,.0f}, p95 {percentile(lat, 95):,.0f}, "
        f"p99 {percentile(lat, 99):,.0f}, max {percentile(lat, 100):,.0f} ({len(lat):,} POSTs); "
        f"open p50 {percentile(tally.opens, 50):,.0f} p99 {percentile(tally.opens, 99):,.0f}; "
        f"close p50 {percentile(tally.closes, 50):,.0f} p99 {percentile(tally.closes, 99):,.0f}{load()}"
    )
    kinds: dict[str, int] = {}
    for _person, _tube, kind in tally.refused:
        kinds[kind] = kinds.get(kind, 0) + 1
    refused = ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())) or "none"
    errors = ", ".join(f"{k} {n:,}" for k, n in tally.errors.most_common()) or "none"
    print(
        f"  tubes opened {tally.tubes:,}, closed {tally.closed:,}; refused (422): {refused}; errors: {errors}"
    )


def scan_check(the_round: Any, tally: Tally) -> int:
    """What the phones were answered against the rows: prints the checks; 1 when one fails."""
    from django.db.models import Count

    from fangkong.testing.models import Tube, TubeMember

    rows = set(
        TubeMember.objects.filter(round=the_round, recall__isnull=True).values_list("person_id", "tube_id")
    )
    answered = set(tally.bound)
    lost = answered - rows
    unanswered = rows - answered
    persons = [person for person, _tube in rows]
    double_bound = len(persons) - len(set(persons))
    answered_twice = len(tally.bound) - len({person for person, _tube in tally.bound})
    in_round = {person: tube for person, tube in rows}
    genuine = sum(
        1
        for person, tube, kind in tally.refused
        if kind == "already sampled"
        and person in in_round
        and (in_round[person] != tube or (person, tube) in answered)  # in its own tube: scanned twice
    )
    counts = dict(
        TubeMember.objects.filter(round=the_round).values_list("tube_id").annotate(n=Count("id")).order_by()
    )
    miscounted = sum(
        1
        for pk, members in Tube.objects.filter(round=the_round).values_list("pk", "members_count")
        if counts.get(pk, 0) != members
    )
    print(
        f"database: {len(rows):,} people in the round's tubes; lost (answered 200, no row): {len(lost):,}; "
        f"rows never answered 200: {len(unanswered):,}; double-bound: {double_bound:,} "
        f"(200 twice for one person: {answered_twice:,}); 422 refusals genuine: {genuine:,} of "
        f"{len(tally.refused):,}; tubes whose count differs from their rows: {miscounted:,}"
    )
    failed = lost or double_bound or answered_twice or genuine != len(tally.refused) or miscounted
    return 1 if failed else 0
