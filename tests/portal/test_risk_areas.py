"""Risk areas: designation, the daily downgrade rule at the protocol's day, decisions, the map."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from fangkong.common.errors import Conflict, Forbidden
from fangkong.common.protocol import active_profile
from fangkong.portal.models import ChangeKind, RiskArea, RiskAreaChange
from fangkong.portal.risk import (
    last_new_case_on,
    risk_area_designate,
    risk_area_downgrades_propose,
    risk_proposal_approve,
    risk_proposal_reject,
)
from tests.orgs.factories import user_with_role
from tests.portal.factories import at, case_at

pytestmark = pytest.mark.django_db

LAST_CASE = date(2022, 5, 1)


def _square(x: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x, 22.5], [x + 0.01, 22.5], [x + 0.01, 22.51], [x, 22.51], [x, 22.5]]],
    }


@pytest.fixture
def area(tree, commander, epidemiologist):
    """The community is high since 28 April; its last confirmed case was on LAST_CASE."""
    case_at(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", when=at(LAST_CASE, 21))
    case_at(
        actor=epidemiologist,
        grid=tree.grid_b,
        classification="suspected",
        when=at(LAST_CASE + timedelta(days=3)),
    )
    return risk_area_designate(
        actor=commander, unit=tree.community, level="high", since=date(2022, 4, 28), reason="聚集性疫情"
    )


def _due(level: str, last: date) -> date:
    due = active_profile().risk_area.downgrade_on(level, last)
    assert due is not None
    return due


def test_last_new_case_ignores_suspected_cases_and_counts_from_since(area, tree, commander):
    assert last_new_case_on(area) == LAST_CASE
    empty = risk_area_designate(
        actor=commander, unit=tree.grid_far, level="medium", since=date(2022, 5, 3), reason="x"
    )
    assert last_new_case_on(empty) == date(2022, 5, 3)


def test_downgrade_is_proposed_on_the_protocols_day_and_not_a_day_before(area):
    due = _due("high", LAST_CASE)
    days = active_profile().risk_area.days_without_case("high")
    assert due == LAST_CASE + timedelta(days=days + 1)  # china-9: 7 case-free days, then the 9th
    assert risk_area_downgrades_propose(today=due - timedelta(days=1)) == 0
    assert not RiskAreaChange.objects.filter(kind=ChangeKind.PROPOSED).exists()
    assert risk_area_downgrades_propose(today=due) == 1
    proposal = RiskAreaChange.objects.get(kind=ChangeKind.PROPOSED)
    assert (proposal.from_level, proposal.to_level, proposal.day) == ("high", "medium", due)
    assert proposal.reason.startswith(f"{days} ") or f"{days}" in proposal.reason


def test_the_rule_is_idempotent(area):
    due = _due("high", LAST_CASE)
    assert risk_area_downgrades_propose(today=due) == 1
    assert risk_area_downgrades_propose(today=due) == 0
    assert risk_area_downgrades_propose(today=due + timedelta(days=1)) == 0
    call_command("portal_risk_sweep", "--day", due.isoformat())
    assert RiskAreaChange.objects.filter(kind=ChangeKind.PROPOSED, decided_at__isnull=True).count() == 1


def test_approval_steps_the_area_down_and_the_map_changes(
    area, tree, commander, client, django_capture_on_commit_callbacks
):
    tree.community.geometry = _square(114.0)
    tree.community.save()
    for i, grid in enumerate([tree.grid_a, tree.grid_b, tree.grid_far]):
        grid.geometry = _square(114.0 + i * 0.002)
        grid.save()

    def levels() -> dict[str, str | None]:
        geo = client.get(reverse("portal:risk-geojson")).json()
        assert geo["type"] == "FeatureCollection"
        return {f["properties"]["name"]: f["properties"]["level"] for f in geo["features"]}

    assert levels() == {"湖贝社区": "high", "第1网格": "high", "第2网格": "high", "第9网格": None}
    due = _due("high", LAST_CASE)
    risk_area_downgrades_propose(today=due)
    proposal = RiskAreaChange.objects.get(kind=ChangeKind.PROPOSED)
    with pytest.raises(Forbidden):
        risk_proposal_approve(actor=user_with_role("publisher", tree.city), proposal=proposal, today=due)
    with django_capture_on_commit_callbacks(execute=True):  # the cached map is invalidated on commit
        risk_proposal_approve(actor=commander, proposal=proposal, today=due)
    area.refresh_from_db()
    assert (area.level, area.since, area.active) == ("medium", due, True)
    assert str(active_profile().risk_area.days_without_case("high")) in area.reason
    assert list(area.changes.values_list("kind", flat=True)[:2]) == ["approved", "proposed"]
    assert levels() == {"湖贝社区": "medium", "第1网格": "medium", "第2网格": "medium", "第9网格": None}
    with pytest.raises(Conflict):
        risk_proposal_approve(actor=commander, proposal=proposal, today=due)
    # medium counts its case-free days from the day it stepped down
    assert risk_area_downgrades_propose(today=_due("medium", due) - timedelta(days=1)) == 0
    assert risk_area_downgrades_propose(today=_due("medium", due)) == 1


def test_a_rejected_proposal_comes_back_the_next_day_not_the_same_day(area, commander):
    due = _due("high", LAST_CASE)
    risk_area_downgrades_propose(today=due)
    proposal = RiskAreaChange.objects.get(kind=ChangeKind.PROPOSED)
    risk_proposal_reject(actor=commander, proposal=proposal, reason="仍有风险", today=due)
    area.refresh_from_db()
    assert area.level == "high"
    assert risk_area_downgrades_propose(today=due) == 0
    assert risk_area_downgrades_propose(today=due + timedelta(days=1)) == 1


def test_a_new_case_postpones_the_downgrade(area, tree, epidemiologist):
    due = _due("high", LAST_CASE)
    case_at(
        actor=epidemiologist,
        grid=tree.grid_b,
        classification="asymptomatic",
        when=at(due - timedelta(days=2)),
    )
    assert risk_area_downgrades_propose(today=due) == 0


def test_a_publisher_may_not_designate(tree, publisher):
    with pytest.raises(Forbidden):
        risk_area_designate(
            actor=publisher, unit=tree.community, level="high", since=date(2022, 5, 1), reason="x"
        )


def test_designating_again_changes_the_level_and_keeps_history(area, commander, tree):
    again = risk_area_designate(
        actor=commander, unit=tree.community, level="medium", since=date(2022, 5, 2), reason="调整"
    )
    assert again.pk == area.pk and RiskArea.objects.count() == 1
    assert list(again.changes.values_list("from_level", "to_level")) == [("high", "medium"), ("", "high")]


def test_public_list_shows_level_since_and_why(area, client):
    page = client.get(reverse("portal:risk-areas")).content.decode()
    assert "湖贝社区" in page and "2022-04-28" in page and "聚集性疫情" in page


def test_commander_decides_on_the_staff_page(area, commander, client):
    risk_area_downgrades_propose(today=_due("high", LAST_CASE))
    proposal = RiskAreaChange.objects.get(kind=ChangeKind.PROPOSED)
    client.force_login(commander)
    page = client.get(reverse("publish:areas"))
    assert (
        page.status_code == 200
        and reverse("publish:proposal-decide", args=[proposal.pk, "approve"]) in page.content.decode()
    )
    assert client.post(reverse("publish:proposal-decide", args=[proposal.pk, "approve"])).status_code == 302
    area.refresh_from_db()
    assert area.level == "medium"


def test_a_case_counts_on_the_day_it_was_confirmed_not_reported(area, tree, epidemiologist):
    confirmed = at(LAST_CASE + timedelta(days=5), 23, 30)  # 23:30 in Shanghai: that local day
    case_at(
        actor=epidemiologist,
        grid=tree.grid_a,
        classification="confirmed",
        when=at(LAST_CASE - timedelta(days=2)),
        confirmed_at=confirmed,
        name="赵六",
    )
    assert last_new_case_on(area) == LAST_CASE + timedelta(days=5)
    assert risk_area_downgrades_propose(today=_due("high", LAST_CASE)) == 0


def test_a_reason_or_place_with_personal_data_is_refused(tree, commander):
    from fangkong.common.errors import Invalid

    with pytest.raises(Invalid) as error:
        risk_area_designate(
            actor=commander,
            unit=tree.community,
            level="high",
            since=date(2022, 5, 1),
            reason="密接 13800138000",
        )
    assert list(error.value.errors) == ["reason"]
    assert not RiskArea.objects.exists()


def test_a_renamed_unit_shows_its_new_name_on_the_public_map(area, tree, client):
    def names() -> set[str]:
        return {
            f["properties"]["name"] for f in client.get(reverse("portal:risk-geojson")).json()["features"]
        }

    tree.community.geometry = _square(114.0)
    tree.community.save()
    assert "湖贝社区" in names()  # now cached
    tree.community.name = "湖贝新村社区"
    tree.community.save()  # as the admin saves a rename
    assert "湖贝新村社区" in names() and "湖贝社区" not in names()
