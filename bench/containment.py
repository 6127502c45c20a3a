"""Containment at scale: contacts confirmed into orders, and the cluster graph of a large outbreak.

    .venv/bin/python bench/containment.py [--contacts 1000] [--cases 5000] [--graph-contacts 20000]

Runs on a fresh SQLite database in a temporary directory (or ``DATABASE_URL`` when set, which must
be empty). Prints:

1. seconds to confirm ``--contacts`` close contacts in one batch (``contacts.batch.contacts_register``:
   the protocol's orders, test appointments, work items, household proposals and audit included),
   per contact and per row written; the peer is the same number of rows inserted in bulk with no
   rule applied, so the ratio is the price of the rules. Then ``--one-by-one`` contacts through the
   single service (the batch of one) for the old rate, ``--large`` contacts in one batch, and
   ``--proposals`` proposed contacts confirmed in one decision (``decision_start``, then the
   worker's ``decision_execute`` in chunks);
2. the server time of the cluster graph of one cluster of ``--cases`` cases and
   ``--graph-contacts`` contacts (coarse level, as the page draws it), against the peer that
   builds the full people-level graph of the same cluster; node counts and JSON size of both.

4. seconds for a discovery of ``--discover-cases`` cases on the demo's location data (2,000 people,
   7 days; one run per case, run in this process as the worker runs them): stays, matching, triage
   into tiers, proposals, companions with their tests and texts written;

3. rows/s of a ``--import-rows`` contact list import (checked row by row, then written all at
   once), against the one-by-one rate of part 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def main(var_dir: str) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--graph-contacts", type=int, default=20_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--one-by-one", type=int, default=200)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--proposals", type=int, default=5_000)
    parser.add_argument("--discover-cases", type=int, default=100)
    args = parser.parse_args()
    os.environ["FANGKONG_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.audit.models import AuditEvent
    from fangkong.cases.models import Case, CaseCounter, Investigation
    from fangkong.cases.services import CaseDetails, case_register
    from fangkong.contacts.batch import Exposure, contacts_register
    from fangkong.contacts.decisions import CHUNK, decision_execute, decision_start
    from fangkong.contacts.graph import cluster_graph
    from fangkong.contacts.models import Contact
    from fangkong.contacts.selectors import ReviewFilters
    from fangkong.contacts.services import contact_register
    from fangkong.demo.load import demo_load
    from fangkong.people.models import Person
    from fangkong.quarantine.models import QuarantineOrder, TestAppointment
    from fangkong.worklist.models import WorkItem

    db = settings.DATABASES["default"]
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
    call_command("migrate", verbosity=0)
    residents = max(
        12_000,
        args.contacts
        + args.one_by_one
        + args.large
        + args.proposals
        + args.cases
        + args.import_rows
        + 50
        # the discovery's cases, contacts and companions come out of the 2,000 people it traces
        + (5_000 if args.discover_cases else 0),
    )
    demo_load(residents=residents)
    admin = get_user_model().objects.get(username="admin")
    if args.discover_cases:  # first, on the demo city as it loads (its cases fill the location data)
        discover(admin=admin, cases=args.discover_cases)
    # the people not touched by the demo's outbreak, in a fixed order
    busy = set(Contact.objects.values_list("person_id", flat=True)) | set(
        Case.objects.values_list("person_id", flat=True)
    )
    free = [
        p for p in Person.objects.select_related("org_unit").order_by("pk").iterator() if p.pk not in busy
    ]
    taken = 0

    def take(n: int) -> list[Any]:
        nonlocal taken
        chosen, taken = free[taken : taken + n], taken + n
        return chosen

    now = timezone.now()
    last = now - timedelta(hours=5)

    def new_case() -> Any:
        (person,) = take(1)
        return case_register(
            actor=admin,
            person=person,
            classification="confirmed",
            reported_at=now - timedelta(hours=2),
            details=CaseDetails(onset_date=timezone.localdate() - timedelta(days=1)),
        )

    def exposures(people: list[Any]) -> list[Exposure]:
        return [
            Exposure(person=p, exposure_type="social", first=last - timedelta(hours=1), last=last)
            for p in people
        ]

    def rows() -> int:
        return sum(
            m.objects.count() for m in (Contact, QuarantineOrder, TestAppointment, WorkItem, AuditEvent)
        )

    case = new_case()
    batch_people = take(args.contacts)
    before = rows()
    started = time.perf_counter()
    outcome = contacts_register(actor=admin, case=case, exposures=exposures(batch_people))
    service_s = time.perf_counter() - started
    assert len(outcome.done) == args.contacts and not outcome.refused, outcome.refused[:3]
    written = rows() - before
    print(
        f"confirm {args.contacts:,} close contacts in one batch (orders, tests, work items, households, audit): "
        f"{service_s:.2f} s, {args.contacts / service_s:,.0f} contacts/s, {written:,} rows "
        f"({written / service_s:,.0f} rows/s){load()}"
    )

    # peer: the same number of rows, bulk-inserted with no rule (work items stand in for every row)
    template = WorkItem.objects.filter(kind="quarantine.sample").first()
    assert template is not None
    started = time.perf_counter()
    with transaction.atomic():
        WorkItem.objects.bulk_create(
            [
                WorkItem(kind="bench.peer", title="peer", org_unit_id=template.org_unit_id, due_at=now)
                for _ in range(written)
            ],
            batch_size=2000,
        )
    peer_s = time.perf_counter() - started
    WorkItem.objects.filter(kind="bench.peer").delete()
    # the fairer peer: the same rows through the batch's own writer (one executemany), no rules
    from fangkong.common.rows import rows_insert
    from fangkong.worklist.services import ITEM_COLUMNS

    started = time.perf_counter()
    with transaction.atomic():
        rows_insert(
            WorkItem,
            columns=ITEM_COLUMNS,
            rows=[("bench.peer", "peer", "normal", "", "", template.org_unit_id, now, "open", "", now, now)]
            * written,
        )
    raw_s = time.perf_counter() - started
    WorkItem.objects.filter(kind="bench.peer").delete()
    print(
        f"peer: {written:,} rows bulk-inserted with no rules: {peer_s:.2f} s ({written / peer_s:,.0f} rows/s); "
        f"the rules cost {service_s / peer_s:.2f}× the bare inserts{load()}"
    )
    print(
        f"peer: the same {written:,} rows through the batch's own writer (executemany; COPY on PostgreSQL), no rules: {raw_s:.2f} s "
        f"({written / raw_s:,.0f} rows/s); the rules cost {service_s / raw_s:.2f}× these{load()}"
    )

    case_single = new_case()
    started = time.perf_counter()
    for person in take(args.one_by_one):
        contact_register(
            actor=admin,
            case=case_single,
            person=person,
            exposure_type="social",
            first_exposure=last - timedelta(hours=1),
            last_exposure=last,
        )
    single_s = time.perf_counter() - started
    print(
        f"one by one (the batch of one), {args.one_by_one:,} contacts: {single_s:.2f} s, "
        f"{args.one_by_one / single_s:,.0f} contacts/s — the batch is "
        f"{(args.contacts / service_s) / (args.one_by_one / single_s):.1f}× faster per contact{load()}"
    )

    if args.large:
        case_large = new_case()
        large_people = take(args.large)
        started = time.perf_counter()
        outcome = contacts_register(actor=admin, case=case_large, exposures=exposures(large_people))
        large_s = time.perf_counter() - started
        assert len(outcome.done) == args.large, outcome.refused[:3]
        print(
            f"confirm {args.large:,} close contacts in one batch: {large_s:.2f} s ({args.large / large_s:,.0f}/s){load()}"
        )

    if args.proposals:
        case_found = new_case()
        found = take(args.proposals)
        Contact.objects.bulk_create(
            [
                Contact(
                    source_case=case_found,
                    person=p,
                    org_unit_id=p.org_unit_id,
                    kind="close",
                    exposure_type="colocation",
                    first_exposure=last - timedelta(hours=1),
                    last_exposure=last,
                    discovered_by="colocation",
                    score=50,
                )
                for p in found
            ],
            batch_size=2000,
        )
        # the review's "all matching the filters": queued, then run as the worker runs it
        started = time.perf_counter()
        job = decision_start(actor=admin, case=case_found, filters=ReviewFilters(), decision="confirm")
        job = decision_execute(decision_id=job.pk)
        decide_s = time.perf_counter() - started
        assert job.done == job.total == args.proposals, job.refused[:3]
        print(
            f"decide {job.total:,} proposals in one action (confirm, as a task in chunks of {CHUNK:,}): "
            f"{decide_s:.2f} s ({job.total / decide_s:,.0f}/s){load()}"
        )

    # a cluster of --cases cases chained together, with --graph-contacts contacts in all
    persons = [(p.pk, p.org_unit_id) for p in take(args.cases)]
    district = case.district
    started = time.perf_counter()
    with transaction.atomic():
        counter = CaseCounter.objects.get(district=district, year=timezone.localdate().year)
        base = counter.last
        cases = Case.objects.bulk_create(
            [
                Case(
                    number=f"B-{base + i}",
                    person_id=pk,
                    org_unit_id=unit,
                    district=district,
                    classification="confirmed",
                    reported_at=now - timedelta(days=1),
                    confirmed_at=now - timedelta(days=1),
                )
                for i, (pk, unit) in enumerate(persons)
            ],
            batch_size=2000,
        )
        Investigation.objects.bulk_create([Investigation(case=c) for c in cases], batch_size=2000)
        chain_people = [c.person_id for c in cases]
        contacts = []
        per_case = max(1, args.graph_contacts // len(cases))
        for i, c in enumerate(cases):
            for j in range(per_case):
                became = cases[i + 1] if j == 0 and i + 1 < len(cases) else None
                person = chain_people[i + 1] if became else persons[(i * per_case + j) % len(persons)][0]
                contacts.append(
                    Contact(
                        source_case=c,
                        person_id=person,
                        org_unit_id=c.org_unit_id,
                        kind="close",
                        exposure_type="social",
                        first_exposure=last,
                        last_exposure=last,
                        status="confirmed",
                        became_case=became,
                    )
                )
        Contact.objects.bulk_create(contacts, batch_size=2000, ignore_conflicts=True)
    print(
        f"(made a cluster of {len(cases):,} cases and {Contact.objects.filter(source_case__in=cases).count():,} "
        f"contacts in {time.perf_counter() - started:.1f} s)"
    )
    root = cases[0]
    connection.queries_log.clear()
    started = time.perf_counter()
    graph = cluster_graph(actor=admin, case=root)
    graph_s = time.perf_counter() - started
    size = len(json.dumps(graph))
    started = time.perf_counter()
    full = cluster_graph(actor=admin, case=root, people_limit=10**9, cases_limit=10**9)
    full_s = time.perf_counter() - started
    full_size = len(json.dumps(full))
    print(
        f"cluster graph ({graph['level']} level): {graph_s * 1000:,.0f} ms server time, "
        f"{len(graph['nodes']):,} nodes, {len(graph['links']):,} links, {size / 1024:,.0f} KiB JSON"
    )
    print(
        f"peer: every person drawn: {full_s * 1000:,.0f} ms, {len(full['nodes']):,} nodes, "
        f"{len(full['links']):,} links, {full_size / 1024:,.0f} KiB JSON — "
        f"{len(full['nodes']) / max(1, len(graph['nodes'])):.0f}× the nodes the browser would lay out"
    )
    browser_render(root_id=root.pk, var_dir=os.environ["FANGKONG_VAR_DIR"])

    # 3. a contact list of --import-rows existing residents for a fresh case
    import csv
    import io

    from fangkong.contacts.imports import TEMPLATE_HEADER, contact_import_run
    from fangkong.contacts.models import ContactImport
    from fangkong.people.crypto import decrypt

    listed = take(args.import_rows + 1)
    index_case = case_register(
        actor=admin,
        person=listed[-1],
        classification="confirmed",
        reported_at=now - timedelta(hours=2),
        details=CaseDetails(onset_date=timezone.localdate() - timedelta(days=1)),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_HEADER)
    when = timezone.localtime(last)
    for person in listed[:-1]:
        writer.writerow(
            [
                "",
                "",
                decrypt(person.id_number_cipher),
                "",
                "",
                "",
                "",
                "",
                "social",
                (when - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
                when.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    job = ContactImport.objects.create(
        case=index_case, created_by=admin, file_name="bench.csv", content=buffer.getvalue().encode()
    )
    started = time.perf_counter()
    job = contact_import_run(import_id=job.pk)
    import_s = time.perf_counter() - started
    rows_n = len(listed) - 1
    print(
        f"contact import of {rows_n:,} rows: {job.status}, {job.created_count:,} contacts in {import_s:.1f} s = "
        f"{rows_n / import_s:,.0f} rows/s ({(rows_n / import_s) / (args.one_by_one / single_s):.1f}× the one-by-one rate){load()}"
    )
    return 0


def discover(*, admin: Any, cases: int) -> None:
    """Part 4: register ``cases`` people of the demo's location data as confirmed cases and time
    one discovery run each, end to end."""
    import pyarrow.parquet as pq
    from django.conf import settings
    from django.utils import timezone

    from fangkong.cases.models import Case
    from fangkong.cases.services import CaseDetails, case_register
    from fangkong.contacts.discovery import discovery_execute, discovery_start
    from fangkong.demo.mobility_demo import mobility_demo_load
    from fangkong.people.models import Person

    mobility_demo_load(seed=2022, today=timezone.localdate())
    pings = Path(settings.FANGKONG_MOBILITY_DIR) / "pings"
    present = sorted(set(pq.read_table(pings, columns=["person_id"])["person_id"].unique().to_pylist()))
    already = set(Case.objects.values_list("person_id", flat=True))
    people = Person.objects.in_bulk([p for p in present if p not in already][:cases])
    now = timezone.now()
    registered = [
        case_register(
            actor=admin,
            person=person,
            classification="confirmed",
            reported_at=now - timedelta(hours=1),
            details=CaseDetails(onset_date=timezone.localdate() - timedelta(days=1)),
        )
        for person in people.values()
    ]
    started = time.perf_counter()
    runs = [
        discovery_execute(run_id=discovery_start(actor=admin, case=c, enqueue=False).pk) for c in registered
    ]
    took = time.perf_counter() - started
    print(
        f"discovery of {len(runs)} cases on the demo's location data: {took:.1f} s end to end "
        f"({took / max(1, len(runs)):.2f} s a case), {sum(r.people_found for r in runs):,} people found, "
        f"{sum(r.proposed for r in runs):,} proposed, {sum(r.companions for r in runs):,} companions{load()}"
    )


def load() -> str:
    """The machine's load average, printed with every figure (re-run when it is above 1)."""
    return f"  [load {os.getloadavg()[0]:.2f}]"


def browser_render(*, root_id: int, var_dir: str) -> None:
    """Serve the app on a free loopback port and time the cluster page in Chromium, from the
    request to the drawn chart (data fetched, layout done, one frame painted)."""
    import socket
    import subprocess
    import urllib.request

    from fangkong.demo.users import DEMO_PASSWORD

    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium):
        print("cluster page in Chromium: skipped (no /usr/bin/chromium)")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, FANGKONG_VAR_DIR=var_dir, DEBUG="0")
    server = subprocess.Popen(
        [sys.executable, "-m", "fangkong.cli", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                page.goto(f"{base}/contacts/cluster/{root_id}/")
                page.wait_for_selector("#cluster[data-ready='1']", timeout=60_000)
                page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                timings.append(time.perf_counter() - started)
            browser.close()
        print(
            f"cluster page in Chromium (request → chart drawn): best {min(timings) * 1000:,.0f} ms, "
            f"worst {max(timings) * 1000:,.0f} ms of 3 loads"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    if os.environ.get("DATABASE_URL"):
        sys.exit(main(tempfile.mkdtemp(prefix="fangkong-bench-")))
    directory = tempfile.mkdtemp(prefix="fangkong-bench-")
    try:
        sys.exit(main(directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
