"""The city of bench/testing.py: residents in bulk, a day of sampling through ``tubes_record``,
the peers (coverage the obvious way) and the profile of one scan request."""

from __future__ import annotations

import cProfile
import os
import pstats
import time
from collections import Counter
from datetime import datetime
from typing import Any


def load() -> str:
    return f"  [load {os.getloadavg()[0]:.2f}]"


def residents_write(count: int, grids: list[Any]) -> None:
    """``count`` residents spread over the grids in turn, written in bulk (no households, a
    passport each; what a scan, a tube and coverage read of a person is there)."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.common.rows import rows_insert
    from fangkong.people.models import Person, Sex
    from fangkong.people.services import id_index

    columns = [
        "name",
        "sex",
        "id_type",
        "id_number_cipher",
        "id_number_index",
        "id_number_masked",
        "phone_index",
        "phone_masked",
        "org_unit",
        "created_at",
        "updated_at",
    ]
    now = timezone.now()
    for start in range(0, count, 50_000):
        rows = []
        for n in range(start, min(count, start + 50_000)):
            number = f"E{n:08d}"
            index = id_index(id_type="passport", number=number)
            grid = grids[n % len(grids)].pk
            rows.append((f"居民{n}", Sex.UNKNOWN, "passport", b"", index, "E****", "", "", grid, now, now))
        with transaction.atomic():
            rows_insert(Person, columns=columns, rows=rows)


def day_sample(
    *, actor: Any, the_round: Any, sites: dict[int, Any], size: int, closed_at: datetime
) -> tuple[int, int]:
    """All residents but every 33rd (about 97 %) sampled at their community's site into tubes of
    ``size``, through ``tubes_record`` in sets of at most 5,000 tubes: (people, tubes)."""
    from fangkong.orgs.models import Level, OrgUnit
    from fangkong.people.models import Person
    from fangkong.testing.batch import LIMIT, TubeScans, tubes_record

    community = dict(OrgUnit.objects.filter(level=Level.GRID).values_list("pk", "parent_id"))
    by_site: dict[int, list[int]] = {}
    rows = Person.objects.order_by("pk").values_list("pk", "org_unit_id")
    for n, (pk, grid) in enumerate(rows.iterator(chunk_size=20_000)):
        if n % 33:
            by_site.setdefault(community[grid], []).append(pk)
    people = tubes = 0
    for community_id, queue in by_site.items():
        groups = [queue[i : i + size] for i in range(0, len(queue), size)]
        for start in range(0, len(groups), LIMIT):
            scans = [
                TubeScans(tubes + n, f"D{tubes + n:011d}", group, closed_at)
                for n, group in enumerate(groups[start : start + LIMIT])
            ]
            made = tubes_record(actor=actor, round=the_round, site=sites[community_id], tubes=scans)
            assert not made.refused, made.refused[:3]
            people, tubes = people + made.people, tubes + len(made.tubes)
    return people, tubes


def coverage_peer(the_round: Any, grids: list[Any]) -> dict[int, tuple[int, int, int, int]]:
    """Coverage the obvious way: for each grid, its residents, its swabs, those resulted and those
    positive, each counted by its own query."""
    from fangkong.people.models import Person
    from fangkong.testing.models import TubeMember

    out = {}
    for grid in grids:
        swabs = TubeMember.objects.filter(
            round=the_round, recall__isnull=True, person__org_unit=grid, person__merged_into__isnull=True
        )
        out[grid.pk] = (
            Person.objects.filter(org_unit=grid, merged_into__isnull=True).count(),
            swabs.count(),
            swabs.exclude(tube__result="").count(),
            swabs.filter(tube__result="positive").count(),
        )
    return out


def _where(file: str, line: int, name: str) -> str:
    for mark in ("/src/", "/site-packages/", "/lib/python3"):
        if mark in file:
            file = file.split(mark, 1)[1]
            break
    return f"{file}:{line} {name}"


def scan_profile(*, user: Any, site: Any, the_round: Any, codes: list[str], requests: int) -> None:
    """One scan request in this process (Django's test client, the served app's settings): its
    queries, those of ``tube_scan`` alone, and a cProfile of ``requests`` scans: where the time goes."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fangkong.testing.models import Tube
    from fangkong.testing.services import tube_open, tube_scan

    client = Client(HTTP_HOST="127.0.0.1", HTTP_HX_REQUEST="true")
    client.force_login(user)
    pending = iter(codes)
    opened = iter(range(10**6))

    def new_tube() -> Tube:
        return tube_open(actor=user, round=the_round, site=site, barcode=f"PROF{next(opened):08d}")

    tube = new_tube()
    with CaptureQueriesContext(connection) as view_queries:
        answer = client.post(f"/testing/tubes/{tube.pk}/scan/", {"code": next(pending)})
    assert answer.status_code == 200, answer.status_code
    with CaptureQueriesContext(connection) as service_queries:
        tube_scan(actor=user, tube_id=tube.pk, code=next(pending))
    print(
        f"profile: one scan POST runs {len(view_queries)} queries, {len(service_queries)} of them in "
        f"tube_scan itself{load()}"
    )
    shapes = Counter(q["sql"][:110] for q in view_queries.captured_queries)
    for sql, n in shapes.most_common():
        print(f"  {n}× {sql}")
    tube, started = new_tube(), time.perf_counter()
    for _ in range(tube.capacity):
        client.post(f"/testing/tubes/{tube.pk}/scan/", {"code": next(pending)})
    plain = (time.perf_counter() - started) / tube.capacity * 1000
    profile = cProfile.Profile()
    started, done = time.perf_counter(), 0
    while done < requests:
        tube = new_tube()
        profile.enable()
        for _ in range(tube.capacity):
            answer = client.post(f"/testing/tubes/{tube.pk}/scan/", {"code": next(pending)})
            done += 1
        profile.disable()
        assert answer.status_code == 200, answer.status_code
    per = (time.perf_counter() - started) / done * 1000
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = [(ct, tt, nc, _where(*key)) for key, (_cc, nc, tt, ct, _callers) in stats.items()]
    layers = _layers()
    print(
        f"profile: scan POSTs one after another in this process: {plain:.1f} ms each ({per:.1f} ms under "
        f"cProfile, {done} of them){load()}"
    )
    print("  cumulative ms per request, fangkong's own code:")
    for ct, _tt, nc, where in sorted((r for r in rows if where_is_ours(r[3])), reverse=True)[:12]:
        print(f"    {ct / done * 1000:7.2f}  {nc / done:5.1f} calls  {where}")
    print("  cumulative ms per request, by layer:")
    for label, key in layers:
        ct = stats.get(key, (0, 0, 0, 0.0))[3]
        print(f"    {ct / done * 1000:7.2f}  {label} ({_where(*key)})")
    print("  own (self) ms per request, everything:")
    for _ct, tt, nc, where in sorted(rows, key=lambda r: -r[1])[:10]:
        print(f"    {tt / done * 1000:7.2f}  {nc / done:6.1f} calls  {where}")


def _layers() -> list[tuple[str, tuple[str, int, str]]]:
    """Where a request's time goes, by layer: the function each is measured at (cProfile's key)."""
    from django.contrib.auth import get_user
    from django.db.backends.utils import CursorWrapper
    from django.template.base import Template

    chosen = (
        ("the database and its driver", CursorWrapper._execute),
        ("templates", Template.render),
        ("the session and the user, read for the request", get_user),
    )
    return [
        (label, (f.__code__.co_filename, f.__code__.co_firstlineno, f.__code__.co_name))
        for label, f in chosen
    ]


def where_is_ours(where: str) -> bool:
    return where.startswith("fangkong/")
