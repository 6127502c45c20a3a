"""Location data for the demo city: the synthetic mobility of some of its residents, so that an
epidemiologist can run contact discovery on a demo case.

The people are the recent cases of the outbreak, their contacts, and a seeded sample of other
residents. ``engine.synth`` generates a city of that many people over the last ``days`` days;
synthetic person ``n`` is then renamed to the ``n``-th chosen resident, so the files speak of
the register's person numbers (what ``contacts.discovery`` expects). Written aside and moved
into ``FANGKONG_MOBILITY_DIR``; done again only when the chosen people differ.

Then the demo epidemiologist traces the suspected cases reported since yesterday in their
district (``discovery_demo_run``), as a worker would: each run's proposals wait for review,
ranked by score, and its spatiotemporal companions have their tests and their texts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from fangkong.cases.models import Case, Classification
from fangkong.contacts.discovery import discovery_execute, discovery_start
from fangkong.contacts.models import Contact, DiscoveryRun, RunStatus
from fangkong.engine.schema import parquet_files
from fangkong.engine.synth import synth_city
from fangkong.orgs.models import Membership
from fangkong.people.models import Person

STAMP = "demo.json"


@dataclass(frozen=True)
class MobilitySummary:
    created: bool
    people: int
    days: int
    pings: int
    checkins: int
    seconds: float


def _chosen(*, seed: int, people: int, today: date) -> list[int]:
    """Recent cases and their contacts first, then a seeded sample of the other residents."""
    since = today - timedelta(days=14)
    cases = list(Case.objects.filter(reported_at__date__gte=since).values_list("person_id", flat=True))
    contacts = list(
        Contact.objects.filter(source_case__person_id__in=cases).values_list("person_id", flat=True)
    )
    first = list(dict.fromkeys([*cases, *contacts]))[:people]
    others = np.array(
        Person.objects.exclude(pk__in=first).filter(merged_into__isnull=True).values_list("pk", flat=True)
    )
    rng = np.random.default_rng(seed + 505)
    room = max(0, people - len(first))
    sample: list[int] | np.ndarray = (
        rng.choice(others, size=min(room, len(others)), replace=False) if room and len(others) else []
    )
    return [*first, *(int(p) for p in sample)]


def _rename(*, source: Path, target: Path, ids: np.ndarray) -> int:
    """Copy every Parquet file of ``source`` to ``target``, synthetic person n → ``ids[n - 1]``."""
    rows = 0
    for file in parquet_files(source):
        table = pq.read_table(file)
        index = table.schema.get_field_index("person_id")
        renamed = pc.take(pa.array(ids), pc.subtract(table["person_id"], 1))
        table = table.set_column(index, table.schema.field(index), renamed)
        out = target / file.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out)
        rows += table.num_rows
    return rows


def mobility_demo_load(*, seed: int, today: date, people: int = 2000, days: int = 7) -> MobilitySummary:
    """Write the demo's location data unless the same people's data is already there."""
    out = Path(settings.FANGKONG_MOBILITY_DIR)
    chosen = _chosen(seed=seed, people=people, today=today)
    if not chosen:
        return MobilitySummary(False, 0, days, 0, 0, 0.0)
    key = hashlib.sha256(json.dumps([seed, days, today.isoformat(), chosen]).encode()).hexdigest()
    stamp = out / STAMP
    if stamp.exists() and json.loads(stamp.read_text()).get("key") == key:
        return MobilitySummary(False, len(chosen), days, 0, 0, 0.0)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        raw, ready = Path(work) / "raw", Path(work) / "ready"
        summary = synth_city(
            people=len(chosen), days=days, out=raw, seed=seed, start=today - timedelta(days=days - 1)
        )
        ids = np.array(chosen, dtype=np.int64)
        pings = _rename(source=raw / "pings", target=ready / "pings", ids=ids)
        checkins = _rename(source=raw / "checkins", target=ready / "checkins", ids=ids)
        shutil.copy(raw / "venues.parquet", ready / "venues.parquet")
        (ready / STAMP).write_text(json.dumps({"key": key, "people": len(chosen), "days": days}))
        if out.exists():
            shutil.rmtree(out)
        ready.rename(out)
    return MobilitySummary(True, len(chosen), days, pings, checkins, summary.seconds)


def discovery_demo_run(*, today: date, most: int = 3) -> list[DiscoveryRun]:
    """Contact discovery for the suspected cases reported since yesterday in the demo
    epidemiologist's district that have location data (``most`` of them, latest first), run here
    as the worker would run them; nothing when a discovery has already finished."""
    if DiscoveryRun.objects.filter(status=RunStatus.SUCCEEDED).exists():
        return []
    actor = get_user_model().objects.filter(username="epidemiologist").first()
    stamp = Path(settings.FANGKONG_MOBILITY_DIR) / STAMP
    if actor is None or not stamp.exists():
        return []
    people = set(
        pq.read_table(Path(settings.FANGKONG_MOBILITY_DIR) / "pings", columns=["person_id"])["person_id"]
        .unique()
        .to_pylist()
    )
    area = Membership.objects.filter(user=actor).values_list("org_unit__path", flat=True).first() or ""
    since = timezone.make_aware(datetime.combine(today - timedelta(days=1), time.min))
    cases = [
        case
        for case in Case.objects.filter(
            classification=Classification.SUSPECTED,
            reported_at__gte=since,
            org_unit__path__startswith=area,
        )
        .select_related("org_unit")
        .order_by("-reported_at", "-number")
        if case.person_id in people
    ][:most]
    return [
        discovery_execute(run_id=discovery_start(actor=actor, case=case, enqueue=False).pk) for case in cases
    ]
