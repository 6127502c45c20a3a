"""Demo volunteers: ~40 in the first street and a few elsewhere, dispatches with hours, role models.

Written through the volunteer services, as a resident's sign-up and the street's coordinator
(``volunteer_coordinator``) would; volunteers outside the coordinator's street are decided by the
demo ``admin``. Seeded, so the same ``seed`` gives the same volunteers.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from faker import Faker

from fangkong.demo.users import FIRST_STREET_CODE
from fangkong.orgs.models import Level, OrgUnit
from fangkong.volunteers.models import Availability, Skill, Volunteer
from fangkong.volunteers.selectors import dispatchable_items
from fangkong.volunteers.services import (
    commendation_create,
    dispatch_complete,
    dispatch_create,
    volunteer_apply,
    volunteer_decide,
)
from fangkong.volunteers.validation import SignUpData

IN_STREET, ELSEWHERE, AWAITING = 40, 6, 7
CITATIONS = (
    "疫情封控期间，连续十四天每天清晨骑车为辖区隔离户配送生活物资和药品，风雨无阻，"
    "从未出过一次差错。居民们说：“看到他的身影，心里就踏实了。”",
    "退休护士，主动请缨到核酸采样点协助扫码、维持秩序，每天坚守八小时以上，"
    "还耐心地教老人使用健康码，用专业和温暖守护着社区的安全。",
    "组织楼栋志愿者为独居老人建立“一对一”电话回访，每天问候、记录需求、跑腿代购，"
    "让困难群众在特殊时期感受到邻里的关爱。",
)


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        if phone not in used:
            used.add(phone)
            return phone


def _apply(fake: Faker, rng: random.Random, used: set[str], area: OrgUnit) -> Volunteer:
    skills = rng.sample(Skill.values, k=rng.choice([1, 1, 2, 2, 3]))
    return volunteer_apply(
        data=SignUpData(
            name=fake.name(),
            phone=_phone(rng, used),
            org_unit_id=area.pk,
            skills=skills,
            availability=rng.choice(Availability.values),
            availability_note=rng.choice(["", "", "周末全天", "工作日晚上7点后", "上午有空"]),
            consent=True,
        )
    )


@transaction.atomic
def volunteers_demo_load(*, today: date, seed: int = 2022) -> dict[str, int]:
    """Load the demo volunteers once (nothing is written when some exist); returns the counts.

    Most are approved; ``AWAITING`` of the first street's wait for approval and one is rejected.
    Approved volunteers of the first street are dispatched to open work items of their area,
    most with hours logged; three citations are published on the public role-model list.
    """
    if Volunteer.objects.exists():
        return {"volunteers": Volunteer.objects.count(), "created": 0}
    User = get_user_model()
    coordinator = User.objects.get(username="volunteer_coordinator")
    admin = User.objects.get(username="admin")
    street = OrgUnit.objects.get(code=FIRST_STREET_CODE)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    used: set[str] = set()
    # The street itself, its communities and the first community's grids (where the open work is).
    below = list(OrgUnit.objects.filter(path__startswith=street.path, level=Level.COMMUNITY).order_by("path"))
    first_grids = (
        list(OrgUnit.objects.filter(path__startswith=below[0].path, level=Level.GRID).order_by("path")[:2])
        if below
        else []
    )
    areas = [street, *below, *below[:1] * 4, *first_grids]
    mine = [_apply(fake, rng, used, areas[i % len(areas)]) for i in range(IN_STREET)]
    for volunteer in mine[AWAITING:]:
        volunteer_decide(actor=coordinator, volunteer=volunteer, decision="approve", note="电话核实身份")
    volunteer_decide(
        actor=coordinator, volunteer=mine[AWAITING - 1], decision="reject", note="不在本街道居住"
    )
    others = (
        OrgUnit.objects.filter(level=Level.COMMUNITY).exclude(path__startswith=street.path).order_by("path")
    )
    elsewhere = [
        _apply(fake, rng, used, area)
        for area in list(others)[:: max(1, others.count() // ELSEWHERE)][:ELSEWHERE]
    ]
    for volunteer in elsewhere[1:]:
        volunteer_decide(actor=admin, volunteer=volunteer, decision="approve")
    dispatches = _dispatch(coordinator=coordinator, volunteers=mine[AWAITING:], rng=rng)
    approved = [v for v in mine[AWAITING:] if v.status == "approved"]
    for n, citation in enumerate(CITATIONS):
        commendation_create(
            actor=coordinator,
            volunteer=approved[n * 5],
            citation=citation,
            commended_on=today - timedelta(days=2 + 3 * n),
            published=True,
        )
    return {
        "volunteers": len(mine) + len(elsewhere),
        "dispatches": dispatches,
        "commendations": len(CITATIONS),
        "created": 1,
    }


def _dispatch(*, coordinator: Any, volunteers: list[Volunteer], rng: random.Random) -> int:
    """Send volunteers to open work items of their area; about three in four are done with hours."""
    count = 0
    for volunteer in volunteers:
        items = list(dispatchable_items(actor=coordinator, volunteer=volunteer)[:3])
        if not items:
            continue
        for item in rng.sample(items, k=min(len(items), rng.choice([1, 1, 2]))):
            dispatch = dispatch_create(actor=coordinator, volunteer=volunteer, work_item=item)
            count += 1
            if rng.random() < 0.75:
                hours = Decimal(rng.choice([5, 10, 15, 20, 25, 30, 40, 60])) / 10
                dispatch_complete(actor=coordinator, dispatch=dispatch, hours=hours, note="已完成")
    return count
