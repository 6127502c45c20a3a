"""Epidemic data in bulk for benchmarks: cases, investigations, contacts, quarantine orders and
their first-step work items over the demo city — 100,000 cases and 500,000 contacts in minutes.

    from _epidemic_data import epidemic_fill
    epidemic_fill(cases=100_000, contacts=500_000)

The database must have had ``migrate`` and ``fangkong.demo.load.demo_load``. Values are drawn
column by column with numpy and written by ``executemany`` straight into the tables, keys given
by us (the sequences are reset after, on PostgreSQL): no services, no rules, no audit. A column
not given takes its field's default. Deterministic for a seed and a ``now``. What is written:

- cases on a wave over the last ``days`` days (peaking at 60 % of the span from its start),
  55 % confirmed / 30 % asymptomatic / 10 % suspected / 5 % excluded; onset 0-4 days before the
  report (none when asymptomatic), sampled hours before, classified hours after; severity,
  outcome (older than 14 days: recovered, rarely deceased); when the contacts were identified, and
  an investigation (started, completed) each. A case's person is
  a resident without an open case, else a visitor made here (ID area code 420106, encrypted
  with the real key, blind-indexed and masked as the registry does). Case numbers are
  ``<district>-<year>-E<nnnnnn>``.
- contacts of those cases (85 % close, 15 % secondary), 65 % living near the case (a neighbour
  in grid order), the rest anywhere in the city; 90 % confirmed, 6 % dismissed, 4 % proposed.
- for each confirmed contact one order (close: centralised at the district's site; secondary:
  home), day 1 the day after the last exposure, 7 days, released when past its end; and its
  first-step work item (transfer or notice), done within 1-30 hours unless that is still to come.
- then ``contacts.control.control_refresh`` over everything, as the migration does: when each
  contact and each case's contacts came under control follows from the rows above.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from fangkong.contacts.control import control_refresh

BATCH = 20_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国春梅玉兰志红海燕晓东文俊浩宇欣怡子涵"
HOSPITALS = np.array(["市第三人民医院", "市人民医院", "市中医院", "市第二人民医院"])
HOUR, DAY = 3600.0, 86400.0


def epidemic_fill(
    *,
    cases: int,
    contacts: int,
    seed: int = 1,
    days: int = 60,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Add ``cases`` cases and ``contacts`` contacts (with orders and work items) to the demo
    city, in one transaction; returns the counts written and the seconds taken."""
    started = clock.perf_counter()
    now = (now or timezone.now()).replace(microsecond=0)
    report = progress or (lambda stage, done, total: None)
    rng = np.random.default_rng(seed)
    with transaction.atomic():
        city = _City.load()
        db = _Writer(now=now)
        made = _cases_write(rng, city, db, total=cases, now_s=now.timestamp(), days=days, report=report)
        counts = _contacts_write(rng, city, db, made, total=contacts, now_s=now.timestamp(), report=report)
        db.finish()
        report("under control", 0, 1)
        if connection.vendor == "postgresql":  # statistics first, or the planner guesses empty tables
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        refresh_started = clock.perf_counter()
        control_refresh(contact_ids=None, case_ids=None)
        refresh_seconds = round(clock.perf_counter() - refresh_started, 1)
    return {
        "cases": cases,
        "people_created": made.people_created,
        **counts,
        "control_refresh_seconds": refresh_seconds,
        "seconds": round(clock.perf_counter() - started, 1),
    }


