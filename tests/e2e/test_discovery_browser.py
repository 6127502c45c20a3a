"""An epidemiologist of the city, in Chromium: runs contact discovery on a confirmed case of the
demo outbreak (a small demo city with its location data), watches the run go from queued to finished, opens the evidence, and confirms the
proposed contacts in bulk — they get the protocol's quarantine orders like contacts entered by
hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.cases.models import Case
from fangkong.common.protocol import active_profile
from fangkong.contacts.discovery import data as discovery_data
from fangkong.contacts.models import Contact, DiscoveryRun
from fangkong.contacts.selectors import HOUSEHOLD, TABS
from fangkong.contacts.views import CONTACTS_PER_PAGE
from fangkong.demo.city import CITY_CODE
from fangkong.demo.load import DEMO_PASSWORD, demo_load
from fangkong.demo.mobility_demo import mobility_demo_load
from fangkong.demo.outbreak import outbreak_load
from fangkong.orgs.models import OrgUnit
from fangkong.quarantine.models import QuarantineOrder
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _case_with_companions() -> Case:
    """The most recent confirmed case whose location data shares a place with someone not yet
    its contact (checked on the engine, as the run will)."""
    candidates = Case.objects.filter(
        classification="confirmed",
        reported_at__gte=timezone.now() - timedelta(days=5),
    ).order_by("-reported_at")
    dataset = discovery_data.mobility_dir()
    params = discovery_data.colocation_params()
    backend = discovery_data.colocation_backend()
    stays = discovery_data.stays_current(dataset=dataset, params=params, backend=backend)
    for case in candidates:
        found = backend.match(
            stays=stays,
            checkins=dataset / "checkins",
            cases=[case.person_id],
            start=timezone.now() - timedelta(days=6),
            end=timezone.now(),
            params=params,
        )
        known = set(case.contacts.values_list("person_id", flat=True))
        if set(found.summary["person_id"].to_pylist()) - known:
            return case
    raise AssertionError("no recent confirmed case of the demo has companions in the location data")


def test_epidemiologist_discovers_and_confirms_contacts(live_server, page: Page, settings, tmp_path):
    settings.FANGKONG_MOBILITY_DIR = tmp_path / "mobility"
    demo_load(residents=800)
    outbreak_load(seed=2022, days=12, max_cases=60)
    mobility_demo_load(seed=2022, today=timezone.localdate(), people=800, days=6)
    case = _case_with_companions()
    epi = user_with_role("epidemiologist", OrgUnit.objects.get(code=CITY_CODE), username="city.epi")
    epi.set_password(DEMO_PASSWORD)
    epi.save()
    login(page, live_server.url, "city.epi", DEMO_PASSWORD)

    page.goto(f"{live_server.url}/contacts/case/{case.pk}/")
    page.get_by_test_id("discover").click()
    status = page.get_by_test_id("discovery-status")
    expect(status).to_have_attribute("data-status", "queued")
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )
    # the block polls each second and reloads the page when the run it watches has finished
    expect(page.get_by_test_id("discovery-result")).to_be_visible(timeout=15_000)
    run = DiscoveryRun.objects.get(case=case)
    assert run.status == "succeeded" and run.proposed >= 1
    page.get_by_test_id("tab-proposed").click()
    proposed = page.locator("tr[data-status=proposed]")
    waiting = Contact.objects.filter(source_case=case, status="proposed")
    assert waiting.filter(discovered_by__in=["colocation", "venue"]).count() == run.proposed
    left = waiting.exclude(HOUSEHOLD).count()  # household members have their own tab
    expect(proposed).to_have_count(min(left, CONTACTS_PER_PAGE))
    evidence = page.get_by_test_id("evidence").first
    evidence.locator("summary").click()
    expect(evidence.locator("li").first).to_be_visible()

    # a page at a time: the bulk decision comes back to the same tab; confirmed close contacts
    # bring their households, who wait on a tab of their own, then confirmed there the same way
    asked: list[str] = []  # each bulk decision asks first, with the number ticked
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    for tab in ("proposed", "household"):
        page.get_by_test_id(f"tab-{tab}").click()
        in_tab = Contact.objects.filter(source_case=case).filter(TABS[tab])
        left = in_tab.count()
        expect(proposed).to_have_count(min(left, CONTACTS_PER_PAGE))
        while left:
            with page.expect_navigation():
                page.get_by_test_id("select-all").check()
                page.get_by_test_id("bulk-confirm").click()
            expect(page.locator(".messages")).to_contain_text(str(min(left, CONTACTS_PER_PAGE)))
            assert str(min(left, CONTACTS_PER_PAGE)) in asked[-1]
            left = in_tab.count()
            expect(proposed).to_have_count(min(left, CONTACTS_PER_PAGE))
    confirmed = Contact.objects.filter(
        source_case=case, kind="close", discovered_by__in=["colocation", "venue"]
    )
    assert confirmed.filter(status="confirmed").count() == run.proposed
    # china-9's close-contact orders, as for a contact entered by hand: centralised quarantine
    # (then home health monitoring when the 7 days end in the future) — its own, or the live one
    # the person already had (from another case of the outbreak) extended to cover this exposure
    rule = active_profile().close_contact.stages[0]
    for contact in confirmed:
        centralised = QuarantineOrder.objects.filter(person=contact.person, kind="centralised")
        assert centralised.filter(planned_end__gte=rule.planned_end(contact.last_exposure)).count() == 1, (
            contact
        )
    page.get_by_test_id("tab-confirmed").click()
    expect(page.get_by_test_id("order-link").first).to_be_visible()
