"""A resident asks for urgent medicine on a phone screen and gets a ticket; a hotline operator of
that community finds it at the top of the queue with its countdown, calls back and resolves it;
the resident's ticket page then says "resolved"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from fangkong.helpdesk.models import HelpRequest
from tests.e2e.conftest import login
from tests.helpdesk.factories import make_request
from tests.orgs.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_call_back_from_request_to_resolution(live_server, page: Page, browser: Browser, tree):
    operator = user_with_role("hotline", tree.community, username="zhou.hotline")
    operator.set_password("Hotline-pass-3")
    operator.save()
    make_request(community=tree.community, urgency="normal", category="food")  # due later
    make_request(community=tree.grid_far.parent, urgency="urgent")  # another district's queue

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True
    )
    resident = phone.new_page()
    resident.goto(f"{live_server.url}/portal/help/")
    resident.get_by_test_id("name").fill("赵阿姨")
    resident.get_by_test_id("phone").fill("139 1234 5678")
    resident.get_by_test_id("district").select_option(label=tree.district.name)
    resident.get_by_test_id("street").select_option(label=tree.street.name)
    resident.get_by_test_id("community").select_option(label=tree.community.name)
    resident.get_by_test_id("category-medicine").check()
    resident.get_by_test_id("urgency-urgent").check()
    resident.get_by_test_id("description").fill("老伴的降压药吃完了，封控出不去")
    resident.get_by_test_id("submit-help").click()
    expect(resident.get_by_test_id("received")).to_be_visible()
    ticket = resident.get_by_test_id("ticket").inner_text()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", ticket)
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390
    stored = HelpRequest.objects.get(ticket=ticket.replace("-", ""))
    assert stored.org_unit == tree.community and stored.urgency == "urgent"

    login(page, live_server.url, "zhou.hotline", "Hotline-pass-3")
    page.get_by_role("link", name=re.compile("求助|Help requests")).first.click()
    rows = page.get_by_test_id("help-queue").locator("tbody tr")
    expect(rows).to_have_count(2)
    top = rows.first
    expect(top).to_contain_text(ticket)
    expect(top.get_by_test_id("sla")).to_have_text(re.compile(r"(2[0-9]|30)"))  # minutes left of 30
    top.get_by_role("link", name=ticket).click()
    page.get_by_test_id("reveal").click()
    expect(page.get_by_test_id("revealed-phone")).to_have_text("13912345678")
    page.get_by_test_id("claim").click()
    page.get_by_test_id("outcome").select_option("reached")
    page.get_by_test_id("call-note").fill("已联系，网格员代购后送药上门")
    page.get_by_test_id("log-call").click()
    expect(page.get_by_test_id("calls")).to_contain_text("已联系")
    page.get_by_test_id("resolution").fill("网格员已将降压药送到家门口")
    page.get_by_test_id("resolve").click()
    expect(page.get_by_test_id("help-status")).to_contain_text(re.compile("已办结|Resolved"))

    resident.goto(f"{live_server.url}/portal/help/ticket/")
    resident.get_by_test_id("ticket-code").fill(ticket.lower())
    resident.get_by_test_id("ticket-code").press("Enter")
    expect(resident.get_by_test_id("ticket-status")).to_contain_text(re.compile("已办结|Resolved"))
    expect(resident.get_by_test_id("resolution")).to_have_text("网格员已将降压药送到家门口")
    phone.close()
