"""The demo's round of mass testing (全员核酸): one day over the whole city, under way when the
demo loads.

- Areas by the portal's risk areas: a high-risk community is sealed (one tube per household), a
  medium-risk one controlled (10 in a tube), and so are the other communities of a street that
  holds a sealed one; the rest of the city is tested 20 in a tube.
- A sampling site per community (at the middle of its outline), its queue posted.
- Most residents were sampled since the morning, in queue order (households together), through
  ``testing.batch.tubes_record``; people under quarantine alone, a single tube each (their
  order's test of the day, resulted with the rest); about 3 % were not (the untested lists), and in the collector's
  street (the first of the first district) about a third still wait in the queues.
- Tubes closed more than two hours ago reached the lab in boxes and were resulted through
  ``testing.results.tube_results_record``: all negative but two pools of the first district. The
  first pool's members were re-sampled at the door and one is positive: a suspected case found by
  mass testing. The second pool's members wait for their re-sample (the grid workers' items).

Seeded; written once (nothing when a round exists).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fangkong.demo.users import FIRST_COMMUNITY_CODE, FIRST_DISTRICT_CODE, FIRST_STREET_CODE
from fangkong.orgs.models import Level, OrgUnit
from fangkong.people.models import Person
from fangkong.quarantine.models import LIVE_STATUSES, QuarantineOrder
from fangkong.testing.batch import TubeScans, tubes_record
from fangkong.testing.boxes import box_pack, box_receive
from fangkong.testing.codes import person_code
from fangkong.testing.models import AreaLevel, Round, SamplingSite, Tube, TubeKind
from fangkong.testing.results import ResultRow, tube_results_record
from fangkong.testing.selectors import levels_by_risk
from fangkong.testing.services import (
    SiteData,
    area_of,
    round_create,
    site_create,
    site_queue_post,
    tube_close,
    tube_open,
    tube_scan,
)

UNTESTED = 0.03  # residents not sampled (away, refused, bedridden: the untested lists)
WAITING_IN_QUEUE = 0.35  # of the collector's community, still to come
IN_TRANSIT = timedelta(hours=2)  # tubes closed this recently are on their way to the lab
LAB = "鹏城市疾控中心实验室"


@dataclass(frozen=True)
class TestingSummary:
    created: bool
    tubes: int = 0
    sampled: int = 0
    resulted: int = 0
    positive_pools: int = 0
    recalls: int = 0
    cases: tuple[str, ...] = ()


def _centre(unit: OrgUnit) -> tuple[float, float]:
    ring = (unit.geometry or {}).get("coordinates", [[[114.06, 22.55]]])[0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2


@transaction.atomic
def testing_demo_load(*, seed: int = 2022, now: datetime | None = None) -> TestingSummary:
    """Load the round (see the module) unless one exists."""
    if Round.objects.exists():
        return TestingSummary(created=False)
    now = now or timezone.now()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["commander", "lab", "sampler", "admin"])
    }
    if len(users) < 4:
        return TestingSummary(created=False)
    rng = random.Random(seed)
    city = OrgUnit.objects.get(level=Level.CITY)
    communities = list(
        OrgUnit.objects.filter(level=Level.COMMUNITY).select_related("parent").order_by("path")
    )
    levels = _levels(communities)
    started = now - timedelta(hours=10)
    the_round = round_create(
        actor=users["commander"],
        name=f"鹏城市第1轮全员核酸（{timezone.localtime(now):%m月%d日}）",
        org_unit=city,
        starts_at=started,
        ends_at=now + timedelta(hours=14),
        areas=[(city, "elsewhere"), *[(c, level) for c, level in levels.items()]],
    )
    sites = {c.pk: _site(users["commander"], users["admin"], c, rng) for c in communities}
    people, isolated = _queue(communities)
    tubes: dict[int, list[Tube]] = {}
    sampled = 0
    for community in communities:
        site = sites[community.pk]
        queue = people.get(community.pk, [])
        here = [p for p in queue if rng.random() >= UNTESTED]
        if (
            community.path.rstrip("/").split("/")[-2] == FIRST_STREET_CODE
            and levels.get(community) != "sealed"
        ):
            here = here[: int(len(here) * (1 - WAITING_IN_QUEUE))]  # the collector's street, mid-round
        recorded = tubes_record(
            actor=users["admin"],
            round=the_round,
            site=site,
            tubes=_fill(the_round, site, here, started, now, rng),
        )
        tubes[community.pk] = recorded.tubes
        sampled += recorded.people
        alone = _fill_singles(site, isolated.get(community.pk, []), started, now, rng)
        if alone:
            singles = tubes_record(
                actor=users["admin"], round=the_round, site=site, tubes=alone, kind=TubeKind.SINGLE
            )
            tubes[community.pk] += singles.tubes
            sampled += singles.people
    resulted = _to_the_lab(users, the_round, sites, tubes, now)
    summary = _positives(users, the_round, sites, tubes, now, rng)
    return TestingSummary(
        created=True,
        tubes=sum(len(t) for t in tubes.values()),
        sampled=sampled,
        resulted=resulted,
        positive_pools=2,
        recalls=summary[0],
        cases=summary[1],
    )


def _levels(communities: list[OrgUnit]) -> dict[OrgUnit, str]:
    """The levels the risk areas give (``testing.selectors.levels_by_risk``), less 防范区."""
    levels = levels_by_risk(communities=communities)
    return {c: levels[c.pk] for c in communities if levels[c.pk] != AreaLevel.ELSEWHERE}


def _site(actor: Any, staff: Any, community: OrgUnit, rng: random.Random) -> SamplingSite:
    """The community's site, set up by the commander; its staff (here: the platform) post the queue."""
    lon, lat = _centre(community)
    site = site_create(
        actor=actor,
        community=community,
        data=SiteData(
            name=f"{community.name}核酸采样点",
            address=f"{community.name}党群服务中心广场",
            lon=round(lon, 5),
            lat=round(lat, 5),
            hours="07:00-22:00",
            teams=rng.choice([2, 3, 4]),
        ),
    )
    queue = rng.choices(["none", "short", "long"], weights=[5, 4, 1])[0]
    return site_queue_post(
        actor=staff, site=site, queue=queue, minutes={"none": 0, "short": 15, "long": 45}[queue]
    )


