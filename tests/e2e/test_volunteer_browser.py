"""A resident signs up as a volunteer on a phone: choosing the district narrows the areas without
losing what was typed; the coordinator of that street then finds the application."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from fangkong.volunteers.models import Volunteer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_on_a_phone(live_server, browser: Browser, tree):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/portal/volunteer/")
    page.get_by_test_id("name").fill("周志愿")
    page.get_by_test_id("phone").fill("+86 137 0000 1234")
    area = page.get_by_test_id("area")
    expect(area.locator("option", has_text=tree.grid_far.parent.name)).to_have_count(1)
    page.get_by_test_id("district").select_option(label=tree.district.name)
    expect(page.get_by_test_id("area").locator("option", has_text=tree.grid_far.parent.name)).to_have_count(0)
    expect(page.get_by_test_id("name")).to_have_value("周志愿")  # nothing typed was lost
    page.get_by_test_id("area").select_option(label=f"　{tree.community.name}")
    page.locator("input[name=skills][value=delivery]").check()
    page.locator("input[name=availability]").first.check()
    page.get_by_test_id("consent").check()
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("signup-done")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    volunteer = Volunteer.objects.get()
    assert volunteer.org_unit == tree.community and volunteer.status == "applied"
    assert not errors
    phone.close()
