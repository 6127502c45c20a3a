"""Loading the demo city's residents in bulk, against registering the same people one by one.

    .venv/bin/python bench/people_load.py [--residents 50000] [--naive 2000] [--seed 2022]

Runs on a fresh SQLite database in a temporary directory, or on ``DATABASE_URL`` when set (it
must not hold the demo city yet). Migrates, times ``demo_load`` (tree, logins, residents, work),
then the peer: the first ``--naive`` residents of the same generated city are deleted and
registered again through ``people.services.person_create`` by an administrator, one call (and
one transaction) each, as the staff UI does. Prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main(var_dir: str) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--naive", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args()

    os.environ["FANGKONG_VAR_DIR"] = var_dir  # local keys (and the SQLite file) live here only
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from fangkong.demo.city import CITY_CODE, city_spec, grid_refs
    from fangkong.demo.load import demo_load
    from fangkong.demo.residents import residents_generate
    from fangkong.orgs.models import OrgUnit
    from fangkong.people.models import Household, IdType, Person
    from fangkong.people.services import id_index, person_create
    from fangkong.people.validation import PersonData

    database = settings.DATABASES["default"]
    print(f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
    call_command("migrate", verbosity=0)
    if OrgUnit.objects.filter(code=CITY_CODE).exists():
        print("The demo city is already in this database; give an empty one.", file=sys.stderr)
        return 2

    as_of = timezone.localdate()
    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(f"{stage}.start", time.perf_counter())
        marks[f"{stage}.end"] = time.perf_counter()

    started = time.perf_counter()
    summary = demo_load(seed=args.seed, residents=args.residents, progress=progress, as_of=as_of)
    bulk_seconds = time.perf_counter() - started
    insert_seconds = marks["residents.end"] - marks["users.end"]
    bulk_rate = summary.residents / bulk_seconds
    print(
        f"demo_load: {summary.residents:,} residents in {summary.households:,} households, "
        f"{summary.units} units, in {bulk_seconds:.2f} s = {bulk_rate:,.0f} residents/s "
        f"(generation {marks['generate.end'] - marks['generate.start']:.2f} s, "
        f"bulk insert {insert_seconds:.2f} s = {summary.residents / insert_seconds:,.0f} residents/s)"
    )

    # The peer: the same people, registered one by one through the service.
    households = residents_generate(
        seed=args.seed, count=args.residents, grids=grid_refs(city_spec(seed=args.seed)), as_of=as_of
    )
    chosen, count = [], 0
    for household in households:
        if count >= args.naive:
            break
        chosen.append(household)
        count += len(household.members)
    indexes = [id_index(id_type=IdType.RESIDENT_ID, number=m.id_number) for h in chosen for m in h.members]
    household_ids = set(
        Person.objects.filter(id_number_index__in=indexes).values_list("household_id", flat=True)
    )
    Person.objects.filter(id_number_index__in=indexes).delete()
    Household.objects.filter(pk__in=household_ids).delete()
    grid_ids = dict(OrgUnit.objects.filter(level="grid").values_list("code", "pk"))
    admin = get_user_model().objects.get(username="admin")

    started = time.perf_counter()
    for household in chosen:
        for member in household.members:
            person_create(
                actor=admin,
                data=PersonData(
                    name=member.name,
                    id_type=IdType.RESIDENT_ID,
                    id_number=member.id_number,
                    org_unit_id=grid_ids[household.grid_code],
                    phone=member.phone,
                    building=household.building,
                    unit=household.unit,
                    room=household.room,
                ),
            )
    naive_seconds = time.perf_counter() - started
    naive_rate = count / naive_seconds
    assert Person.objects.count() == summary.residents, "the peer did not restore every resident"
    print(
        f"person_create one by one: {count:,} residents in {naive_seconds:.2f} s = {naive_rate:,.0f} residents/s "
        f"(≈ {summary.residents / naive_rate:,.0f} s for {summary.residents:,})"
    )
    print(f"ratio: demo_load is {bulk_rate / naive_rate:,.1f}× the one-by-one rate")
    return 0


if __name__ == "__main__":
    scratch = tempfile.mkdtemp(prefix="fangkong-bench-")
    try:
        sys.exit(main(scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