def _queue(
    communities: list[OrgUnit],
) -> tuple[dict[int, list[tuple[int, int | None]]], dict[int, list[int]]]:
    """Residents by community, households together (the order of a sampling queue), and apart
    the people under quarantine, who are sampled alone (their order's test of the day)."""
    grid_to_community = dict(OrgUnit.objects.filter(level=Level.GRID).values_list("pk", "parent_id"))
    queue: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    isolated: dict[int, list[int]] = defaultdict(list)
    live = set(QuarantineOrder.objects.filter(status__in=LIVE_STATUSES).values_list("person_id", flat=True))
    rows = Person.objects.filter(merged_into__isnull=True).order_by("household_id", "pk")
    for pk, grid, household in rows.values_list("pk", "org_unit_id", "household_id").iterator():
        community = grid_to_community.get(grid, 0)
        if pk in live:
            isolated[community].append(pk)
        else:
            queue[community].append((pk, household))
    return queue, isolated


def _fill_singles(
    site: SamplingSite, people: list[int], start: datetime, now: datetime, rng: random.Random
) -> list[TubeScans]:
    """A single tube for each person under quarantine (单采单检), taken at their door or quarantine
    site during the morning (the same day: the tube stands for their order's test)."""
    day_start = max(start, timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0))
    span = max(0.0, (now - day_start).total_seconds() - 600)
    prefix = f"{timezone.localtime(now):%y%m%d}{site.pk:04d}9"
    return [
        TubeScans(
            key=n,
            barcode=f"{prefix}{n:04d}",
            person_ids=[pk],
            closed_at=day_start + timedelta(seconds=rng.uniform(0, span)),
        )
        for n, pk in enumerate(people)
    ]


def _fill(
    the_round: Round,
    site: SamplingSite,
    people: list[tuple[int, int | None]],
    start: datetime,
    now: datetime,
    rng: random.Random,
) -> list[TubeScans]:
    """Tubes of the area's size (a sealed area: one per household), closed through the day."""
    area = area_of(round=the_round, site=site)
    assert area is not None  # the city is one of the round's areas
    size, sealed = area.pool_size, area.level == "sealed"
    groups: list[list[int]] = []
    if sealed:
        by_household: dict[int | None, list[int]] = defaultdict(list)
        for pk, household in people:
            by_household[household or -pk].append(pk)
        groups = [g[i : i + 20] for g in by_household.values() for i in range(0, len(g), 20)]
    else:
        ids = [pk for pk, _household in people]
        groups = [ids[i : i + size] for i in range(0, len(ids), size)]
    span = (now - start).total_seconds() - 600
    closed = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in groups)
    prefix = f"{timezone.localtime(now):%y%m%d}{site.pk:04d}"
    return [
        TubeScans(key=n, barcode=f"{prefix}{n:05d}", person_ids=group, closed_at=at)
        for n, (group, at) in enumerate(zip(groups, closed, strict=True))
    ]


