"""An epidemiologist reviews a discovery's proposals in Chromium: the proposals come highest score
first; ticking the page of 100 and confirming asks first (naming the consequence), shows that it
is working while the batch runs, and comes back to the proposals tab with the rest; the cluster
graph draws; and the companions' notices are in the text-message outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.contacts.models import Contact
from fangkong.contacts.services import contact_propose
from fangkong.notify.services import sms_to_people
from fangkong.quarantine.models import QuarantineOrder
from tests.cases.factories import make_case
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Epi-password-7"
PROPOSALS = 130

# Records, across the navigation that follows, what the bulk form showed while it was sent.
WATCH_BUSY = """() => {
  const form = document.getElementById("bulk");
  const note = () => sessionStorage.setItem("busy", JSON.stringify({
    status: form.querySelector("[data-busy-status]").hidden ? "" : form.querySelector("[data-busy-status]").textContent,
    busy: form.getAttribute("aria-busy"),
    disabled: form.querySelector("[data-testid=bulk-confirm]").disabled,
  }));
  new MutationObserver(note).observe(form, { attributes: true, subtree: true, childList: true, characterData: true });
}"""


@pytest.fixture
def review(tree):
    """A confirmed case with 130 proposals of varied scores, and three spatiotemporal companions
    who were sent the companion notice."""
    epi = user_with_role("epidemiologist", tree.district, username="triage.epi")
    epi.set_password(PASSWORD)
    epi.save()
    case = make_case(actor=epi, grid=tree.grid_a, classification="confirmed", hours_ago=20)
    last = timezone.now() - timedelta(hours=30)
    for n in range(PROPOSALS):
        contact = contact_propose(
            case=case,
            person=make_person(actor=epi, grid=tree.grid_a, name=f"吴{n:03d}", building=str(n), room="101"),
            kind="close",
            exposure_type="venue" if n % 3 else "colocation",
            first_exposure=last - timedelta(minutes=n + 30),
            last_exposure=last - timedelta(minutes=n),
            discovered_by="venue" if n % 3 else "colocation",
        )
        assert contact is not None
        Contact.objects.filter(pk=contact.pk).update(score=(n * 37) % 101)
    companions = [make_person(actor=epi, grid=tree.grid_b, name=f"郑{n}") for n in range(3)]
    for person in companions:
        Contact.objects.create(
            source_case=case,
            person=person,
            org_unit=person.org_unit,
            kind="companion",
            status="confirmed",
            exposure_type="colocation",
            first_exposure=last - timedelta(hours=1),
            last_exposure=last,
            discovered_by="colocation",
        )
    queued = sms_to_people(
        actor=epi,
        template="companion_notice",
        people=companions,
        params=lambda person: {"days": "3", "tests": "2", "link": "https://fk.example/help/"},
    )
    assert len(queued.queued) == 3
    return case


def test_epidemiologist_confirms_a_page_of_proposals_by_score(live_server, page: Page, review):
    base = live_server.url
    login(page, base, "triage.epi", PASSWORD)
    page.goto(f"{base}/contacts/case/{review.pk}/")
    expect(page.get_by_test_id("review")).to_have_attribute("data-tab", "proposed")
    rows = page.get_by_test_id("contact-row")
    expect(rows).to_have_count(100)
    scores = [int(s) for s in rows.evaluate_all("rows => rows.map(r => r.dataset.score)")]
    everyone = sorted(
        Contact.objects.filter(source_case=review, status="proposed").values_list("score", flat=True)
    )
    assert scores == everyone[::-1][:100]
    top = [int(i) for i in rows.evaluate_all("rows => rows.map(r => r.dataset.id)")]

    page.evaluate(WATCH_BUSY)
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_test_id("select-all").check()
    with page.expect_navigation(timeout=30_000):
        page.get_by_test_id("bulk-confirm").click()
    assert asked and "100" in asked[0] and "{n}" not in asked[0]
    busy = page.evaluate("() => JSON.parse(sessionStorage.getItem('busy') || '{}')")
    assert busy.get("busy") == "true" and busy.get("disabled") is True
    assert "100" in busy.get("status", "")  # "正在确认 100 个……" while the batch ran

    assert "tab=proposed" in page.url
    expect(page.get_by_test_id("review")).to_have_attribute("data-tab", "proposed")
    expect(page.locator(".messages li").first).to_contain_text("100")
    expect(rows).to_have_count(PROPOSALS - 100)
    confirmed = Contact.objects.filter(pk__in=top, status="confirmed")
    assert confirmed.count() == 100
    assert QuarantineOrder.objects.filter(contact__in=confirmed).values("contact").distinct().count() == 100

    page.get_by_test_id("tab-companions").click()
    expect(rows).to_have_count(3)
    page.get_by_test_id("cluster-link").click()
    expect(page.locator("#cluster[data-ready='1']")).to_have_count(1)
    drawn = page.request.get(f"{base}/contacts/cluster/{review.pk}/data.json").json()
    assert (drawn["contacts"], drawn["proposals"], drawn["companions"]) == (100, PROPOSALS - 100, 3)

    page.goto(f"{base}/notify/outbox/?template=companion_notice")
    notices = page.locator("[data-testid=outbox] tbody tr")
    expect(notices).to_have_count(3)
    expect(notices.first).to_contain_text("时空伴随")
