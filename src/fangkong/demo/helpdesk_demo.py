"""The demo's help desk: two days of residents' requests, written through the services as they
would have happened. In the first district (the demo hotline's): most called back in time and
resolved (many rated), some being handled, a few fresh ones waiting with their countdown, and three
nobody called back, escalated up the tree by the same sweep the scheduler runs. In 西乡区, where
much of the outbreak is, a smaller desk: mostly resolved, a few being handled or fresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from faker import Faker

from fangkong.demo.city import DISTRICT_CODES
from fangkong.demo.users import FIRST_DISTRICT_CODE
from fangkong.helpdesk.escalation import help_requests_escalate
from fangkong.helpdesk.models import HelpRequest
from fangkong.helpdesk.services import (
    RequestData,
    call_log,
    help_request_rate,
    help_request_resolve,
    help_request_submit,
)
from fangkong.orgs.models import Level, OrgUnit

# (category, urgency, what the resident wrote, what was done)
NEEDS = (
    (
        "medicine",
        "urgent",
        "家中老人高血压药只剩一天的量，小区封控出不去",
        "网格员代购硝苯地平缓释片，已送到门口",
    ),
    ("medicine", "normal", "孩子发烧需要布洛芬混悬液，药店不送货", "志愿者从社区卫生服务中心取药送达"),
    ("medical_care", "urgent", "透析病人需要按时去医院，封控区出不了门", "协调120专车接送，已按时完成透析"),
    ("medical_care", "normal", "孕妇需要按期产检，想知道怎么出小区", "开具就医通行证明，预约定点医院产检"),
    ("food", "normal", "家里米和菜快没了，网上平台约不到配送", "社区保供点配送蔬菜包和大米一袋"),
    ("food", "urgent", "独居老人家中断粮，手机不会用买菜软件", "志愿者送去三天的食品，并登记为重点关照对象"),
    ("care", "normal", "母亲行动不便，隔离期间无人照料", "安排社区网格员每日上门探视两次"),
    ("care", "urgent", "残障人士轮椅坏了，无法下楼做核酸", "安排上门采样，并联系维修"),
    ("psychological", "normal", "隔离第五天，睡不着，很焦虑", "转介心理援助热线，专业人员已电话疏导"),
    ("other", "normal", "快递被放在小区门口，无法取件", "网格员统一转运至楼下并消杀"),
)


# what becomes of each request, per district, and who calls back: the demo hotline in its district;
# in 西乡区 the demo's admin stands in for that district's desk
PLANS = (
    (
        FIRST_DISTRICT_CODE,
        "hotline",
        ["resolved"] * 24 + ["handling"] * 6 + ["fresh"] * 5 + ["forgotten"] * 3,
    ),
    (DISTRICT_CODES[-1], "admin", ["resolved"] * 9 + ["handling"] * 3 + ["fresh"] * 2),
)


@dataclass(frozen=True)
class HelpdeskDemoSummary:
    requests: int
    resolved: int
    escalated: int


def helpdesk_demo_load(*, seed: int = 2022, now: datetime | None = None) -> HelpdeskDemoSummary:
    """Load the demo requests once (nothing is written when there are already some)."""
    if HelpRequest.objects.exists():
        return HelpdeskDemoSummary(0, 0, 0)
    now = now or timezone.now()
    rng = np.random.default_rng(seed + 404)
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 404)
    desks = []
    for code, username, plans in PLANS:
        operator = get_user_model().objects.get(username=username)
        district = OrgUnit.objects.get(code=code)
        communities = list(
            OrgUnit.objects.filter(level=Level.COMMUNITY, path__startswith=district.path).order_by("path")
        )
        desks += [(communities, operator, plan) for plan in plans]
    resolved = 0
    with transaction.atomic():
        for index, (communities, operator, plan) in enumerate(desks):
            category, urgency, text, done = NEEDS[int(rng.integers(len(NEEDS)))]
            if plan == "fresh":
                sent = now - timedelta(minutes=int(rng.integers(2, 25)))
                urgency = "urgent" if index % 2 else urgency
            elif plan == "forgotten":
                sent = now - timedelta(minutes=int(rng.integers(150, 200)))
            else:
                sent = now - timedelta(hours=float(rng.uniform(2, 46)))
            community = communities[int(rng.integers(len(communities)))]
            request = help_request_submit(
                data=RequestData(
                    name=fake.name(),
                    phone=f"1{int(rng.choice([3, 5, 7, 8, 9]))}{int(rng.integers(10**8, 10**9))}",
                    community_id=community.pk,
                    category=category,
                    urgency=urgency,
                    description=text,
                    address=f"{int(rng.integers(1, 30))}栋{int(rng.integers(1, 30))}0{int(rng.integers(1, 6))}",
                ),
                now=sent,
            ).request
            if plan in {"resolved", "handling"}:
                window = (request.due_at - sent).total_seconds()
                late = rng.random() < 0.12  # about one in eight called back late
                delay = window * (float(rng.uniform(1.1, 2.0)) if late else float(rng.uniform(0.15, 0.9)))
                called = sent + timedelta(seconds=delay)
                call_log(
                    actor=operator,
                    request=request,
                    outcome="reached",
                    called_at=called,
                    note="已与居民通话，了解需求",
                )
            if plan == "resolved":
                finished = min(now, called + timedelta(minutes=int(rng.integers(30, 180))))
                help_request_resolve(actor=operator, request=request, resolution=done, resolved_at=finished)
                resolved += 1
                if rng.random() < 0.7:
                    help_request_rate(request=request, rating=int(rng.choice([4, 5, 5, 5, 3])), comment="")
        escalated = help_requests_escalate(now=now)
    return HelpdeskDemoSummary(len(desks), resolved, escalated)
