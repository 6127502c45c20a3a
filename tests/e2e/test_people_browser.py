"""A grid worker, in Chromium: finds a resident of their grid by ID number, sees the ID masked,
and cannot open a resident of another grid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person, resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_grid_worker_searches_by_id_number_and_sees_it_masked(live_server, page: Page, tree):
    worker = user_with_role("grid_worker", tree.grid_a, username="wang.gw")
    worker.set_password("Grid-worker-pw-1")
    worker.save()
    far_worker = user_with_role("grid_worker", tree.grid_far)
    number = resident_id()
    resident = make_person(actor=worker, grid=tree.grid_a, name="林晓燕", id_number=number)
    make_person(actor=worker, grid=tree.grid_a, name="林大海")
    stranger = make_person(actor=far_worker, grid=tree.grid_far, name="周远方")
    base = live_server.url

    login(page, base, "wang.gw", "Grid-worker-pw-1")
    page.get_by_role("link", name=re.compile("^(人员|People)$")).click()
    page.get_by_test_id("person-search").fill(number)
    page.get_by_role("button", name=re.compile("搜索|Search")).click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("林*燕")
    rows.first.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("林晓燕")
    masked = number[:4] + "*" * 10 + number[-4:]
    expect(page.get_by_test_id("id-number")).to_have_text(masked)
    assert number not in page.content()
    # a grid worker's role may not see the full number: no button to do it
    expect(page.get_by_role("button", name=re.compile("完整|Show full"))).to_have_count(0)

    response = page.goto(f"{base}/people/{stranger.pk}/")
    assert response is not None and response.status == 404
    assert "周远方" not in page.content()
    api = page.request.get(f"{base}/api/people/persons/{stranger.pk}")
    assert api.status == 404
    assert resident.pk != stranger.pk


def test_language_switch_changes_the_page_to_english(live_server, page: Page, tree):
    worker = user_with_role("grid_worker", tree.grid_a, username="li.gw")
    worker.set_password("Grid-worker-pw-2")
    worker.save()
    login(page, live_server.url, "li.gw", "Grid-worker-pw-2")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的任务")
    page.select_option("#language-switch", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
