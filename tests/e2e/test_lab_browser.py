"""The lab, in Chromium: filters today's tests to one grid, ticks 50, records them negative in one
bulk action after the confirm dialog, and lands back on the same filters with a message that names
the count; a positive asks first, saying a case will follow. The page fits a 390 px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from fangkong.quarantine.models import TestAppointment as Appointment
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role
from tests.quarantine.test_lab import make_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_lab_enters_fifty_results_in_one_bulk_action(live_server, page: Page, browser: Browser, tree):
    epi = user_with_role("epidemiologist", tree.district, username="zhao.epi")
    lab = user_with_role("lab", tree.district, username="sun.lab")
    lab.set_password("Lab-password-2")
    lab.save()
    orders = [make_order(actor=epi, grid=tree.grid_a, days=(1,)) for _ in range(50)]
    other = make_order(actor=epi, grid=tree.grid_b, days=(1,))
    login(page, live_server.url, "sun.lab", "Lab-password-2")

    page.goto(f"{live_server.url}/quarantine/lab/")
    filters = page.get_by_test_id("lab-filters")
    filters.locator("input[name=unit]").fill(tree.grid_a.code)
    filters.get_by_test_id("page-size").select_option("50")
    filters.get_by_role("button").click()
    expect(page.get_by_test_id("due-row")).to_have_count(50)

    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.get_by_test_id("select-all").check()
    page.get_by_test_id("bulk-negative").click()
    expect(page.locator(".messages li.success")).to_contain_text("50")
    assert asked and "50" in asked[0]
    assert f"unit={tree.grid_a.code}" in page.url and "size=50" in page.url  # the filters are kept
    expect(page.get_by_test_id("lab-empty")).to_be_visible()
    assert Appointment.objects.filter(order__in=orders, result="negative").count() == 50
    assert Appointment.objects.get(order=other).result == "pending"

    # a positive asks first and says what follows; dismissed, nothing happens
    page.remove_listener("dialog", answer)
    said: list[str] = []

    def refuse(dialog: Dialog) -> None:
        said.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.goto(f"{live_server.url}/quarantine/lab/")
    page.locator("input[name=tests]").first.check()
    page.get_by_test_id("bulk-positive").click()
    assert said and re.search("疑似|suspected", said[0])
    assert Appointment.objects.get(order=other).result == "pending"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    mobile = phone.new_page()
    mobile.context.add_cookies(page.context.cookies())
    mobile.goto(f"{live_server.url}/quarantine/lab/")
    expect(mobile.get_by_test_id("due-row")).to_have_count(1)
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    phone.close()
