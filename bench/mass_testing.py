"""Mass testing at city scale, in process: a day's tubes, a lab's result file, the recall of
positive pools, and coverage by grid.

    .venv/bin/python bench/mass_testing.py [--residents 1000000] [--result-rows 100000]
        [--positive-pools 50] [--peer-rows 2000] [--scanners 8] [--scan-seconds 20]

Runs on a fresh SQLite file in a temporary directory (or ``DATABASE_URL``, which must be empty).
Residents are written in bulk into the demo city's tree (org units and users by the demo loader),
then:

1. a round over the city (a controlled area: tubes of 10, filled with 9) and ``--residents``
   people sampled into tubes through
   ``testing.batch.tubes_record`` (the rules of a scan, constant queries per set of 5,000 tubes):
   people per second;
2. a result file of ``--result-rows`` tubes (``--positive-pools`` positive) imported as the worker
   imports it (``tube_import_create`` + ``tube_import_run``): rows per second, and the seconds the
   recall of the positive pools took inside it (their recalls and work items); the peer records
   ``--peer-rows`` rows one at a time through the same service, in the same run;
3. coverage by grid (``testing.coverage.coverage_by_grid``) over the round against the peer, the
   ORM loop written the obvious way (per grid: its people, swabs, results, positives);
4. scans through the service by ``--scanners`` threads for ``--scan-seconds`` (each opens a tube,
   scans 20 people by 核酸码, closes it): bindings per second, p50/p99 of a scan, and the checks
   (every scan answered is a row; nobody twice in the round).

Every figure is printed with the load average; re-run when it is above 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def load() -> str:
    return f"  [load {os.getloadavg()[0]:.2f}]"


def main(var_dir: str) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--result-rows", type=int, default=100_000)
    parser.add_argument("--positive-pools", type=int, default=50)
    parser.add_argument("--peer-rows", type=int, default=2_000)
    parser.add_argument("--scanners", type=int, default=8)
    parser.add_argument("--scan-seconds", type=int, default=20)
    args = parser.parse_args()
    os.environ["FANGKONG_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.demo.load import demo_load
    from fangkong.orgs.models import Level, OrgUnit
    from fangkong.people.models import Person
    from fangkong.testing.batch import TubeScans, tubes_record
    from fangkong.testing.models import Recall, SamplingSite, Tube, TubeMember
    from fangkong.testing.services import SiteData, round_create, site_create

    db = settings.DATABASES["default"]
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
    call_command("migrate", verbosity=0)
    demo_load(residents=1000)
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["admin", "lab", "commander"])
    }
    admin = users["admin"]
    grids = list(OrgUnit.objects.filter(level=Level.GRID).order_by("path"))
    started = time.perf_counter()
    _residents(args.residents, grids)
    print(f"(wrote {args.residents:,} residents in {time.perf_counter() - started:.1f} s){load()}")
    now = timezone.now()
    city = OrgUnit.objects.get(level=Level.CITY)
    the_round = round_create(
        actor=admin,
        name="bench",
        org_unit=city,
        starts_at=now - timedelta(hours=12),
        ends_at=now + timedelta(hours=12),
        areas=[(city, "controlled")],  # tubes of 10: a million people fill 100,000 tubes
    )
    communities = list(OrgUnit.objects.filter(level=Level.COMMUNITY).order_by("path"))
    sites = {
        c.pk: site_create(
            actor=admin,
            community=c,
            data=SiteData(name=f"{c.name}采样点", address="x", lon=114.0, lat=22.5, hours="全天"),
        )
        for c in communities
    }

    # 1. a day's tubes, 97 % of the residents
    grid_to_site = {g.pk: sites[g.parent_id] for g in grids}
    by_site: dict[int, list[int]] = {}
    for n, (pk, grid) in enumerate(Person.objects.order_by("pk").values_list("pk", "org_unit_id").iterator()):
        if n % 33 != 0:  # every 33rd resident stays away: about 97 % sampled
            by_site.setdefault(grid_to_site[grid].pk, []).append(pk)
    closed = now - timedelta(hours=3)
    started, tubes_made, barcode = time.perf_counter(), 0, 0
    for site_id, people in by_site.items():
        site = SamplingSite.objects.select_related("org_unit").get(pk=site_id)
        groups = [people[i : i + 9] for i in range(0, len(people), 9)]
        for start in range(0, len(groups), 5000):
            scans = []
            for group in groups[start : start + 5000]:
                barcode += 1
                scans.append(TubeScans(barcode, f"B{barcode:011d}", group, closed))
            tubes_made += len(tubes_record(actor=admin, round=the_round, site=site, tubes=scans).tubes)
    sample_s = time.perf_counter() - started
    sampled = TubeMember.objects.filter(round=the_round).count()
    print(
        f"sampling {sampled:,} residents into {tubes_made:,} tubes through tubes_record: {sample_s:.1f} s "
        f"({sampled / sample_s:,.0f} people/s){load()}"
    )

    # 2. a lab's result file, and the recall of its positive pools
    _results_file(args, users, the_round, connection)

    # 3. coverage by grid
    from fangkong.testing.coverage import coverage_by_grid

    commander = users["commander"]
    started = time.perf_counter()
    rows = coverage_by_grid(actor=commander, the_round=the_round)
    cover_s = time.perf_counter() - started
    started = time.perf_counter()
    peer = _coverage_peer(the_round, grids)
    peer_s = time.perf_counter() - started
    assert {r.grid.pk: (r.expected, r.sampled, r.resulted, r.positive) for r in rows} == peer
    print(
        f"coverage by grid of {len(rows):,} grids over {sum(r.expected for r in rows):,} residents: "
        f"{cover_s * 1000:,.0f} ms{load()}"
    )
    print(
        f"peer: the ORM loop per grid: {peer_s * 1000:,.0f} ms — {peer_s / cover_s:.1f}× the grouped queries{load()}"
    )

    # 4. scanning through the service, threads at once
    _scanning(args, the_round, sites, now)
    print(f"recalls written: {Recall.objects.count():,}; tubes: {Tube.objects.count():,}")
    return 0


def _residents(count: int, grids: list[Any]) -> None:
    """``count`` residents spread over the grids, written in bulk (no households)."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.common.rows import rows_insert
    from fangkong.people.models import Person, Sex
    from fangkong.people.services import id_index

    now = timezone.now()
    for start in range(0, count, 50_000):
        with transaction.atomic():
            rows = []
            for n in range(start, min(count, start + 50_000)):
                number = f"B{n:017d}"
                rows.append(
                    (
                        f"居民{n}",
                        Sex.UNKNOWN,
                        "passport",
                        b"",
                        id_index(id_type="passport", number=number),
                        number[:3] + "****",
                        "",
                        "",
                        grids[n % len(grids)].pk,
                        now,
                        now,
                    )
                )
            rows_insert(
                Person,
                columns=[
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
                ],
                rows=rows,
            )


