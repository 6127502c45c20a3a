"""The demo's public portal: a bulletin on most days of the outbreak (yesterday's always), risk
areas from the outbreak, rebuttals, articles.

Written through the portal's services, as the demo ``publisher`` and ``commander`` would. Risk
areas: high for the (up to) three communities with most cases in the last 7 days, medium for a few
with cases 8–14 days ago only, and one high area whose last case is old enough that the daily rule
proposes a downgrade today (so a commander can approve it and watch the map change). Call it once,
on a fresh load, after the outbreak.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fangkong.cases.models import Case, Classification
from fangkong.common.protocol import active_profile
from fangkong.demo.city import CITY_CODE
from fangkong.orgs.models import Level, OrgUnit
from fangkong.portal import content, services
from fangkong.portal.models import Bulletin
from fangkong.portal.risk import risk_area_designate, risk_area_downgrades_propose

REBUTTALS = (
    (
        "喝高度白酒能预防新冠病毒感染",
        "false",
        "饮酒不能预防新冠病毒感染。75%浓度的酒精可以灭活体外环境中的病毒，但饮用的白酒进入人体后"
        "无法达到杀灭病毒的效果，过量饮酒反而会损害肝脏、降低免疫力。预防感染请坚持科学佩戴口罩、"
        "勤洗手、常通风、保持社交距离，并按程序接种疫苗。",
        "国家卫生健康委员会\n中国疾病预防控制中心",
    ),
    (
        "快递包裹会传播新冠病毒，收到快递就会被感染",
        "misleading",
        "病毒在物体表面存活时间有限，经过长途运输、温度变化后，包裹表面带有活病毒的可能性很低。"
        "但进口冷链物品等特殊情况下曾检出病毒核酸。建议收取快递时佩戴口罩，拆封后将外包装妥善处理，"
        "并及时洗手，无需过度恐慌。",
        "国家卫生健康委员会\n国务院联防联控机制新闻发布会",
    ),
    (
        "用盐水漱口、熏醋可以杀死新冠病毒",
        "false",
        "盐水漱口只能清洁口腔和咽部，不能清除呼吸道内的病毒；熏醋中醋酸浓度很低，达不到消毒效果，"
        "在密闭空间长时间熏醋还可能刺激呼吸道。家庭消毒请使用含氯消毒剂或75%酒精，并按说明使用。",
        "中国疾病预防控制中心",
    ),
    (
        "接种新冠疫苗后仍需要做好个人防护",
        "true",
        "疫苗可以显著降低重症和死亡风险，但不能百分之百防止感染。接种疫苗后仍应坚持佩戴口罩、"
        "勤洗手、少聚集等防护措施，共同筑牢免疫屏障。",
        "国家卫生健康委员会\n世界卫生组织",
    ),
)

ARTICLES = (
    (
        "正确佩戴口罩的五个要点",
        "口罩要盖住口鼻和下巴，鼻夹压紧，潮湿或污染后及时更换。",
        "一、选择合格的一次性医用口罩或医用外科口罩。\n\n二、分清内外和上下：深色面朝外，有金属条的一端朝上。"
        "\n\n三、口罩要完全覆盖口鼻和下巴，双手按压鼻夹使其贴合鼻梁。\n\n四、佩戴时间累计不超过4小时，"
        "潮湿、污染或破损时立即更换。\n\n五、摘口罩时不要接触口罩外侧，摘下后丢入垃圾桶并洗手。",
    ),
    (
        "居家健康监测期间要注意什么",
        "每天早晚各测一次体温，如实报告，不外出、不聚集。",
        "居家健康监测期间，请每天早晚各测量一次体温，并通过社区提供的链接如实上报。\n\n"
        "如出现发热（体温≥37.3℃）、干咳、乏力、咽痛、嗅（味）觉减退等症状，请立即联系所在社区，"
        "不要自行前往医院。\n\n监测期间尽量不外出；确需外出时全程佩戴口罩，避免乘坐公共交通工具。"
        "\n\n家中保持通风，每天开窗2～3次，每次不少于30分钟。",
    ),
    (
        "勤洗手：七步洗手法",
        "用流动水和洗手液，每次搓洗不少于20秒。",
        "第一步（内）：掌心相对，手指并拢相互揉搓。\n第二步（外）：手心对手背沿指缝相互揉搓，交换进行。"
        "\n第三步（夹）：掌心相对，双手交叉沿指缝相互揉搓。\n第四步（弓）：弯曲手指关节在另一手掌心旋转揉搓。"
        "\n第五步（大）：一手握住另一手大拇指旋转揉搓。\n第六步（立）：五个手指尖并拢在另一手掌心旋转揉搓。"
        "\n第七步（腕）：揉搓手腕、手臂，交换进行。",
    ),
)


def _community_case_days() -> dict[int, list[date]]:
    """Community id → the local days of its confirmed and asymptomatic cases."""
    parent_of = dict(OrgUnit.objects.filter(level=Level.GRID).values_list("pk", "parent_id"))
    days: dict[int, list[date]] = defaultdict(list)
    rows = Case.objects.filter(
        classification__in=[Classification.CONFIRMED, Classification.ASYMPTOMATIC]
    ).values_list("org_unit_id", "reported_at")
    for grid_id, reported_at in rows:
        community = parent_of.get(grid_id)
        if community is not None:
            days[community].append(timezone.localdate(reported_at))
    return days


def _risk_areas(*, commander: Any, today: date) -> dict[str, int]:
    days = _community_case_days()
    communities = {u.pk: u for u in OrgUnit.objects.filter(level=Level.COMMUNITY)}
    recent = Counter({c: sum(1 for d in ds if d >= today - timedelta(days=6)) for c, ds in days.items()})
    high = [c for c, n in recent.most_common(3) if n > 0]
    for c in high:
        first = min(d for d in days[c] if d >= today - timedelta(days=6))
        risk_area_designate(
            actor=commander,
            unit=communities[c],
            level="high",
            since=first,
            reason=f"近7天新增感染者{recent[c]}例，存在社区传播风险",
        )
    older = [
        c
        for c, ds in days.items()
        if c not in high
        and not recent[c]
        and any(today - timedelta(days=14) <= d <= today - timedelta(days=8) for d in ds)
    ]
    for c in sorted(older)[:3]:
        risk_area_designate(
            actor=commander,
            unit=communities[c],
            level="medium",
            since=today - timedelta(days=1),
            reason="8～14天前有新增感染者，近7天无新增",
        )
    rule = active_profile().risk_area
    taken = set(high) | set(older[:3])
    stale = sorted(
        (max(ds), c)
        for c, ds in days.items()
        if c not in taken and (rule.downgrade_on("high", max(ds)) or today) <= today
    )
    if stale:
        last, community = stale[-1]
    else:  # no old cluster in this outbreak: a community designated on the protocol's day
        community = next(c for c in sorted(communities) if c not in taken and c not in days)
        last = today - timedelta(days=(rule.days_without_case("high") or 7) + 1)
    risk_area_designate(
        actor=commander,
        unit=communities[community],
        level="high",
        since=last,
        reason=f"{last:%m月%d日}出现聚集性疫情",
    )
    return {"high": len(high) + 1, "medium": len(older[:3])}


def _bulletin_days(*, today: date, days: int, seed: int) -> list[date]:
    """The days that got a bulletin: every day of the outbreak but about one in eight (a weekend
    the office skipped), always yesterday's; none before the first case."""
    first = Case.objects.order_by("reported_at").values_list("reported_at", flat=True).first()
    if first is None:
        return [today - timedelta(days=1)]
    rng = random.Random(seed + 505)
    since = max(timezone.localdate(first), today - timedelta(days=days))
    span = [since + timedelta(days=n) for n in range((today - since).days)]
    return [day for day in span if day == today - timedelta(days=1) or rng.random() >= 0.12]