class _City:
    """The demo city's grids with their districts, and one quarantine site per district."""

    def __init__(
        self, grids: list[tuple[int, str]], districts: dict[str, Any], sites: dict[int, int]
    ) -> None:
        self.grid_ids = np.array([pk for pk, _path in grids], dtype=np.int64)
        self.grid_rank = {pk: rank for rank, (pk, _path) in enumerate(grids)}
        self.district_of = {pk: districts[path.split("/")[1]] for pk, path in grids}
        self.site_of_district = sites

    @classmethod
    def load(cls) -> _City:
        from fangkong.demo.city import CITY_CODE
        from fangkong.orgs.models import Level, OrgUnit
        from fangkong.quarantine.models import Site

        grids = list(
            OrgUnit.objects.filter(level=Level.GRID, path__startswith=f"{CITY_CODE}/")
            .order_by("path")
            .values_list("pk", "path")
        )
        if not grids:
            raise RuntimeError("No demo city here: run migrate and demo_load first.")
        districts = {u.code: u for u in OrgUnit.objects.filter(level=Level.DISTRICT, parent__code=CITY_CODE)}
        sites = {
            d.pk: Site.objects.get_or_create(name=f"{d.name}集中隔离点", org_unit=d)[0].pk
            for d in districts.values()
        }
        return cls(grids, districts, sites)