def _results_file(args: Any, users: dict[str, Any], the_round: Any, connection: Any) -> None:
    import csv
    import io

    from django.utils import timezone

    from fangkong.testing import results as results_module
    from fangkong.testing.imports import tube_import_create, tube_import_run
    from fangkong.testing.models import Recall, Tube, TubeResult
    from fangkong.testing.results import ResultRow, tube_results_record
    from fangkong.worklist.models import WorkItem

    tubes = list(
        Tube.objects.filter(round=the_round, result="")
        .order_by("pk")
        .values_list("barcode", flat=True)[: args.result_rows + args.peer_rows]
    )
    in_file, for_peer = tubes[: args.result_rows], tubes[args.result_rows :]
    step = max(1, len(in_file) // max(1, args.positive_pools))
    positive = set(in_file[::step][: args.positive_pools])
    at = timezone.localtime() - timedelta(hours=1)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["条码", "检测结果", "ORF1ab", "N", "检测时间", "检测机构"])
    for code in in_file:
        hit = code in positive
        writer.writerow(
            [
                code,
                "阳性" if hit else "阴性",
                "31.2" if hit else "",
                "30.4" if hit else "",
                at.strftime("%Y-%m-%d %H:%M"),
                "鹏城检测",
            ]
        )
    content = buffer.getvalue().encode("utf-8-sig")
    follow: list[float] = []
    real = results_module._positives_follow

    def timed(**kwargs: Any) -> None:
        started = time.perf_counter()
        real(**kwargs)
        follow.append(time.perf_counter() - started)

    results_module._positives_follow = timed  # type: ignore[assignment]
    started = time.perf_counter()
    job = tube_import_create(actor=users["lab"], file_name="results.csv", content=content)
    job = tube_import_run(import_id=job.pk)
    import_s = time.perf_counter() - started
    results_module._positives_follow = real  # type: ignore[assignment]
    recalls = Recall.objects.count()
    items = WorkItem.objects.filter(kind="testing.recall").count()
    if job.status != "succeeded":
        print("refused:", job.errors[:3])
    print(
        f"result file of {len(in_file):,} tubes ({len(content) / 1e6:.1f} MB): {job.status}, {job.created_count:,} recorded "
        f"in {import_s:.1f} s ({len(in_file) / import_s:,.0f} rows/s){load()}"
    )
    print(
        f"recall of {len(positive)} positive pools inside it: {recalls:,} recalls and {items:,} work items in "
        f"{sum(follow):.2f} s{load()}"
    )
    started = time.perf_counter()
    for n, code in enumerate(for_peer):
        tube_results_record(actor=users["lab"], rows=[ResultRow(n, code, "negative", at, "鹏城检测")])
    peer_s = time.perf_counter() - started
    if for_peer:
        rate = len(for_peer) / peer_s
        print(
            f"peer: {len(for_peer):,} rows one at a time through the same service: {rate:,.0f} rows/s — the file is "
            f"{(len(in_file) / import_s) / rate:.1f}× faster; {len(in_file):,} rows one by one would take "
            f"{len(in_file) / rate:.0f} s{load()}"
        )
    assert TubeResult.objects.filter(status="recorded").count() == job.created_count + len(for_peer)


