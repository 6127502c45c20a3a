"""The command dashboard's server time with 100,000 cases and 500,000 contacts (issue 6).

    .venv/bin/python bench/dashboard.py                       # SQLite, then PostgreSQL
    .venv/bin/python bench/dashboard.py --db sqlite --cases 20000 --contacts 100000

Each database is filled once (the demo city, then ``_epidemic_data.epidemic_fill``) and kept:
SQLite under ``var/bench/dashboard-sqlite/``, PostgreSQL in the database ``fk_bench_dashboard``
(created when missing). Then, in one process per database, the whole page ``GET /dashboard/``
(all figures, the template, for the default 28 days) is timed through Django's test client as
the city's commander and as a district's epidemiologist: one warm-up, then ``--repeat`` runs,
median and worst printed, with each figure's own time (alone: the curves share one tally, so the
first of them pays for it). The naive peer computes the epidemic
curve the obvious way — every case loaded into Python and counted by day — on the same data in
the same process, and must give the same numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_NAME = "fk_bench_dashboard"


def _setup(db: str) -> None:
    if db == "sqlite":
        os.environ["FANGKONG_VAR_DIR"] = str(ROOT / "var" / "bench" / "dashboard-sqlite")
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ.setdefault("FANGKONG_VAR_DIR", str(ROOT / "var" / "bench" / "dashboard-pg"))
        base = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], capture_output=True, check=False
        )
        os.environ["DATABASE_URL"] = f"{base}/{PG_NAME}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "fangkong.config.settings"
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()


def _fill(*, cases: int, contacts: int, residents: int) -> None:
    from _epidemic_data import epidemic_fill
    from django.core.management import call_command

    from fangkong.cases.models import Case
    from fangkong.demo.load import demo_load

    call_command("migrate", verbosity=0)
    demo_load(residents=residents)
    have = Case.objects.count()
    if have >= cases:
        print(f"  reusing {have:,} cases")
    else:
        began = time.perf_counter()
        written = epidemic_fill(cases=cases - have, contacts=contacts)
        print(f"  filled in {time.perf_counter() - began:.0f} s: {written}")
    from django.db import connection

    with connection.cursor() as cursor:  # statistics for the planner after a bulk load or new indexes
        cursor.execute("ANALYZE")


def _time(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm-up: caches, the first connection, compiled templates
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - began) * 1000)
    return statistics.median(runs), max(runs)


def run(db: str, *, cases: int, contacts: int, residents: int, repeat: int) -> None:
    _setup(db)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from fangkong.cases.models import Case
    from fangkong.contacts.models import Contact
    from fangkong.dashboard import curves
    from fangkong.dashboard.charts import CHARTS
    from fangkong.dashboard.filters import filters_from

    print(f"\n== {db} ({connection.vendor}), load average {os.getloadavg()[0]:.1f}")
    _fill(cases=cases, contacts=contacts, residents=residents)
    print(f"  {Case.objects.count():,} cases, {Contact.objects.count():,} contacts in the database")
    users = get_user_model().objects
    for username in ("commander", "epidemiologist"):
        user = users.get(username=username)
        client = Client()
        client.force_login(user)

        def page(client: Client = client) -> None:
            response = client.get("/dashboard/")
            assert response.status_code == 200, response.status_code

        median, worst = _time(page, repeat)
        target = "under" if median < 500 else "OVER"
        print(
            f"  GET /dashboard/ as {username:<15} median {median:7.1f} ms, worst {worst:7.1f} ms ({target} 500 ms)"
        )
        for name, chart in CHARTS.items():  # fresh filters each time: nothing read by an earlier figure
            m, _w = _time(
                lambda chart=chart, user=user: chart.data(filters_from(actor=user)), max(1, repeat // 2)
            )
            print(f"      {name:<12} {m:7.1f} ms")

    commander = users.get(username="commander")
    filters = filters_from(actor=commander)
    fast, _ = _time(lambda: curves.epi_curve(filters_from(actor=commander), by="report"), repeat)

    def naive() -> dict[tuple[str, str], int]:
        from django.utils import timezone

        counts: Counter[tuple[str, str]] = Counter()
        for case in Case.objects.all():  # every row into Python, then counted
            day = timezone.localdate(case.reported_at)
            if filters.since <= day <= filters.until and case.classification != "excluded":
                counts[(day.isoformat(), case.classification)] += 1
        return dict(counts)

    slow, _ = _time(naive, max(1, repeat // 2))
    curve = curves.epi_curve(filters, by="report")
    drawn = {
        (day, name): curve["series"][name][i]
        for i, day in enumerate(curve["days"])
        for name in curve["series"]
        if curve["series"][name][i]
    }
    agree = "AGREE" if drawn == naive() else "DISAGREE"
    print(
        f"  epidemic curve: the case tally {fast:.1f} ms, naive peer (every case in Python) {slow:.1f} ms, "
        f"ratio {slow / fast:.1f}x, counts {agree}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.db == "both":
        for db in ("sqlite", "postgres"):
            argv = [
                sys.executable,
                __file__,
                "--db",
                db,
                "--cases",
                str(args.cases),
                "--contacts",
                str(args.contacts),
            ]
            argv += ["--residents", str(args.residents), "--repeat", str(args.repeat)]
            subprocess.run(argv, check=True)
        return
    run(args.db, cases=args.cases, contacts=args.contacts, residents=args.residents, repeat=args.repeat)


if __name__ == "__main__":
    main()
