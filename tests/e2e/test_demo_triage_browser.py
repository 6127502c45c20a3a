"""The demo's epidemiologist triages the discovery run that `make demo` finishes at load, in
Chromium: the proposals come highest score first with place names as evidence; the page of 100 is
confirmed in one action; the rest, every one the filters match, by the worker with progress; the
spatiotemporal companions are listed, and their notices are in the text-message outbox.

The city is the demo's, loaded by the demo's own steps at a smaller size (4,000 residents, 60
cases, 2,000 people's week of location data) so that it fits a test."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.contacts.models import Contact, DiscoveryRun
from fangkong.demo.load import DEMO_PASSWORD, demo_load
from fangkong.demo.mobility_demo import discovery_demo_run, mobility_demo_load
from fangkong.demo.outbreak import outbreak_load
from fangkong.notify.selectors import OutboxFilters, outbox_list
from fangkong.quarantine.models import LIVE_STATUSES, QuarantineOrder
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COORDINATES = re.compile(r"\d{2,3}\.\d{3,}")


@pytest.fixture
def demo_run(settings, tmp_path) -> DiscoveryRun:
    settings.FANGKONG_MOBILITY_DIR = tmp_path / "mobility"
    today = timezone.localdate()
    demo_load(residents=4000, seed=2022)
    outbreak_load(seed=2022, days=24, max_cases=60)
    mobility_demo_load(seed=2022, today=today, people=2000)
    runs = discovery_demo_run(today=today, most=1)
    assert len(runs) == 1 and runs[0].proposed > 100, "the demo's discovery should propose more than a page"
    return runs[0]


def test_the_demo_epidemiologist_triages_a_discovery_run(live_server, page: Page, demo_run, settings):
    base, case = live_server.url, demo_run.case
    login(page, base, "epidemiologist", DEMO_PASSWORD)
    page.goto(f"{base}/contacts/case/{case.pk}/")
    expect(page.get_by_test_id("review")).to_have_attribute("data-tab", "proposed")
    expect(page.get_by_test_id("discovery-result")).to_contain_text(str(demo_run.proposed))

    # the top-scored proposals first, each with the place it was shared, not coordinates
    rows = page.get_by_test_id("contact-row")
    expect(rows).to_have_count(100)
    scores = [int(s) for s in rows.evaluate_all("rows => rows.map(r => r.dataset.score)")]
    waiting = Contact.objects.filter(source_case=case, status="proposed")
    assert scores == sorted(waiting.values_list("score", flat=True), reverse=True)[:100]
    evidence = page.get_by_test_id("evidence").first.locator("summary")
    assert not COORDINATES.search(evidence.inner_text())
    assert re.search(r"[\u4e00-\u9fff]{2}", evidence.inner_text())  # a place named in Chinese
    top = [int(i) for i in rows.evaluate_all("rows => rows.map(r => r.dataset.id)")]

    # the page of 100, in one action
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_test_id("select-all").check()
    with page.expect_navigation(timeout=60_000):
        page.get_by_test_id("bulk-confirm").click()
    assert asked and "100" in asked[0]
    decided = Contact.objects.filter(pk__in=top)
    here, elsewhere = decided.filter(status="confirmed").count(), decided.filter(status="handed_off").count()
    assert here + elsewhere == 100  # those living in other districts are handed off (协查)
    said = page.locator(".messages").inner_text()
    assert f"确认 {here} " in said and (not elsewhere or f"{elsewhere} " in said), said
    people = decided.filter(status="confirmed").values("person")
    ordered = QuarantineOrder.objects.filter(person__in=people, status__in=LIVE_STATUSES)
    assert ordered.values("person").distinct().count() == here  # a new order, or a live one extended

    # the rest: every proposal the filters match, decided by the worker, with progress
    rest = Contact.objects.filter(source_case=case, status="proposed", kind="close").exclude(
        exposure_type="household"
    )
    left = Contact.objects.filter(source_case=case, status="proposed", via_contact__isnull=True).count()
    expect(page.get_by_test_id("review")).to_have_attribute("data-tab", "proposed")
    matching = page.get_by_test_id("select-matching")
    if left > 100:
        asked.clear()
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        matching.check()
        page.fill("#bulk input[name=reason]", "仅夜间同格，非同住非同行")
        with page.expect_navigation(timeout=30_000):
            page.get_by_test_id("bulk-dismiss").click()
        assert asked and str(left) in asked[0]
        status = page.get_by_test_id("decision-status")
        expect(status).to_have_attribute("data-status", "queued")
        call_command(
            "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
        )
        expect(status).to_have_attribute("data-status", "succeeded", timeout=15_000)
        expect(page.get_by_test_id("decision-result")).to_contain_text(str(left))
        page.get_by_test_id("decision-back").click()
        expect(page.get_by_test_id("review")).to_have_attribute("data-tab", "proposed")
        assert not rest.filter(via_contact__isnull=True).exists()
    else:
        expect(matching).to_have_count(0)

    # the companions: listed with their two tests, and told by text
    page.get_by_test_id("tab-companions").click()
    companions = Contact.objects.filter(source_case=case, kind="companion").count()
    assert companions == demo_run.companions > 0
    expect(page.get_by_test_id("tab-companions").locator(".badge")).to_have_text(str(companions))
    page.goto(f"{base}/notify/outbox/?template=companion_notice")
    notices = page.locator("[data-testid=outbox] tbody tr")
    expect(notices.first).to_contain_text("时空伴随")
    epidemiologist = get_user_model().objects.get(username="epidemiologist")
    sent = outbox_list(actor=epidemiologist, filters=OutboxFilters(template="companion_notice"))
    assert sent.count() > 0
    expect(notices).to_have_count(min(sent.count(), settings.FANGKONG_PAGE_SIZE))
    assert case.person.name not in notices.first.inner_text()  # nobody else's data in a text
