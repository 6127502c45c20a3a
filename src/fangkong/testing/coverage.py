"""Coverage of a round (应检尽检): per grid, the residents expected, sampled, resulted and positive,
and the untested people of a grid for its workers.

Rules:
- expected: the registry's residents (merged records left out) living in the round's areas, less
  those exempted for the round with a reason (``Exemption``);
- sampled: swabs of the round (a re-sample does not count twice) by the grid the person lived on
  when sampled;
- resulted: sampled residents whose tube has a result; positive: whose tube is positive;
- quarantined: expected residents not swabbed in the round but under a live quarantine order —
  tested through their order's test days, they count as covered and are not on the untested
  list;
- the figures are computed in the database, two grouped queries for the whole round, whatever its
  size; the actor sees the grids of their area only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.people.models import Person
from fangkong.quarantine.models import LIVE_STATUSES, QuarantineOrder
from fangkong.testing.models import Exemption, Round, TubeMember, TubeResultValue


@dataclass
class GridCoverage:
    grid: OrgUnit
    expected: int = 0
    sampled: int = 0
    resulted: int = 0
    positive: int = 0
    quarantined: int = 0

    @property
    def covered(self) -> int:
        return self.sampled + self.quarantined

    @property
    def untested(self) -> int:
        return max(0, self.expected - self.covered)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.expected if self.expected else 100.0


def _area_filter(the_round: Round, field: str) -> Q:
    paths = [a.org_unit.path for a in the_round.areas.select_related("org_unit")]
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def round_people(*, the_round: Round) -> QuerySet[Person]:
    """The residents the round expects (see the module)."""
    exempt = Exemption.objects.filter(round=the_round, person=OuterRef("pk"))
    return (
        Person.objects.filter(merged_into__isnull=True)
        .filter(_area_filter(the_round, "org_unit__path"))
        .exclude(Exists(exempt))
    )


def coverage_by_grid(*, actor: Any, the_round: Round) -> list[GridCoverage]:
    """The grids of the actor's area in the round, each with its figures (grid order)."""
    grids = {
        g.pk: GridCoverage(grid=g)
        for g in visible(actor, OrgUnit.objects.filter(level=Level.GRID), perm=Perm.TESTING_VIEW)
        .filter(_area_filter(the_round, "path"))
        .select_related("parent")
        .order_by("path")
    }
    ids = list(grids)
    residents = Person.objects.filter(merged_into__isnull=True, org_unit_id__in=ids)
    for unit, n in (
        residents.values_list("org_unit_id")
        .annotate(n=Count("id"))
        .values_list("org_unit_id", "n")
        .order_by()
    ):
        grids[unit].expected = n
    # the exempted who were not swabbed after all are not expected (few: one query)
    exempt = (
        Exemption.objects.filter(round=the_round, person__in=residents)
        .exclude(Exists(_swabbed(the_round, field="person_id")))
        .values_list("person__org_unit_id")
        .annotate(n=Count("id"))
        .values_list("person__org_unit_id", "n")
        .order_by()
    )
    for unit, n in exempt:
        grids[unit].expected -= n
    swabs = (  # by the grid each swab was taken for: no join with the people
        TubeMember.objects.filter(round=the_round, recall__isnull=True, grid_id__in=ids)
        .values("grid_id")
        .annotate(
            sampled=Count("id"),
            resulted=Count("id", filter=~Q(tube__result="")),
            positive=Count("id", filter=Q(tube__result=TubeResultValue.POSITIVE)),
        )
        .order_by()
    )
    for row in swabs:
        grid = grids[row["grid_id"]]
        grid.sampled, grid.resulted, grid.positive = row["sampled"], row["resulted"], row["positive"]
    quarantined = (  # from the live orders (few), not from the residents (many)
        QuarantineOrder.objects.filter(status__in=LIVE_STATUSES, person__in=residents)
        .exclude(Exists(_swabbed(the_round, field="person_id")))
        .values_list("person__org_unit_id")
        .annotate(n=Count("person", distinct=True))
        .values_list("person__org_unit_id", "n")
        .order_by()
    )
    for unit, n in quarantined:
        grids[unit].quarantined = n
    return list(grids.values())


def _live_order() -> QuerySet[QuarantineOrder]:
    return QuarantineOrder.objects.filter(person=OuterRef("pk"), status__in=LIVE_STATUSES)


def _swabbed(the_round: Round, *, field: str = "pk") -> QuerySet[TubeMember]:
    return TubeMember.objects.filter(round=the_round, person=OuterRef(field), recall__isnull=True)


def untested(*, actor: Any, the_round: Round, grid: OrgUnit) -> QuerySet[Person]:
    """The residents of ``grid`` the round expects who have no swab in it yet (household order)."""
    people = (
        round_people(the_round=the_round)
        .filter(org_unit=grid)
        .exclude(Exists(_swabbed(the_round)))
        .exclude(Exists(_live_order()))
    )
    return (
        visible(actor, people, perm=Perm.PEOPLE_VIEW)
        .select_related("household")
        .order_by("household_id", "pk")
    )


def totals(rows: list[GridCoverage]) -> GridCoverage:
    """The figures of all the rows together (the grid left as the first row's, for the type)."""
    total = GridCoverage(grid=rows[0].grid if rows else OrgUnit())
    for row in rows:
        total.expected += row.expected
        total.sampled += row.sampled
        total.resulted += row.resulted
        total.positive += row.positive
        total.quarantined += row.quarantined
    return total
