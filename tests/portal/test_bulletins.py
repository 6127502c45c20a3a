"""Bulletins: the draft from the data, versions, approval on and off, illegal moves, no PII."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from fangkong.common.errors import Conflict, Forbidden
from fangkong.people.crypto import decrypt
from fangkong.portal import services
from fangkong.portal.drafting import day_figures
from fangkong.portal.models import Bulletin, BulletinStatus
from tests.orgs.factories import user_with_role
from tests.portal.factories import DAY, at, case_at, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_cases(tree, epidemiologist):
    """On DAY: 东区 2 confirmed (one had been asymptomatic the day before) and 1 asymptomatic;
    西区 1 confirmed. Not new on DAY: a confirmed case the day before, a suspected case, and a
    case confirmed just after midnight of the next day."""
    far_epi = user_with_role("epidemiologist", tree.other_district, username="epi_far")
    ok = {
        "east_confirmed": case_at(
            actor=epidemiologist, grid=tree.grid_a, classification="confirmed", when=at(DAY, 0, 0)
        ),
        "east_turned": case_at(
            actor=epidemiologist,
            grid=tree.grid_b,
            classification="confirmed",
            when=at(DAY - timedelta(days=1)),
            asymptomatic_at=at(DAY - timedelta(days=1)),
            confirmed_at=at(DAY, 23, 59),
        ),
        "east_asymptomatic": case_at(
            actor=epidemiologist, grid=tree.grid_a, classification="asymptomatic", when=at(DAY, 14)
        ),
        "west_confirmed": case_at(
            actor=far_epi, grid=tree.grid_far, classification="confirmed", when=at(DAY, 9)
        ),
        "yesterday": case_at(
            actor=epidemiologist,
            grid=tree.grid_a,
            classification="confirmed",
            when=at(DAY - timedelta(days=1), 23, 59),
        ),
        "suspected": case_at(
            actor=epidemiologist, grid=tree.grid_b, classification="suspected", when=at(DAY)
        ),
        "tomorrow": case_at(
            actor=epidemiologist,
            grid=tree.grid_b,
            classification="confirmed",
            when=at(DAY + timedelta(days=1), 0, 1),
        ),
    }
    return ok


def test_draft_counts_new_cases_by_district_and_classification(tree, day_cases):
    figures = day_figures(unit=tree.city, day=DAY)
    assert figures.new == {"confirmed": 3, "asymptomatic": 1}
    assert figures.by_district == {"东区": {"confirmed": 2, "asymptomatic": 1}, "西区": {"confirmed": 1}}
    # to date: every case confirmed by the end of DAY (yesterday's included, tomorrow's not)
    assert figures.totals == {"confirmed": 4, "asymptomatic": 1}
    assert day_figures(unit=tree.district, day=DAY).new == {"confirmed": 2, "asymptomatic": 1}


def test_draft_text_names_districts_and_only_published_places(tree, day_cases, epidemiologist, publisher):
    case = day_cases["east_confirmed"]
    place(
        actor=epidemiologist,
        case=case,
        start="2022-05-08 14:00",
        end="2022-05-08 15:30",
        place="湖贝美食城",
        publish=True,
    )
    place(actor=epidemiologist, case=case, start="2022-05-08 18:00", place="某小区3栋502", publish=False)
    with translation.override("en"):
        bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    assert bulletin.status == BulletinStatus.DRAFT and bulletin.for_date == DAY
    assert "东区: 2 confirmed, 1 asymptomatic" in bulletin.body
    assert "西区: 1 confirmed, 0 asymptomatic" in bulletin.body
    assert "Total to date: 4 confirmed, 1 asymptomatic" in bulletin.body
    assert "2022-05-08 14:00–15:30 湖贝美食城" in bulletin.body
    assert "502" not in bulletin.body
    with pytest.raises(Conflict):  # one open bulletin per unit and day
        services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)


def _pii_of(cases):
    for case in cases:
        person = case.person
        yield person.name
        yield decrypt(person.id_number_cipher)
        if person.phone_cipher:
            yield decrypt(person.phone_cipher)


def test_published_bulletin_page_and_feed_carry_no_pii(
    tree, epidemiologist, publisher, client, django_capture_on_commit_callbacks
):
    names = ["欧阳明辉", "司马静怡", "诸葛建国"]
    cases = [
        case_at(
            actor=epidemiologist, grid=tree.grid_a, classification="confirmed", when=at(DAY, 8 + i), name=n
        )
        for i, n in enumerate(names)
    ]
    for case in cases:
        place(actor=epidemiologist, case=case, start="2022-05-09 10:00", place="东门步行街", publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
        services.bulletin_publish(actor=publisher, bulletin=bulletin)
    pages = [
        client.get(reverse("portal:bulletin", args=[bulletin.pk])),
        client.get(reverse("portal:home")),
        client.get(reverse("portal:feed")),
    ]
    secrets = list(_pii_of(cases))
    assert len(secrets) == 9 and all(secrets)
    for response in pages:
        assert response.status_code == 200
        text = response.content.decode()
        assert "东门步行街" in text  # the place is published …
        for secret in secrets:  # … and nothing of the person
            assert secret not in text, secret


def test_every_edit_is_kept_as_a_version(tree, publisher, client):
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    services.bulletin_edit(actor=publisher, bulletin=bulletin, title="第二稿", body="正文二")
    services.bulletin_edit(
        actor=publisher, bulletin=bulletin, title="第二稿", body="正文二"
    )  # unchanged: no version
    services.bulletin_edit(actor=publisher, bulletin=bulletin, title="第三稿", body="正文三")
    versions = list(bulletin.versions.values_list("number", "title", "author__username"))
    assert [v[:2] for v in versions] == [(3, "第三稿"), (2, "第二稿"), (1, versions[-1][1])]
    assert {v[2] for v in versions} == {"pub"}
    client.force_login(publisher)
    page = client.get(reverse("publish:bulletin", args=[bulletin.pk])).content.decode()
    assert "第二稿" in page and "正文二" in page and "第三稿" in page


def test_edit_through_the_staff_page_makes_a_version(tree, publisher, client):
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    client.force_login(publisher)
    url = reverse("publish:bulletin", args=[bulletin.pk])
    assert client.post(url, {"title": "改过的标题", "body": "新的正文"}).status_code == 302
    assert client.post(url, {"title": "", "body": "x"}).status_code == 422
    assert bulletin.versions.count() == 2
    bulletin.refresh_from_db()
    assert bulletin.title == "改过的标题"


def test_without_approval_a_publisher_publishes_a_draft(tree, publisher, commander, settings):
    settings.FANGKONG_BULLETIN_APPROVAL = False
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    with pytest.raises(Conflict):
        services.bulletin_approve(actor=commander, bulletin=bulletin)
    bulletin = services.bulletin_publish(actor=publisher, bulletin=bulletin)
    assert bulletin.status == BulletinStatus.PUBLISHED and bulletin.published_by == publisher


def test_with_approval_a_commander_approves_before_publishing(tree, publisher, commander, settings):
    settings.FANGKONG_BULLETIN_APPROVAL = True
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    with pytest.raises(Conflict):
        services.bulletin_publish(actor=publisher, bulletin=bulletin)
    services.bulletin_submit(actor=publisher, bulletin=bulletin)
    with pytest.raises(Conflict, match=r"审核通过|approve"):
        services.bulletin_publish(actor=publisher, bulletin=bulletin)
    with pytest.raises(Forbidden):
        services.bulletin_approve(actor=publisher, bulletin=bulletin)
    with pytest.raises(Forbidden):
        services.bulletin_publish(actor=commander, bulletin=bulletin)
    services.bulletin_approve(actor=commander, bulletin=bulletin)
    bulletin = services.bulletin_publish(actor=publisher, bulletin=bulletin)
    assert bulletin.status == BulletinStatus.PUBLISHED
    assert bulletin.approved_by == commander


def test_illegal_moves_are_refused_naming_both_states(tree, publisher, client):
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    with translation.override("en"), pytest.raises(Conflict) as refused:
        services.bulletin_withdraw(actor=publisher, bulletin=bulletin)
    assert "Draft" in refused.value.message and "Withdrawn" in refused.value.message
    assert refused.value.status == 409
    services.bulletin_publish(actor=publisher, bulletin=bulletin)
    services.bulletin_withdraw(actor=publisher, bulletin=bulletin)
    with translation.override("en"), pytest.raises(Conflict) as again:
        services.bulletin_publish(actor=publisher, bulletin=bulletin)
    assert "Withdrawn" in again.value.message and "Published" in again.value.message
    client.force_login(publisher)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("publish:bulletin-action", args=[bulletin.pk, "publish"]), follow=True)
    assert "Cannot move a bulletin from “Withdrawn” to “Published”" in response.content.decode()
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.WITHDRAWN


def test_a_bulletin_of_another_unit_is_out_of_scope(tree, client):
    from tests.orgs.factories import user_with_role

    west = user_with_role("publisher", tree.other_district, username="west_pub")
    east = user_with_role("publisher", tree.district, username="east_pub")
    bulletin = services.bulletin_draft(actor=west, unit=tree.other_district, day=DAY)
    with pytest.raises(Forbidden):
        services.bulletin_draft(actor=east, unit=tree.other_district, day=DAY - timedelta(days=1))
    client.force_login(east)
    assert client.get(reverse("publish:bulletin", args=[bulletin.pk])).status_code == 404


def test_personal_data_typed_into_a_bulletin_is_refused(tree, publisher):
    from fangkong.common.errors import Invalid
    from tests.people.factories import resident_id

    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    number = resident_id()
    with pytest.raises(Invalid) as error:
        services.bulletin_edit(
            actor=publisher, bulletin=bulletin, title=bulletin.title, body=f"张伟（{number}，13800138000）"
        )
    assert set(error.value.errors) == {"body"} and "138****8000" in error.value.errors["body"][0]
    Bulletin.objects.filter(pk=bulletin.pk).update(body="病例电话 13800138000")  # slipped in some other way
    with pytest.raises(Invalid):
        services.bulletin_publish(actor=publisher, bulletin=bulletin)
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.DRAFT


def test_a_rebuttal_with_a_phone_number_is_refused(tree, publisher):
    from fangkong.common.errors import Invalid
    from fangkong.portal.content import RebuttalData, rebuttal_create

    data = RebuttalData(
        claim="网传某小区封控", verdict="false", explanation="请致电 139 1234 5678 核实", sources=""
    )
    with pytest.raises(Invalid) as error:
        rebuttal_create(actor=publisher, unit=tree.city, data=data)
    assert list(error.value.errors) == ["explanation"]


def test_a_city_publisher_may_draft_for_a_district_too(tree, publisher):
    from fangkong.portal.selectors import publish_units

    units = publish_units(actor=publisher)
    assert units[0] == tree.city and {tree.district, tree.other_district} <= set(units)
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.district, day=DAY)
    assert bulletin.org_unit == tree.district
