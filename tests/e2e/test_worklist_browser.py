"""The demo's workers, in Chromium: each role logs in and lands on its own queue (only the kinds of
its role, from the one table ``KINDS``), and the grid worker, on a 390 px phone, ticks three items
of a filtered list and completes them with one note after the shared dialog asks, coming back to
the same filtered list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from fangkong.demo.load import DEMO_PASSWORD, demo_load
from fangkong.demo.users import FIRST_GRID_CODE
from fangkong.orgs.models import OrgUnit
from fangkong.worklist.kinds import KINDS, kinds_for_roles
from fangkong.worklist.models import WorkItem
from fangkong.worklist.services import work_item_create
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROLES = ("lab", "hotline", "quarantine_staff", "grid_worker", "epidemiologist")


def _two_items_of_every_kind(grid: OrgUnit) -> None:
    now = timezone.now()
    for n, kind in enumerate([*KINDS, *KINDS]):
        work_item_create(
            actor=None,
            kind=kind,
            title=f"{KINDS[kind].label} 张*明",
            org_unit=grid,
            due_at=now + timedelta(hours=-2 if n % 2 else 5),
        )


def test_each_role_lands_on_its_own_kinds_and_completes_in_bulk(live_server, browser: Browser, page: Page):
    demo_load(residents=800)
    grid = OrgUnit.objects.get(code=FIRST_GRID_CODE)
    _two_items_of_every_kind(grid)

    for role in ROLES:  # the demo's users are named after their roles
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        worker = context.new_page()
        login(worker, live_server.url, role, DEMO_PASSWORD)
        expected = set(kinds_for_roles({role}))
        shown = worker.get_by_test_id("work-row").evaluate_all("rows => rows.map(r => r.dataset.kind)")
        assert shown and set(shown) == expected, role
        chips = worker.get_by_test_id("kind-count").evaluate_all("chips => chips.map(c => c.dataset.kind)")
        assert set(chips) == expected, role
        context.close()

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True
    )
    mobile = phone.new_page()
    errors: list[str] = []
    mobile.on("pageerror", lambda error: errors.append(str(error)))
    login(mobile, live_server.url, "grid_worker", DEMO_PASSWORD)
    mobile.locator("a[data-kind='household.visit']").click()
    expect(mobile).to_have_url(re.compile(r"kind=household\.visit"))
    rows = mobile.get_by_test_id("work-row")
    expect(rows.first).to_be_visible()
    kinds = set(rows.evaluate_all("rows => rows.map(r => r.dataset.kind)"))
    assert kinds == {"household.visit"}
    filtered_url = mobile.url
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390

    ticked = [int(rows.nth(n).get_attribute("data-id") or 0) for n in range(3)]
    for n in range(3):
        rows.nth(n).get_by_test_id("tick").check()
    mobile.get_by_test_id("bulk-note").fill("已逐户上门核实")
    asked: list[str] = []
    mobile.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    mobile.get_by_test_id("bulk-complete").click()
    expect(mobile.locator(".messages li").first).to_contain_text("3")
    assert asked and "3" in asked[0]
    assert mobile.url == filtered_url  # back on the same filtered list
    done = WorkItem.objects.filter(pk__in=ticked, status="done", note__contains="已逐户上门核实")
    assert done.count() == 3
    expect(mobile.locator(f"tr[data-id='{ticked[0]}'] input[data-testid=tick]")).to_have_count(0)
    assert errors == []
    phone.close()
