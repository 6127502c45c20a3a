"""Mass testing in the demo, in Chromium: the demo's collector scans a tube of 10 on a phone-sized
page (390×844); the lab imports a result file in which that tube is positive; its members' recall
items appear in the demo grid worker's queue; the grid worker re-samples one of them at the door;
the lab's positive result for the re-sample registers a suspected case.

The city is the demo's, loaded by the demo's own steps at a smaller size (4,000 residents)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from fangkong.cases.models import Case
from fangkong.demo.load import DEMO_PASSWORD, demo_load
from fangkong.demo.outbreak import outbreak_load
from fangkong.demo.portal_demo import portal_demo_load
from fangkong.demo.testing_demo import testing_demo_load as mass_testing_load
from fangkong.demo.users import FIRST_STREET_CODE
from fangkong.people.crypto import decrypt
from fangkong.people.models import Person
from fangkong.testing.codes import person_code
from fangkong.testing.models import Recall, Round, RoundArea, SamplingSite, Tube, TubeMember
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def mass_demo(settings, tmp_path) -> Round:
    demo_load(residents=4000, seed=2022)
    outbreak_load(seed=2022, days=24, max_cases=60)
    portal_demo_load(today=timezone.localdate(), days=24, seed=2022)
    assert mass_testing_load(seed=2022).created
    return Round.objects.get()


def _site_and_waiting(the_round: Round) -> tuple[SamplingSite, list[Person]]:
    """The first controlled community of the collector's street (10 in a tube), and ten of its
    residents still in the queue."""
    area = (
        RoundArea.objects.filter(
            round=the_round, level="controlled", org_unit__path__contains=f"{FIRST_STREET_CODE}/"
        )
        .order_by("org_unit__path")
        .first()
    )
    assert area is not None, "the collector's street has a controlled community"
    site = SamplingSite.objects.get(org_unit=area.org_unit)
    done = TubeMember.objects.filter(round=the_round).values("person")
    people = Person.objects.filter(org_unit__parent=area.org_unit, merged_into__isnull=True).exclude(
        pk__in=done
    )
    return site, list(people.order_by("org_unit__path", "pk")[:10])


def _phone(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", has_touch=True)
    return context.new_page()


def _upload(page: Page, base: str, tmp_path, name: str, rows: list[str]) -> None:
    file = tmp_path / name
    file.write_text(
        "条码,检测结果,ORF1ab,N,检测时间,检测机构\n" + "\n".join(rows) + "\n", encoding="utf-8-sig"
    )
    page.goto(f"{base}/testing/lab/")
    page.set_input_files("[data-testid=tube-import] input[type=file]", str(file))
    page.click("[data-testid=tube-import] button[type=submit]")
    page.wait_for_url("**/testing/lab/imports/*/")
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )


def test_a_collector_scans_a_tube_of_ten_and_a_positive_pool_is_recalled(
    live_server, browser, page, mass_demo, tmp_path
):
    base = live_server.url
    site, people = _site_and_waiting(mass_demo)
    assert len(people) == 10

    # the collector, on a phone
    phone = _phone(browser)
    login(phone, base, "sampler", DEMO_PASSWORD)
    phone.goto(f"{base}/testing/scan/")
    with phone.expect_navigation():
        phone.select_option("[data-testid=scan-choice] select[name=site]", value=str(site.pk))
    assert f"site={site.pk}&" in phone.url + "&", phone.url
    assert phone.get_by_test_id("barcode").count() == 1, phone.locator("main").inner_text()
    phone.fill("[data-testid=barcode]", "E2E000000001")
    phone.click("[data-testid=tube-open] button[type=submit]")
    tube = phone.get_by_test_id("tube")
    expect(tube).to_have_attribute("data-capacity", "10")
    for n, person in enumerate(people, 1):
        code = person_code(person) if n % 2 else decrypt(person.id_number_cipher)
        phone.fill("[data-testid=person-code]", code)
        phone.press("[data-testid=person-code]", "Enter")
        expect(phone.get_by_test_id("tube-count")).to_have_text(f"{n}/10")
        expect(phone.get_by_test_id("scan-said")).to_have_class("scan-said ok")
        assert person.name not in phone.get_by_test_id("scan-said").inner_text()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.get_by_test_id("tube-close").click()
    phone.wait_for_url("**/testing/scan/?*")
    expect(phone.locator(".messages li").first).to_contain_text("E2E000000001")
    assert Tube.objects.get(barcode="E2E000000001").status == "closed"

    # the lab: one positive tube in a file of results
    login(page, base, "lab", DEMO_PASSWORD)
    now = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    _upload(page, base, tmp_path, "results.csv", [f"E2E000000001,阳性,32.1,31.4,{now},鹏城市疾控中心实验室"])
    page.reload()
    expect(page.get_by_test_id("positive-tubes")).to_contain_text("E2E000000001")
    recalls = Recall.objects.filter(pool__barcode="E2E000000001")
    assert recalls.count() == 10

    # the recall of each member reaches the queue of their grid's worker
    grid_unit = people[0].org_unit
    worker = user_with_role("grid_worker", grid_unit, username="e2e.grid")
    worker.set_password(DEMO_PASSWORD)
    worker.save()
    grid = _phone(browser)
    login(grid, base, "e2e.grid", DEMO_PASSWORD)
    grid.goto(f"{base}/work/?kind=testing.recall")
    mine = recalls.filter(person__org_unit=grid_unit)
    assert mine.exists()
    for recall in mine:
        expect(grid.locator(f"a[href='/testing/recalls/{recall.pk}/']").first).to_be_visible()
    first = mine.first()
    grid.goto(f"{base}/testing/recalls/{first.pk}/")
    grid.get_by_test_id("resample-link").click()
    grid.fill("[data-testid=barcode]", "E2ER00000001")
    grid.select_option("[data-testid=tube-kind]", "resample")
    grid.click("[data-testid=tube-open] button[type=submit]")
    expect(grid.get_by_test_id("tube")).to_have_attribute("data-capacity", "1")
    grid.fill("[data-testid=person-code]", person_code(first.person))
    grid.press("[data-testid=person-code]", "Enter")
    expect(grid.get_by_test_id("tube-count")).to_have_text("1/1")
    grid.once("dialog", lambda dialog: dialog.accept())
    grid.get_by_test_id("tube-close").click()
    grid.wait_for_url("**/testing/scan/?*")
    first.refresh_from_db()
    assert first.status == "sampled"

    # the re-sample is positive: a suspected case
    _upload(page, base, tmp_path, "resample.csv", [f"E2ER00000001,阳性,28.3,27.6,{now},鹏城市疾控中心实验室"])
    first.refresh_from_db()
    assert first.status == "positive" and first.case is not None
    case = Case.objects.get(pk=first.case_id)
    assert (case.person_id, case.classification) == (first.person_id, "suspected")
    page.goto(f"{base}/testing/recalls/{first.pk}/")
    expect(page.get_by_test_id("recall")).to_contain_text(case.number)
