"""Lab results at scale: one bulk action against the same results entered one by one.

    .venv/bin/python bench/lab_results.py [--tests 1000]

Runs on a fresh SQLite database in a temporary directory. Makes ``--tests`` active orders with one
test due today each and its sampling work item (which each result ends); records half of them negative with ``lab.lab_results_record`` (one batch) and
the other half one by one with ``services.lab_result_record`` (the peer, the same rules per call).
Prints rows/s of both, their ratio, and the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path


def main(var_dir: str) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1_000)
    args = parser.parse_args()
    os.environ["FANGKONG_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from fangkong.orgs.models import Level, Membership, OrgUnit
    from fangkong.people.idnumbers import make_resident_id
    from fangkong.people.services import person_create
    from fangkong.people.validation import PersonData
    from fangkong.quarantine import lab, services
    from fangkong.quarantine.models import QuarantineOrder, TestAppointment
    from fangkong.worklist.models import WorkItem

    call_command("migrate", verbosity=0)
    city = OrgUnit.objects.create(code="440300", name="市", level=Level.CITY, path="/440300/")
    grid = OrgUnit.objects.create(
        code="440300001", name="网格", level=Level.GRID, parent=city, path="/440300/440300001/"
    )
    user = get_user_model().objects.create(username="lab")
    Membership.objects.create(user=user, org_unit=city, role="lab")
    admin = get_user_model().objects.create(username="root", is_superuser=True)
    today = timezone.localdate()
    tests = []
    for n in range(args.tests):
        number = make_resident_id(
            area_code="440303", birth_date=date(1960, 1, 1) + timedelta(days=n // 400), sequence=n % 400
        )
        person = person_create(
            actor=admin,
            data=PersonData(
                name="王小明", id_type="resident_id", id_number=number, phone="", org_unit_id=grid.pk
            ),
        )
        order = QuarantineOrder.objects.create(
            person=person,
            org_unit=grid,
            kind="home",
            protocol="china-9",
            last_exposure=timezone.make_aware(datetime.combine(today - timedelta(days=1), clock(8))),
            day_one=today,
            planned_end=timezone.make_aware(datetime.combine(today + timedelta(days=7), clock.min)),
        )
        test = TestAppointment.objects.create(order=order, day=1, date=today)
        services.sample_item_create(order=order, appointment=test)  # the lab's work, as orders get it
        tests.append(test)
    half = len(tests) // 2
    started = time.perf_counter()
    lab.lab_results_record(actor=user, appointment_ids=[t.pk for t in tests[:half]], result="negative")
    bulk = time.perf_counter() - started
    started = time.perf_counter()
    for test in tests[half:]:
        services.lab_result_record(actor=user, appointment=test, result="negative")
    single = time.perf_counter() - started
    load = os.getloadavg()
    print(f"bulk:       {half:6d} results in {bulk:7.2f} s = {half / bulk:9.0f} rows/s")
    print(
        f"one by one: {len(tests) - half:6d} results in {single:7.2f} s = {(len(tests) - half) / single:9.0f} rows/s"
    )
    print(f"ratio bulk / one by one: {(half / bulk) / ((len(tests) - half) / single):.1f}x")
    left = WorkItem.objects.filter(kind="quarantine.sample", status__in=["open", "in_progress"]).count()
    print(f"sampling items still open: {left} (each result ended its item)")
    print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    directory = tempfile.mkdtemp(prefix="fangkong-bench-lab-")
    try:
        sys.exit(main(directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