class _Writer:
    """Rows straight into a table by ``executemany``; times as the database takes them."""

    def __init__(self, *, now: datetime) -> None:
        self.sqlite = connection.vendor == "sqlite"
        self.tz = timezone.get_current_timezone()
        self.now = self.times(np.array([now.timestamp()]))[0]
        self.keyed: list[type[Model]] = []

    def ids(self, model: type[Model], count: int) -> np.ndarray:
        """The next ``count`` primary keys of ``model``'s table."""
        if model not in self.keyed:
            self.keyed.append(model)
        first = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1  # type: ignore[attr-defined]
        return np.arange(first, first + count, dtype=np.int64)

    def times(self, epochs: np.ndarray) -> list[Any]:
        """Epoch seconds (NaN: none) as stored: naive UTC text on SQLite, aware datetimes elsewhere."""
        valid = ~np.isnan(epochs)
        whole = np.where(valid, epochs, 0).astype(np.int64)
        if self.sqlite:
            text = np.char.replace(np.datetime_as_string(whole.astype("datetime64[s]"), unit="s"), "T", " ")
            return [t if ok else None for t, ok in zip(text.tolist(), valid.tolist(), strict=True)]
        return [
            datetime.fromtimestamp(e, UTC) if ok else None
            for e, ok in zip(whole.tolist(), valid.tolist(), strict=True)
        ]

    def day(self, value: date) -> Any:
        return str(value) if self.sqlite else value

    def local_dates(self, epochs: np.ndarray) -> list[date]:
        return [datetime.fromtimestamp(e, self.tz).date() for e in epochs.tolist()]

    def midnights(self, days: Sequence[date]) -> np.ndarray:
        """The epoch of local 00:00 of each day."""
        return np.array([datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp() for d in days])

    def insert(self, model: type[Model], columns: dict[str, Any]) -> None:
        """Write ``columns`` (field name → values); other fields take their defaults, the time
        stamps now."""
        meta = model._meta
        count = len(next(iter(columns.values())))
        columns = {name: v.tolist() if isinstance(v, np.ndarray) else v for name, v in columns.items()}
        for f in meta.concrete_fields:
            if f.primary_key or f.name in columns or f.attname in columns:
                continue
            if f.name in {"created_at", "updated_at"}:
                columns[f.name] = [self.now] * count
            else:
                columns[f.name] = [f.get_default()] * count
        names = ", ".join(connection.ops.quote_name(meta.get_field(n).column) for n in columns)
        sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        rows = list(zip(*columns.values(), strict=True))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(sql, rows[start : start + BATCH])

    def finish(self) -> None:
        """Move PostgreSQL's sequences past the keys given here."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), self.keyed):
                    cursor.execute(sql)


class _Made:
    """What the contacts need of the cases: their keys, report times, people and weights."""

    def __init__(
        self, ids: np.ndarray, reported: np.ndarray, people: np.ndarray, kinds: np.ndarray, created: int
    ):
        self.ids, self.reported, self.person_ids, self.people_created = ids, reported, people, created
        weights = np.array([1.0, 0.7, 0.2, 0.05])[kinds]
        self.weights = weights / weights.sum()


def _cases_write(
    rng: np.random.Generator,
    city: _City,
    db: _Writer,
    *,
    total: int,
    now_s: float,
    days: int,
    report: Callable[[str, int, int], None],
) -> _Made:
    from fangkong.cases.models import Case, Investigation
    from fangkong.people.models import Person

    open_cases = Case.objects.exclude(classification="excluded").values("person_id")
    free = list(Person.objects.exclude(pk__in=open_cases).values_list("pk", "org_unit_id"))
    people = [free[i] for i in rng.permutation(len(free))[:total]]
    created = _visitors_create(rng, city, db, count=total - len(people))
    people += created
    person_ids = np.array([pk for pk, _grid in people], dtype=np.int64)
    grids = [grid for _pk, grid in people]
    districts = [city.district_of[g] for g in grids]
    reported = np.floor(
        np.minimum(now_s - rng.triangular(0, 0.4 * days, days, size=total) * DAY, now_s - HOUR)
    )
    kinds = rng.choice(
        4, size=total, p=[0.55, 0.30, 0.10, 0.05]
    )  # confirmed, asymptomatic, suspected, excluded
    local = db.local_dates(reported)
    first = Case.objects.count() + 1
    onset_back = rng.integers(0, 5, size=total)
    moved = np.minimum(reported + rng.uniform(1, 12, total) * HOUR, now_s)
    identified = reported + rng.uniform(6, 40, total) * HOUR
    old = (now_s - reported > 14 * DAY) & (kinds < 2)
    deceased = rng.random(total) < 0.003
    severity = np.array(["mild", "moderate", "severe", "critical"])[
        rng.choice(4, total, p=[0.7, 0.22, 0.06, 0.02])
    ]
    nan = np.full(total, np.nan)
    ids = db.ids(Case, total)
    db.insert(
        Case,
        {
            "id": ids,
            "number": [
                f"{d.code}-{day.year}-E{first + i:06d}"
                for i, (d, day) in enumerate(zip(districts, local, strict=True))
            ],
            "person_id": person_ids,
            "org_unit_id": grids,
            "district_id": [d.pk for d in districts],
            "classification": np.array(["confirmed", "asymptomatic", "suspected", "excluded"])[kinds],
            "outcome": np.where(old, np.where(deceased, "deceased", "recovered"), "in_treatment"),
            "outcome_at": db.times(np.where(old, reported + rng.uniform(10, 14, total) * DAY, nan)),
            "severity": np.where(kinds == 0, severity, ""),
            "origin": np.where(rng.random(total) < 0.03, "imported", "local"),
            "hospital": np.where(kinds == 0, HOSPITALS[rng.integers(len(HOSPITALS), size=total)], ""),
            "onset_date": [
                None if k == 1 else db.day(day - timedelta(days=int(b)))
                for k, day, b in zip(kinds.tolist(), local, onset_back.tolist(), strict=True)
            ],
            "sampled_at": db.times(reported - rng.uniform(2, 20, total) * HOUR),
            "reported_at": db.times(reported),
            "confirmed_at": db.times(np.where(kinds == 0, moved, nan)),
            "asymptomatic_at": db.times(np.where(kinds == 1, moved, nan)),
            "excluded_at": db.times(np.where(kinds == 3, moved, nan)),
            "contacts_identified_at": db.times(
                np.where((identified < now_s) & (kinds != 3), identified, nan)
            ),
        },
    )
    completed = reported + rng.uniform(12, 36, total) * HOUR
    db.insert(
        Investigation,
        {
            "case_id": ids,
            "started_at": db.times(reported + rng.uniform(1, 6, total) * HOUR),
            "completed_at": db.times(np.where(completed < now_s, completed, nan)),
        },
    )
    report("cases", total, total)
    return _Made(ids, reported, person_ids, kinds, len(created))


def _visitors_create(
    rng: np.random.Generator, city: _City, db: _Writer, *, count: int
) -> list[tuple[int, int]]:
    """``count`` people from outside the demo city's census (ID area 420106) on random grids;
    returns (key, grid) of each."""
    from fangkong.people.crypto import encrypt
    from fangkong.people.idnumbers import make_resident_id
    from fangkong.people.masking import mask_id_number, mask_phone
    from fangkong.people.models import Person
    from fangkong.people.services import id_index, phone_index

    if count == 0:
        return []
    first = Person.objects.count()  # numbers follow the people already there: never the same twice
    grids = city.grid_ids[rng.integers(len(city.grid_ids), size=count)].tolist()
    male = (rng.random(count) < 0.5).tolist()
    given = rng.integers(len(GIVEN), size=(count, 2))
    short = (rng.random(count) < 0.3).tolist()
    surnames = rng.integers(len(SURNAMES), size=count).tolist()
    columns: dict[str, list[Any]] = {k: [] for k in ("name", "sex", "birth_date", "id_number_cipher")}
    columns.update({k: [] for k in ("id_number_index", "id_number_masked", "phone_cipher", "phone_index")})
    columns["phone_masked"] = []
    for i in range(count):
        k = first + i
        birth = date(1940, 1, 1) + timedelta(days=k % 29_000)
        number = make_resident_id(
            area_code="420106", birth_date=birth, sequence=2 * ((k // 29_000) % 500) + int(male[i])
        )
        phone = f"19{k % 10}{k % 100_000_000:08d}"
        columns["name"].append(
            SURNAMES[surnames[i]] + GIVEN[given[i, 0]] + ("" if short[i] else GIVEN[given[i, 1]])
        )
        columns["sex"].append("M" if male[i] else "F")
        columns["birth_date"].append(db.day(birth))
        columns["id_number_cipher"].append(encrypt(number))
        columns["id_number_index"].append(id_index(id_type="resident_id", number=number))
        columns["id_number_masked"].append(mask_id_number(number))
        columns["phone_cipher"].append(encrypt(phone))
        columns["phone_index"].append(phone_index(phone))
        columns["phone_masked"].append(mask_phone(phone))
    ids = db.ids(Person, count)
    db.insert(Person, {"id": ids, "id_type": ["resident_id"] * count, "org_unit_id": grids, **columns})
    return list(zip(ids.tolist(), grids, strict=True))


def _contacts_write(
    rng: np.random.Generator,
    city: _City,
    db: _Writer,
    made: _Made,
    *,
    total: int,
    now_s: float,
    report: Callable[[str, int, int], None],
) -> dict[str, int]:
    """The contacts, their orders and work items, ``BATCH`` contacts at a time."""
    from fangkong.contacts.models import Contact
    from fangkong.people.models import Person
    from fangkong.quarantine.models import QuarantineOrder
    from fangkong.worklist.models import WorkItem

    counts = {"contacts": 0, "orders": 0, "work_items": 0}
    if total == 0 or len(made.ids) == 0:
        return counts
    people = sorted(
        Person.objects.values_list("pk", "org_unit_id"), key=lambda p: city.grid_rank.get(p[1], -1)
    )
    person_ids = np.array([pk for pk, _grid in people], dtype=np.int64)
    person_grids = np.array([grid for _pk, grid in people], dtype=np.int64)
    case_idx, person_idx = _pairs(rng, made, total=total, person_ids=person_ids)
    kinds = np.array(["close", "secondary"])
    exposures = np.array(["household", "workplace", "venue", "transport", "social", "colocation", "medical"])
    found_by = np.array(["manual", "colocation", "venue", "household"])
    statuses = np.array(["confirmed", "proposed", "dismissed"])
    for start in range(0, total, BATCH):
        c, p = case_idx[start : start + BATCH], person_idx[start : start + BATCH]
        n = len(c)
        last = np.floor(made.reported[c] - rng.uniform(6, 96, n) * HOUR)
        decided = np.floor(np.minimum(made.reported[c] + rng.uniform(2, 40, n) * HOUR, now_s))
        close = rng.random(n) < 0.85
        status = statuses[rng.choice(3, n, p=[0.9, 0.04, 0.06])]
        grids = person_grids[p]
        ids = db.ids(Contact, n)
        db.insert(
            Contact,
            {
                "id": ids,
                "source_case_id": made.ids[c],
                "person_id": person_ids[p],
                "org_unit_id": grids,
                "kind": np.where(close, kinds[0], kinds[1]),
                "exposure_type": exposures[rng.choice(7, n, p=[0.2, 0.2, 0.2, 0.1, 0.15, 0.12, 0.03])],
                "first_exposure": db.times(last - np.floor(rng.uniform(0, 48, n) * HOUR)),
                "last_exposure": db.times(last),
                "discovered_by": found_by[rng.choice(4, n, p=[0.6, 0.2, 0.1, 0.1])],
                "status": status,
                "decided_at": db.times(np.where(status == "proposed", np.nan, decided)),
            },
        )
        confirmed = status == "confirmed"
        m = int(confirmed.sum())
        day_one = [d + timedelta(days=1) for d in db.local_dates(last[confirmed])]
        end = db.midnights([d + timedelta(days=7) for d in day_one])
        released = end <= now_s
        centralised = close[confirmed]
        order_grids = grids[confirmed].tolist()
        order_ids = db.ids(QuarantineOrder, m)
        db.insert(
            QuarantineOrder,
            {
                "id": order_ids,
                "person_id": person_ids[p][confirmed],
                "contact_id": ids[confirmed],
                "org_unit_id": order_grids,
                "kind": np.where(centralised, "centralised", "home"),
                "status": np.where(released, "released", "active"),
                "protocol": ["china-9"] * m,
                "last_exposure": db.times(last[confirmed]),
                "day_one": [db.day(d) for d in day_one],
                "planned_end": db.times(end),
                "site_id": [
                    city.site_of_district[city.district_of[g].pk] if is_close else None
                    for g, is_close in zip(order_grids, centralised.tolist(), strict=True)
                ],
                "ended_at": db.times(np.where(released, end, np.nan)),
            },
        )
        done = decided[confirmed] + np.floor(rng.uniform(1, 30, m) * HOUR)
        db.insert(
            WorkItem,
            {
                "kind": np.where(centralised, "quarantine.transfer", "quarantine.notice"),
                "title": np.where(centralised, "转运至集中隔离点", "送达居家隔离告知书"),
                "priority": ["urgent"] * m,
                "subject_type": ["quarantine.quarantineorder"] * m,
                "subject_id": [str(pk) for pk in order_ids.tolist()],
                "org_unit_id": order_grids,
                "due_at": db.times(decided[confirmed] + 4 * HOUR),
                "status": np.where(done < now_s, "done", "open"),
                "done_at": db.times(np.where(done < now_s, done, np.nan)),
            },
        )
        counts["contacts"] += n
        counts["orders"] += m
        counts["work_items"] += m
        report("contacts", counts["contacts"], total)
    return counts


def _pairs(
    rng: np.random.Generator, made: _Made, *, total: int, person_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(case index, person index) of ``total`` contacts: never twice the same pair, never the
    case's own person; 65 % live within a few hundred people (in grid order) of the case."""
    people = len(person_ids)
    rank = np.empty(int(person_ids.max()) + 1, dtype=np.int64)
    rank[person_ids] = np.arange(people)
    home = rank[made.person_ids]
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < total:
        n = int((total - len(keys)) * 1.05) + 16
        c = rng.choice(len(made.ids), size=n, p=made.weights)
        near = np.clip(home[c] + rng.normal(0, 300, size=n).astype(np.int64), 0, people - 1)
        p = np.where(rng.random(n) < 0.65, near, rng.integers(people, size=n))
        keys = np.unique(np.concatenate([keys, (c.astype(np.int64) * people + p)[p != home[c]]]))
    keys = rng.permutation(keys)[:total]
    case_idx, person_idx = np.divmod(keys, people)
    order = np.argsort(made.reported[case_idx], kind="stable")  # written roughly in time order
    return case_idx[order], person_idx[order]