@transaction.atomic
def portal_demo_load(*, today: date, days: int = 1, seed: int = 2022) -> dict[str, int]:
    """Publish a bulletin for most of the last ``days`` days (yesterday's alone by default; the
    demo command asks for the outbreak's 30), drafted from the data as the publisher does, designate risk areas, run the daily rule, publish rebuttals and articles.
    Returns what it made; nothing is written when the portal already has a bulletin."""
    if Bulletin.objects.exists():
        return {}
    users = get_user_model().objects
    publisher, commander = users.get(username="publisher"), users.get(username="commander")
    city = OrgUnit.objects.get(code=CITY_CODE)
    published = _bulletin_days(today=today, days=days, seed=seed)
    for day in published:
        bulletin = services.bulletin_draft(actor=publisher, unit=city, day=day)
        if services.approval_required():
            services.bulletin_submit(actor=publisher, bulletin=bulletin)
            services.bulletin_approve(actor=commander, bulletin=bulletin)
        services.bulletin_publish(actor=publisher, bulletin=bulletin)
    areas = _risk_areas(commander=commander, today=today)
    proposals = risk_area_downgrades_propose(today=today)
    for i, (claim, verdict, explanation, sources) in enumerate(REBUTTALS):
        rebuttal = content.rebuttal_create(
            actor=publisher,
            unit=city,
            data=content.RebuttalData(
                claim=claim,
                verdict=verdict,
                explanation=explanation,
                sources=sources,
                date=today - timedelta(days=i * 3),
            ),
        )
        content.rebuttal_publish(actor=publisher, rebuttal=rebuttal)
    for title, summary, body in ARTICLES:
        article = content.article_create(
            actor=publisher, unit=city, data=content.ArticleData(title=title, summary=summary, body=body)
        )
        content.article_publish(actor=publisher, article=article)
    return {
        "bulletins": len(published),
        **areas,
        "proposals": proposals,
        "rebuttals": len(REBUTTALS),
        "articles": len(ARTICLES),
    }