def _coverage_peer(the_round: Any, grids: list[Any]) -> dict[int, tuple[int, int, int, int]]:
    from fangkong.people.models import Person
    from fangkong.testing.models import TubeMember

    out = {}
    for grid in grids:
        people = Person.objects.filter(org_unit=grid, merged_into__isnull=True)
        swabs = TubeMember.objects.filter(round=the_round, person__in=people, recall__isnull=True)
        out[grid.pk] = (
            people.count(),
            swabs.count(),
            swabs.exclude(tube__result="").count(),
            swabs.filter(tube__result="positive").count(),
        )
    return out


def _scanning(args: Any, the_round: Any, sites: dict[int, Any], now: Any) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from fangkong.common.errors import Conflict
    from fangkong.people.models import Person
    from fangkong.testing.codes import person_code
    from fangkong.testing.models import TubeMember
    from fangkong.testing.services import tube_close, tube_open, tube_scan

    admin = get_user_model().objects.get(username="admin")
    swabbed = TubeMember.objects.filter(round=the_round).values("person")
    waiting = list(Person.objects.exclude(pk__in=swabbed).order_by("pk").values_list("pk", flat=True))
    people = {p.pk: p for p in Person.objects.filter(pk__in=waiting).select_related("org_unit")}
    queue = iter(waiting)
    lock = threading.Lock()
    latencies: list[float] = []
    answered: list[int] = []
    refused: list[str] = []
    site_list = list(sites.values())
    stop = time.perf_counter() + args.scan_seconds

    def scanner(n: int) -> None:
        site = site_list[n % len(site_list)]
        count = 0
        while time.perf_counter() < stop:
            count += 1
            tube = tube_open(actor=admin, round=the_round, site=site, barcode=f"S{n:03d}{count:08d}")
            for _slot in range(tube.capacity):
                with lock:
                    pk = next(queue, None)
                if pk is None or time.perf_counter() >= stop:
                    break
                started = time.perf_counter()
                try:
                    tube_scan(actor=admin, tube_id=tube.pk, code=person_code(people[pk]))
                except Conflict as error:
                    refused.append(str(error))
                else:
                    answered.append(pk)
                latencies.append(time.perf_counter() - started)
            if tube.members_count or answered:
                with contextlib.suppress(Conflict):
                    tube_close(actor=admin, tube=tube)
        connection.close()

    threads = [threading.Thread(target=scanner, args=(n,)) for n in range(args.scanners)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    latencies.sort()
    stored = TubeMember.objects.filter(round=the_round, person_id__in=answered).count()
    twice = len(answered) - len(set(answered))
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(
        f"scanning by {args.scanners} threads for {took:.0f} s through tube_scan: {len(answered) / took:,.0f} bindings/s, "
        f"p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, {len(refused)} refused; lost {len(answered) - stored}, "
        f"double-bound {twice}{load()}"
    )
    if latencies:
        print(f"(mean scan {statistics.mean(latencies) * 1000:.1f} ms)")


if __name__ == "__main__":
    directory = tempfile.mkdtemp(prefix="fangkong-bench-")
    try:
        sys.exit(main(directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
