"""Loading the demo city into the database, once: the tree, the logins, residents, open work."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.audit.services import audit_record
from fangkong.demo.city import CITY_CODE, UnitSpec, city_spec, grid_refs
from fangkong.demo.geometry import unit_outlines
from fangkong.demo.residents import residents_generate, residents_insert
from fangkong.demo.users import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_USERNAMES,
    FIRST_GRID_CODE,
    demo_users_create,
    demo_work_items_create,
)
from fangkong.orgs.models import Level, Membership, OrgUnit
from fangkong.orgs.services import unit_path
from fangkong.people.models import Household, Person
from fangkong.worklist.models import WorkItem

__all__ = ["DEMO_PASSWORD", "DemoSummary", "demo_load", "demo_logins"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What the demo city holds; ``created`` is False when it was already there."""

    created: bool
    units: int
    grids: int
    households: int
    residents: int
    users: int
    work_items: int
    seconds: float

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k not in {"created", "seconds"}}


def demo_load(
    *, seed: int = 2022, residents: int = 50_000, progress: Progress | None = None, as_of: date | None = None
) -> DemoSummary:
    """Load the demo city (鹏城市, code 440300) for ``seed`` unless it is already there.

    Idempotent: when the city exists nothing is written and the summary counts what is there.
    Otherwise everything is written in one transaction and one ``demo.load`` audit event records
    the counts. Residents' ages are reckoned on ``as_of`` (today by default), so the same seed
    gives the same people on the same day. ``progress(stage, done, total)`` is called as it goes.
    """
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    if OrgUnit.objects.filter(code=CITY_CODE).exists():
        return _summary(created=False, started=started)
    spec = city_spec(seed=seed)
    report("generate", 0, residents)
    households = residents_generate(
        seed=seed, count=residents, grids=grid_refs(spec), as_of=as_of or timezone.localdate()
    )
    report("generate", residents, residents)
    with transaction.atomic():
        if OrgUnit.objects.filter(code=CITY_CODE).exists():  # another process won the race
            return _summary(created=False, started=started)
        units = _tree_create(spec)
        report("tree", len(units), len(units))
        users = demo_users_create(units=units)
        report("users", len(users), len(users))
        grid_ids = {code: unit.pk for code, unit in units.items() if unit.level == Level.GRID}
        residents_insert(households=households, grid_ids=grid_ids, progress=report)
        items = demo_work_items_create(grid=units[FIRST_GRID_CODE], worker=users["grid_worker"])
        report("work", len(items), len(items))
        summary = _summary(created=True, started=started)
        audit_record(
            actor=None, action="demo.load", target=units[CITY_CODE], after={"seed": seed, **summary.counts()}
        )
    return summary


def _tree_create(spec: UnitSpec) -> dict[str, OrgUnit]:
    """Every unit of ``spec``, written level by level so parents have keys; returned by code."""
    units: dict[str, OrgUnit] = {}
    outlines = unit_outlines(spec)
    level: list[tuple[UnitSpec, OrgUnit | None]] = [(spec, None)]
    depth = 0
    while level:
        rows = [
            OrgUnit(
                code=node.code,
                name=node.name,
                level=node.level,
                parent=parent,
                depth=depth,
                path=unit_path(code=node.code, parent=parent),
                geometry=outlines[node.code],
            )
            for node, parent in level
        ]
        OrgUnit.objects.bulk_create(rows)
        units.update((row.code, row) for row in rows)
        level = [
            (child, row) for (node, _parent), row in zip(level, rows, strict=True) for child in node.children
        ]
        depth += 1
    return units


def _summary(*, created: bool, started: float) -> DemoSummary:
    path = f"{CITY_CODE}/"
    in_city: dict[str, Any] = {"org_unit__path__startswith": path}
    return DemoSummary(
        created=created,
        units=OrgUnit.objects.filter(path__startswith=path).count(),
        grids=OrgUnit.objects.filter(path__startswith=path, level=Level.GRID).count(),
        households=Household.objects.filter(**in_city).count(),
        residents=Person.objects.filter(**in_city).count(),
        users=Membership.objects.filter(user__username__in=DEMO_USERNAMES, **in_city)
        .values("user")
        .distinct()
        .count(),
        work_items=WorkItem.objects.filter(**in_city).count(),
        seconds=time.perf_counter() - started,
    )


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, unit) of each demo login that exists, for printing beside the password.

    Below the city the unit is named as an address is, from the district down
    (“东湖区龙华街道福田社区第1网格”), since every community has a “第1网格”.
    """
    chains = {code: _chain(code) for _username, _role, code in DEMO_LOGINS}
    wanted = {c for chain in chains.values() for c in chain}
    names = dict(OrgUnit.objects.filter(code__in=wanted).values_list("code", "name"))
    held = set(
        Membership.objects.filter(user__username__in=DEMO_USERNAMES).values_list("user__username", "role")
    )
    return [
        (username, str(role.value), "".join(names.get(c, "") for c in chains[code]))
        for username, role, code in DEMO_LOGINS
        if (username, role.value) in held
    ]


def _chain(code: str) -> list[str]:
    """The codes from the district down to ``code`` (the city alone for the city)."""
    if code == CITY_CODE:
        return [code]
    return [code[:n] for n in range(6, len(code) + 1, 3)]
