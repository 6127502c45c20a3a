"""An epidemiologist, in Chromium: confirms a case, registers two close contacts, sees their
china-9 orders and the work they make; the contact then self-reports a fever on a 390 px phone
screen and the urgent work item appears."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tests.cases.factories import make_case
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person, resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_contacts_orders_and_a_self_reported_fever(live_server, page: Page, browser: Browser, tree):
    epi = user_with_role("epidemiologist", tree.district, username="qian.epi")
    epi.set_password("Epi-password-2")
    epi.save()
    case = make_case(
        actor=epi, grid=tree.grid_a, hours_ago=6, onset_date=timezone.localdate() - timedelta(days=1)
    )
    numbers = [resident_id(), resident_id()]
    for number in numbers:
        make_person(actor=epi, grid=tree.grid_b, id_number=number, building="", unit="", room="")
    login(page, live_server.url, "qian.epi", "Epi-password-2")

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_test_id("move-confirmed").click()
    page.get_by_test_id("contacts-link").click()
    last = timezone.localtime() - timedelta(hours=2)
    for number in numbers:
        form = page.get_by_test_id("contact-form")
        form.locator("input[name=person]").fill(number)
        form.locator("select[name=exposure_type]").select_option("workplace")
        form.locator("input[name=first_exposure]").fill(
            (last - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
        )
        form.locator("input[name=last_exposure]").fill(last.strftime("%Y-%m-%d %H:%M"))
        form.get_by_role("button").click()
    expect(page.get_by_test_id("contact-row")).to_have_count(2)
    expect(page.get_by_test_id("order-link")).to_have_count(4)  # quarantine + follow-on each

    page.get_by_test_id("cluster-link").click()
    expect(page.locator("#cluster[data-ready='1']")).to_have_count(1)
    expect(page.get_by_test_id("cluster-summary")).to_contain_text("2")  # 1 case, 2 contacts
    page.go_back()
    page.get_by_test_id("order-link").first.click()
    day_one = timezone.localdate(last) + timedelta(days=1)
    expect(page.get_by_test_id("day-one")).to_have_text(day_one.strftime("%Y-%m-%d"))
    expect(page.get_by_test_id("planned-end")).to_have_text(
        (day_one + timedelta(days=7)).strftime("%Y-%m-%d") + " 00:00"
    )
    expect(page.get_by_test_id("test-row")).to_have_count(5)  # days 1, 2, 3, 5, 7
    link = page.get_by_test_id("self-report-link").inner_text().strip()

    page.goto(f"{live_server.url}/work/")  # the epidemiologist's queue: the investigation, not transfers
    expect(page.locator("table.list")).to_contain_text(re.compile("流调|Investigat"))
    expect(page.locator("table.list")).not_to_contain_text(re.compile("转运|Transfer"))

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    mobile = phone.new_page()
    mobile.goto(link)
    mobile.get_by_test_id("temperature").fill("38.1")
    mobile.locator("input[value=cough]").check()
    mobile.get_by_role("button", name=re.compile("提交|Submit")).click()
    expect(mobile.get_by_test_id("report-done")).to_be_visible()
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    phone.close()

    # the fever is the grid's work: the contact's grid worker sees it first in their queue
    user_with_role("grid_worker", tree.grid_b, username="sun.grid")
    grid = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    login(grid, live_server.url, "sun.grid", "pw-for-tests-1")
    expect(grid.locator("tr.urgent").first).to_contain_text("38.1")
    grid.context.close()
