"""The demo's commander, in Chromium: the command dashboard draws every chart for the demo
outbreak without a console error, switches the epidemic curve between report and onset (the
choice kept across "Show"), and a chart's CSV downloads with the numbers drawn."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.cases.models import Case
from fangkong.demo.load import DEMO_PASSWORD, demo_load
from fangkong.demo.outbreak import outbreak_load
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_commander_sees_every_chart_without_console_errors(live_server, page: Page):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    demo_load(residents=800)
    outbreak_load(seed=2022, days=20, max_cases=80)
    login(page, live_server.url, "commander", DEMO_PASSWORD)

    page.locator("a[href='/dashboard/']").first.click()
    expect(page.locator("body[data-dashboard-ready='1']")).to_have_count(1)
    for name in ("epi", "rt", "doubling", "districts", "map"):
        expect(page.locator(f"#chart-{name}[data-ready='1']")).to_have_count(1)
        box = page.locator(f"#chart-{name} canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200, name
    for name in ("timeliness", "occupancy", "overdue", "helpdesk"):
        expect(page.get_by_test_id(f"table-{name}")).to_be_visible()

    # by report first (every case has a report date); by onset says what it leaves out, and the
    # choice is kept when the filters are applied again
    expect(page.locator("input[name=epi-by][value=report]")).to_be_checked()
    page.locator("input[name=epi-by][value=onset]").check()
    without = Case.objects.filter(onset_date__isnull=True).exclude(classification="excluded")
    if without.exists():
        expect(page.get_by_test_id("without-onset")).to_be_visible()
    page.get_by_test_id("dashboard-filters").locator("button[type=submit]").click()
    expect(page.locator("input[name=epi-by][value=onset]")).to_be_checked()
    page.locator("input[name=epi-by][value=report]").check()
    expect(page.get_by_test_id("without-onset")).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_test_id("csv-epi").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    today = timezone.localdate()
    reported = sum(
        1
        for c in Case.objects.filter(classification="confirmed")
        if (today - timezone.localdate(c.reported_at)).days < 28
    )
    assert sum(int(r["confirmed"]) for r in rows) == reported
    assert console == [], console
