"""A publisher drafts today's bulletin from the data, edits and publishes it, and the public home
shows it; a commander approves a proposed risk-area downgrade and the public map changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.portal.risk import risk_area_designate, risk_area_downgrades_propose
from tests.cases.factories import make_case
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _outline(unit, west, south):
    ring = [[west, south], [west + 1, south], [west + 1, south + 1], [west, south + 1], [west, south]]
    unit.geometry = {"type": "Polygon", "coordinates": [ring]}
    unit.save(update_fields=["geometry"])


def _level_on_map(page: Page, base: str, code: str) -> str | None:
    page.goto(f"{base}/portal/risk-areas/map/")
    expect(page.locator("#risk-map[data-ready='1']")).to_have_count(1)
    return page.evaluate(
        """(code) => {
            const chart = echarts.getInstanceByDom(document.getElementById('risk-map'));
            const item = chart.getOption().series[0].data.find((d) => d.name === code);
            return item ? (item.level || null) : 'missing';
        }""",
        code,
    )


def test_publish_a_bulletin_and_approve_a_downgrade(live_server, page: Page, tree):
    far_community = tree.grid_far.parent
    for i, unit in enumerate([tree.community, far_community]):
        _outline(unit, 113 + i, 22)
    publisher = user_with_role("publisher", tree.city, username="sun.publisher")
    commander = user_with_role("commander", tree.city, username="li.commander")
    for user in (publisher, commander):
        user.set_password("Portal-pass-4")
        user.save()
    epi = user_with_role("epidemiologist", tree.district)
    make_case(actor=epi, grid=tree.grid_a, classification="confirmed", hours_ago=1)
    today = timezone.localdate()
    area = risk_area_designate(
        actor=commander,
        unit=far_community,
        level="high",
        since=today - timedelta(days=10),
        reason="聚集性疫情",
    )
    assert risk_area_downgrades_propose(today=today) == 1

    login(page, live_server.url, "sun.publisher", "Portal-pass-4", lands="/publish/")
    page.goto(f"{live_server.url}/publish/bulletins/")
    page.locator("input[name=day]").fill(today.isoformat())
    page.get_by_test_id("draft").click()
    expect(page.get_by_test_id("bulletin-status")).to_be_visible()
    body = page.locator("textarea[name=body]")
    assert "1" in body.input_value()  # one new confirmed case today, counted from the data
    body.fill(body.input_value() + "\n\n请广大市民做好个人防护，配合核酸检测。")
    page.get_by_test_id("save-version").click()
    expect(page.locator("details.card")).to_have_count(2)  # the draft and the edit
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("bulletin-status")).to_contain_text(re.compile("已发布|Published"))

    page.goto(f"{live_server.url}/portal/")
    expect(page.locator("main")).to_contain_text("请广大市民做好个人防护，配合核酸检测。")

    assert _level_on_map(page, live_server.url, far_community.code) == "high"
    page.context.clear_cookies()
    login(page, live_server.url, "li.commander", "Portal-pass-4")
    page.goto(f"{live_server.url}/publish/risk-areas/")
    proposal = area.changes.get(kind="proposed")
    page.get_by_test_id(f"approve-{proposal.pk}").click()
    expect(page.get_by_test_id(f"approve-{proposal.pk}")).to_have_count(0)
    assert _level_on_map(page, live_server.url, far_community.code) == "medium"
