"""An epidemiologist, in Chromium: confirms a suspected case and types a three-stop itinerary,
each row appearing in place without a page load."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.cases.factories import make_case
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_confirm_a_case_and_enter_its_itinerary(live_server, page: Page, tree):
    epi = user_with_role("epidemiologist", tree.district, username="zhao.epi")
    epi.set_password("Epi-password-1")
    epi.save()
    case = make_case(actor=epi, grid=tree.grid_a, hours_ago=6)
    login(page, live_server.url, "zhao.epi", "Epi-password-1")

    page.get_by_role("link", name=re.compile("病例|Cases")).first.click()
    page.get_by_role("link", name=case.number).click()
    expect(page.get_by_test_id("classification")).to_have_text("疑似")
    page.get_by_test_id("move-confirmed").click()
    expect(page.get_by_test_id("classification")).to_have_text("确诊")
    expect(page.get_by_test_id("timeline")).to_contain_text("疑似 → 确诊")

    stops = [
        ("2022-05-01 08:00", "2022-05-01 08:40", "地铁1号线 罗湖站→大剧院站"),
        ("2022-05-01 12:00", "2022-05-01 13:00", "湖贝美食城"),
        ("2022-05-01 19:00", "", "东门步行街"),
    ]
    for number, (start, end, place) in enumerate(stops, start=1):
        page.get_by_test_id("itinerary-form").locator("input[name=start]").fill(start)
        page.get_by_test_id("itinerary-form").locator("input[name=end]").fill(end)
        page.get_by_test_id("itinerary-form").locator("input[name=place]").fill(place)
        page.get_by_test_id("itinerary-form").get_by_role("button").click()
        expect(page.get_by_test_id("itinerary-row")).to_have_count(number)
    expect(page.get_by_test_id("itinerary-row").nth(1)).to_contain_text("湖贝美食城")

    page.get_by_test_id("itinerary-form").locator("input[name=start]").fill("五月一日")
    page.get_by_test_id("itinerary-form").locator("input[name=place]").fill("超市")
    page.get_by_test_id("itinerary-form").get_by_role("button").click()
    expect(page.get_by_test_id("itinerary-form").locator("[data-field=start]")).to_be_visible()
    expect(page.get_by_test_id("itinerary-row")).to_have_count(3)
