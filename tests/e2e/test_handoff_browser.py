"""A cross-district hand-off (协查), in Chromium: an epidemiologist of one district registers, by
full ID number, a close contact who lives in another district; the contact is handed off (no
orders here); the other district's epidemiologist takes it over on the hand-off page, after the
confirm dialog, and the orders are made there; the first district sees it accepted, masked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect

from fangkong.contacts.models import Contact
from fangkong.people.crypto import decrypt
from fangkong.quarantine.models import QuarantineOrder
from tests.cases.factories import make_case
from tests.e2e.conftest import login
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_handoff_is_requested_and_accepted_by_the_other_district(live_server, page: Page, tree):
    near = user_with_role("epidemiologist", tree.district, username="li.epi")
    far = user_with_role("epidemiologist", tree.other_district, username="wang.epi")
    for user in (near, far):
        user.set_password("Epi-password-1")
        user.save()
    case = make_case(
        actor=near, grid=tree.grid_a, hours_ago=1, onset_date=timezone.localdate() - timedelta(days=2)
    )
    resident = make_person(actor=far, grid=tree.grid_far, name="陈远方")
    last = timezone.localtime() - timedelta(hours=6)

    login(page, live_server.url, "li.epi", "Epi-password-1")
    page.goto(f"{live_server.url}/contacts/case/{case.pk}/")
    form = page.get_by_test_id("contact-form")
    form.locator("input[name=person]").fill(decrypt(resident.id_number_cipher))
    form.locator("select[name=exposure_type]").select_option("social")
    form.locator("input[name=first_exposure]").fill((last - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"))
    form.locator("input[name=last_exposure]").fill(last.strftime("%Y-%m-%d %H:%M"))
    form.get_by_role("button").click()
    expect(page.locator(".messages li.success")).to_contain_text("协查")
    contact = Contact.objects.get(person=resident)
    assert contact.status == "handed_off"
    assert not QuarantineOrder.objects.filter(person=resident).exists()
    assert "陈远方" not in page.content()  # the case's side sees the masked name only

    page.context.clear_cookies()
    login(page, live_server.url, "wang.epi", "Epi-password-1")
    page.goto(f"{live_server.url}/contacts/handoffs/")
    incoming = page.get_by_test_id("incoming")
    expect(incoming).to_contain_text(case.number)
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    incoming.locator("input[name=handoff]").check()
    incoming.get_by_role("button", name="接收").click()
    expect(page.locator(".messages li.success")).to_contain_text("1")
    assert asked and "隔离" in asked[0]
    contact.refresh_from_db()
    assert contact.status == "confirmed"
    orders = QuarantineOrder.objects.filter(person=resident)
    assert orders.count() == 2 and {o.org_unit_id for o in orders} == {tree.grid_far.pk}

    page.context.clear_cookies()
    login(page, live_server.url, "li.epi", "Epi-password-1")
    page.goto(f"{live_server.url}/contacts/handoffs/?status=accepted")
    sent = page.get_by_test_id("outgoing")
    expect(sent).to_contain_text(case.number)
    expect(sent).to_contain_text("已接收")
    assert "陈远方" not in page.content()
