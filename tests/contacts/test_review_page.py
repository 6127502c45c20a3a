"""The review page of a case's contacts: proposals by score, household members on their own tab,
filters, and after every decision the same tab, filters, order and page; evidence with its
dates; people outside the reviewer's area masked, with no link."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.contacts.models import Contact, ContactEvidence, DiscoveryRun
from fangkong.contacts.services import contact_propose
from tests.cases.factories import make_case
from tests.people.factories import make_person, resident_id

pytestmark = pytest.mark.django_db

SCORES = [(n * 37) % 101 for n in range(110)]


def _rows(page: str) -> list[tuple[int, int]]:
    """(contact id, score) of each row, in the order shown."""
    return [
        (int(pk), int(score))
        for score, pk in re.findall(
            r'data-testid="contact-row" data-status="\w+" data-score="(\d+)" data-id="(\d+)"', page
        )
    ]


@pytest.fixture
def review(tree, epidemiologist):
    """A confirmed case with 110 proposals of varied scores (venue and location data), 3 household
    members proposed through a confirmed close contact, and a spatiotemporal companion."""
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=20)
    last = timezone.now() - timedelta(hours=30)
    for n, score in enumerate(SCORES):
        contact = contact_propose(
            case=case,
            person=make_person(actor=epidemiologist, grid=tree.grid_a, name=f"李{n:03d}"),
            kind="close",
            exposure_type="venue" if n % 2 else "colocation",
            first_exposure=last - timedelta(minutes=n + 30),
            last_exposure=last - timedelta(minutes=n),
            discovered_by="venue" if n % 2 else "colocation",
        )
        assert contact is not None
        Contact.objects.filter(pk=contact.pk).update(score=score)
    close = contact_propose(
        case=case,
        person=make_person(actor=epidemiologist, grid=tree.grid_a, name="赵家长"),
        kind="close",
        exposure_type="household",
        first_exposure=last - timedelta(hours=2),
        last_exposure=last,
        discovered_by="manual",
    )
    assert close is not None
    Contact.objects.filter(pk=close.pk).update(status="confirmed", decided_at=last)
    for n in range(3):
        contact_propose(
            case=case,
            person=make_person(actor=epidemiologist, grid=tree.grid_a, name=f"赵{n}"),
            kind="secondary",
            exposure_type="household",
            first_exposure=last - timedelta(hours=2),
            last_exposure=last,
            discovered_by="household",
            via=close,
        )
    Contact.objects.create(
        source_case=case,
        person=make_person(actor=epidemiologist, grid=tree.grid_b, name="钱伴随"),
        org_unit=tree.grid_b,
        kind="companion",
        status="confirmed",
        exposure_type="colocation",
        first_exposure=last - timedelta(hours=1),
        last_exposure=last,
        discovered_by="colocation",
    )
    return case


def test_proposals_are_sorted_by_score_and_household_members_have_their_own_tab(
    client: Client, review, epidemiologist
):
    client.force_login(epidemiologist)
    page = client.get(f"/contacts/case/{review.pk}/").content.decode()
    assert 'data-tab="proposed"' in page and 'data-sort="score"' in page
    rows = _rows(page)
    assert len(rows) == 100 and [s for _pk, s in rows] == sorted(SCORES, reverse=True)[:100]
    counts = dict(re.findall(r'data-testid="tab-(\w+)">[^<]*<span class="badge">(\d+)</span>', page))
    assert counts == {
        "proposed": "110",
        "household": "3",
        "confirmed": "1",
        "companions": "1",
        "handed_off": "0",
        "dismissed": "0",
        "all": "115",
    }
    household = client.get(f"/contacts/case/{review.pk}/", {"tab": "household"}).content.decode()
    assert len(_rows(household)) == 3 and "赵*长" in household  # through the close contact
    by_name = client.get(f"/contacts/case/{review.pk}/", {"tab": "proposed", "sort": "name"}).content.decode()
    ids = [pk for pk, _s in _rows(by_name)]
    names = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "person__name"))
    assert [names[pk] for pk in ids] == sorted(names.values())


def test_filters_narrow_the_tab(client: Client, review, epidemiologist):
    client.force_login(epidemiologist)
    url = f"/contacts/case/{review.pk}/"
    venue = _rows(client.get(url, {"tab": "proposed", "found_by": "venue", "min_score": 50}).content.decode())
    expected = Contact.objects.filter(
        source_case=review, discovered_by="venue", status="proposed", score__gte=50
    )
    assert {pk for pk, _s in venue} == set(expected.values_list("pk", flat=True)) and venue
    assert all(s >= 50 for _pk, s in venue)
    exposure = _rows(client.get(url, {"tab": "proposed", "exposure_type": "colocation"}).content.decode())
    assert len(exposure) == 55
    one = Contact.objects.get(source_case=review, person__name="李007")
    by_name = _rows(client.get(url, {"tab": "proposed", "q": "李007"}).content.decode())
    assert [pk for pk, _s in by_name] == [one.pk]
    none = client.get(url, {"tab": "proposed", "q": "没有这个人"}).content.decode()
    assert 'data-testid="empty"' in none and 'data-testid="clear-filters"' in none


def test_a_decision_comes_back_to_the_same_tab_filters_and_page(client: Client, review, epidemiologist):
    client.force_login(epidemiologist)
    here = f"/contacts/case/{review.pk}/?tab=proposed&sort=score&min_score=5&page=2"
    page = client.get(here).content.decode()
    assert f'name="next" value="{here.replace("&", "&amp;")}"' in page
    on_page = [pk for pk, _s in _rows(page)]
    assert len(on_page) == 4  # 104 score 5 or more: the second page holds 4
    response = client.post(
        f"/contacts/case/{review.pk}/proposals/",
        {"contact": on_page, "decision": "dismiss", "reason": "同楼不同层", "next": here},
    )
    assert response["Location"] == here + "#review"
    back = client.get(response["Location"]).content.decode()
    shown = {pk for pk, _s in _rows(back)}  # page 2 is now past the end: the last page, the first
    assert 'data-tab="proposed"' in back and len(shown) == 100 and not shown & set(on_page)

    single = Contact.objects.filter(source_case=review, status="proposed", kind="close").first()
    response = client.post(f"/contacts/{single.pk}/dismiss/", {"reason": "误报", "next": here})
    assert response["Location"] == here + "#review"
    hostile = client.post(
        f"/contacts/{single.pk}/dismiss/", {"reason": "误报", "next": "https://evil.example/"}
    )
    assert hostile["Location"] == f"/contacts/case/{review.pk}/#review"


def test_a_bulk_confirmation_asks_first_and_shows_that_it_is_busy(client: Client, review, epidemiologist):
    client.force_login(epidemiologist)
    page = client.get(f"/contacts/case/{review.pk}/").content.decode()
    confirm = re.search(r'<button type="submit" name="decision" value="confirm"[^>]*>', page).group(0)
    assert "data-confirm-ticked=" in confirm and "{n}" in confirm and "data-busy=" in confirm
    assert "js/busy.js" in page and 'data-testid="bulk-busy"' in page
    assert page.index("js/confirm.js") < page.index("js/busy.js")  # a cancelled dialog is not busy


def test_the_page_does_not_query_per_row(client: Client, review, epidemiologist, tree):
    client.force_login(epidemiologist)
    run = DiscoveryRun.objects.create(
        case=review,
        created_by=epidemiologist,
        range_start=timezone.now() - timedelta(days=3),
        range_end=timezone.now(),
        backend="duckdb",
    )
    start = timezone.now() - timedelta(hours=40)
    ContactEvidence.objects.bulk_create(
        ContactEvidence(
            contact=c,
            run=run,
            where_kind="venue",
            where_id=1,
            place="湖贝餐厅",
            start=start,
            end=start + timedelta(minutes=20),
            minutes=20,
        )
        for c in Contact.objects.filter(source_case=review, status="proposed")
    )
    url = f"/contacts/case/{review.pk}/"
    with CaptureQueriesContext(connection) as full:
        client.get(url, {"tab": "proposed"})
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"tab": "proposed", "min_score": 95})
    assert len(full) == len(few) and len(full) < 30


def test_evidence_shows_both_dates_of_an_overnight_span_and_the_place_name(
    client: Client, review, epidemiologist
):
    client.force_login(epidemiologist)
    contact = Contact.objects.filter(source_case=review, status="proposed").order_by("-score").first()
    night = timezone.make_aware(datetime(2026, 12, 3, 22, 10))
    run = DiscoveryRun.objects.create(
        case=review,
        created_by=epidemiologist,
        range_start=night - timedelta(days=1),
        range_end=night,
        backend="duckdb",
    )
    ContactEvidence.objects.create(
        contact=contact,
        run=run,
        where_kind="cell",
        where_id=4242,
        place="湖贝社区第1网格",
        start=night,
        end=night + timedelta(hours=8, minutes=30),
        minutes=510,
    )
    ContactEvidence.objects.create(
        contact=contact,
        run=run,
        where_kind="venue",
        where_id=7,
        place="湖贝餐厅",
        start=night - timedelta(hours=4),
        end=night - timedelta(hours=3),
        minutes=60,
    )
    page = client.get(f"/contacts/case/{review.pk}/").content.decode()
    evidence = page.split('data-testid="evidence"')[1].split("</details>")[0]
    assert "湖贝社区第1网格 · 12-03 22:10 – 12-04 06:40" in evidence  # the longest first, both dates
    assert "湖贝餐厅 · 12-03 18:10 – 19:10" in evidence
    assert "4242" not in evidence


def test_a_person_outside_the_area_is_handed_off_and_shown_masked(
    client: Client, review, epidemiologist, admin_user, tree
):
    number = resident_id()
    far = make_person(actor=admin_user, grid=tree.grid_far, name="孙远方", id_number=number)
    client.force_login(epidemiologist)
    last = timezone.localtime() - timedelta(hours=2)
    response = client.post(
        f"/contacts/case/{review.pk}/?tab=handed_off",
        {
            "person": number,
            "exposure_type": "workplace",
            "first_exposure": (last - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "last_exposure": last.strftime("%Y-%m-%d %H:%M"),
            "next": f"/contacts/case/{review.pk}/?tab=handed_off",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(source_case=review, person=far)
    assert contact.status == "handed_off" and contact.handoff.status == "requested"
    page = client.get(response["Location"]).content.decode()
    rows = page.split('data-testid="contacts"')[1]
    assert "孙*方" in rows and "孙远方" not in page
    assert f"/people/{far.pk}/" not in page and 'data-testid="masked-person"' in rows
    assert 'data-testid="handoff-status"' in rows and 'data-testid="order-link"' not in rows
    messages = re.findall(r'<li class="success" role="status">([^<]*)</li>', page)
    assert messages and "孙*方" in messages[0]


def test_every_tab_has_its_empty_state(client: Client, tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed")
    client.force_login(epidemiologist)
    texts = set()
    for tab in ("proposed", "household", "confirmed", "companions", "handed_off", "dismissed", "all"):
        page = client.get(f"/contacts/case/{case.pk}/", {"tab": tab}).content.decode()
        empty = re.search(r'data-testid="empty">([^<]+)', page)
        assert empty, tab
        texts.add(empty.group(1))
    assert len(texts) == 7


def test_a_contact_already_in_quarantine_says_so_instead_of_no_order(client: Client, epidemiologist, tree):
    from datetime import timedelta

    from django.utils import timezone

    from fangkong.contacts.services import contact_register
    from tests.cases.factories import make_case
    from tests.people.factories import make_person

    person = make_person(actor=epidemiologist, grid=tree.grid_a, name="早隔离")
    first = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=30)
    second = make_case(actor=epidemiologist, grid=tree.grid_b, classification="confirmed", hours_ago=5)
    when = timezone.now() - timedelta(hours=40)
    contact_register(
        actor=epidemiologist,
        case=first,
        person=person,
        exposure_type="social",
        first_exposure=when,
        last_exposure=when + timedelta(hours=1),
    )
    later = timezone.now() - timedelta(hours=8)
    again = contact_register(
        actor=epidemiologist,
        case=second,
        person=person,
        exposure_type="social",
        first_exposure=later,
        last_exposure=later + timedelta(hours=1),
    )
    client.force_login(epidemiologist)
    page = client.get(f"/contacts/case/{second.pk}/", {"tab": "confirmed"}).content.decode()
    assert again.orders.count() == 0 and 'data-testid="quarantined-already"' in page