def _to_the_lab(
    users: dict[str, Any],
    the_round: Round,
    sites: dict[int, SamplingSite],
    tubes: dict[int, list[Tube]],
    now: datetime,
) -> int:
    """Boxes from each site of the tubes closed before the last two hours, received and resulted
    negative (the two positive pools are resulted by ``_positives``)."""
    positives = set(_positive_pools(tubes, sites, now))
    rows: list[ResultRow] = []
    for community_id, made in tubes.items():
        old = [t for t in made if t.closed_at and t.closed_at < now - IN_TRANSIT]
        if not old:
            continue
        site = sites[community_id]
        box = box_pack(
            actor=users["admin"],
            site=site,
            round=the_round,
            code=f"BOX{site.pk:05d}A",
            barcodes=[t.barcode for t in old],
        )
        box_receive(actor=users["lab"], code=box.code)
        rows += [
            ResultRow(
                key=t.pk,
                barcode=t.barcode,
                result="negative",
                tested_at=(t.closed_at or now) + timedelta(minutes=90),
                lab=LAB,
            )
            for t in old
            if t.barcode not in positives
        ]
    return tube_results_record(actor=users["lab"], rows=rows).recorded


def _in_first_district(site: SamplingSite) -> bool:
    return site.org_unit.code.startswith(FIRST_DISTRICT_CODE)


def _positive_pools(tubes: dict[int, list[Tube]], sites: dict[int, SamplingSite], now: datetime) -> list[str]:
    """The barcodes of the two positive pools: one of the first community (its members live on
    the demo grid workers' grids), one of another community of the first district."""
    mine = next(c for c, s in sites.items() if s.org_unit.code == FIRST_COMMUNITY_CODE)
    other = next(c for c, s in sites.items() if _in_first_district(s) and c != mine and tubes.get(c))
    chosen = []
    for community in (mine, other):
        candidates = [
            t for t in tubes[community] if t.members_count >= 3 and (t.closed_at or now) < now - IN_TRANSIT
        ]
        chosen.append(candidates[len(candidates) // 3].barcode)
    return chosen


def _positives(
    users: dict[str, Any],
    the_round: Round,
    sites: dict[int, SamplingSite],
    tubes: dict[int, list[Tube]],
    now: datetime,
    rng: random.Random,
) -> tuple[int, tuple[str, ...]]:
    """The two positive pools: results, recalls; the first pool re-sampled, one member positive."""
    first, second = _positive_pools(tubes, sites, now)
    pools = {t.barcode: t for t in Tube.objects.filter(barcode__in=[first, second]).select_related("site")}
    out = tube_results_record(
        actor=users["lab"],
        rows=[
            ResultRow(
                key=n,
                barcode=code,
                result="positive",
                tested_at=now - timedelta(hours=3 - n),
                lab=LAB,
                ct_orf=31.5 + n,
                ct_n=30.8 + n,
            )
            for n, code in enumerate((first, second))
        ],
    )
    pool = pools[first]
    members = list(pool.members.select_related("person").order_by("id"))
    resamples = []
    for n, member in enumerate(members):
        tube = tube_open(
            actor=users["sampler"],
            round=the_round,
            site=pool.site,
            barcode=f"R{pool.barcode[-10:]}{n:02d}",
            kind=TubeKind.RESAMPLE,
        )
        tube_scan(actor=users["sampler"], tube_id=tube.pk, code=person_code(member.person))
        resamples.append(tube_close(actor=users["sampler"], tube=tube))
    box = box_pack(
        actor=users["sampler"],
        site=pool.site,
        round=the_round,
        code=f"BOX{pool.site.pk:05d}R",
        barcodes=[t.barcode for t in resamples],
    )
    box_receive(actor=users["lab"], code=box.code)
    sick = rng.randrange(len(resamples))
    found = tube_results_record(
        actor=users["lab"],
        rows=[
            ResultRow(
                key=n,
                barcode=t.barcode,
                result="positive" if n == sick else "negative",
                tested_at=now - timedelta(minutes=40),
                lab=LAB,
                ct_orf=27.9 if n == sick else None,
                ct_n=27.1 if n == sick else None,
            )
            for n, t in enumerate(resamples)
        ],
    )
    return out.recalls, tuple(found.cases)
