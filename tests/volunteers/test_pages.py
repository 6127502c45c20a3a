"""Staff pages and the public role-model list, as a coordinator and a resident see them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from fangkong.audit.models import AuditEvent
from fangkong.people.crypto import decrypt
from fangkong.volunteers.models import Dispatch
from fangkong.volunteers.services import commendation_create, dispatch_create
from tests.volunteers.conftest import open_item
from tests.volunteers.factories import make_volunteer

pytestmark = pytest.mark.django_db


def test_the_list_filters_by_status_skill_and_name_and_masks(client: Client, tree, coordinator):
    make_volunteer(area=tree.community, approved_by=coordinator, name="王建国", skills=["driving"])
    make_volunteer(area=tree.community, name="刘晓芳", skills=["translation", "medical"])
    make_volunteer(area=tree.grid_far, name="远方人")
    client.force_login(coordinator)
    page = client.get("/volunteers/").content.decode()
    assert page.count('data-testid="volunteer-row"') == 2
    assert "王*国" in page and "王建国" not in page and "远*人" not in page
    assert "刘*芳" not in client.get("/volunteers/", {"status": "approved"}).content.decode()
    by_skill = client.get("/volunteers/", {"skill": "medical"}).content.decode()
    assert "刘*芳" in by_skill and "王*国" not in by_skill
    assert (
        client.get("/volunteers/", {"q": "建国"}).content.decode().count('data-testid="volunteer-row"') == 1
    )
    assert (
        client.get("/volunteers/", {"skill": "bogus"}).content.decode().count('data-testid="volunteer-row"')
        == 0
    )


def test_the_list_paginates(client: Client, tree, coordinator, settings):
    settings.FANGKONG_PAGE_SIZE = 3
    for i in range(7):
        make_volunteer(area=tree.community, name=f"志愿者{i}")
    client.force_login(coordinator)
    page = client.get("/volunteers/", {"page": 3}).content.decode()
    assert page.count('data-testid="volunteer-row"') == 1 and 'rel="prev"' in page


def test_approve_dispatch_and_log_hours_from_the_page(client: Client, tree, coordinator):
    volunteer = make_volunteer(area=tree.community)
    item = open_item(tree.grid_a, kind="quarantine.sample", title="协助核酸采样点")
    client.force_login(coordinator)
    detail = f"/volunteers/{volunteer.pk}/"
    assert client.post(f"{detail}dispatch/", {"work_item": item.pk}).status_code == 302
    assert not Dispatch.objects.exists()  # not approved yet: refused with a message
    assert client.post(f"{detail}decide/approve/").status_code == 302
    page = client.get(detail).content.decode()
    assert "协助核酸采样点" in page and 'data-testid="status"' in page
    client.post(f"{detail}dispatch/", {"work_item": item.pk})
    dispatch = Dispatch.objects.get()
    bad = client.post(f"/volunteers/dispatches/{dispatch.pk}/complete/", {"hours": "30"}, follow=True)
    assert "24" in bad.content.decode()
    client.post(f"/volunteers/dispatches/{dispatch.pk}/complete/", {"hours": "3.5", "note": "送菜"})
    dispatch.refresh_from_db()
    assert dispatch.status == "done" and dispatch.hours == 3.5
    assert re.search(r'data-testid="hours-total">3.5 (h|小时)<', client.get(detail).content.decode())


def test_an_illegal_move_from_the_page_says_why(client: Client, tree, coordinator):
    volunteer = make_volunteer(area=tree.community)
    client.force_login(coordinator)
    response = client.post(f"/volunteers/{volunteer.pk}/decide/suspend/", follow=True)
    assert "Cannot move a volunteer" in response.content.decode() or "不能" in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.status == "applied"


def test_show_full_phone_is_audited(client: Client, tree, coordinator):
    volunteer = make_volunteer(area=tree.community)
    client.force_login(coordinator)
    assert decrypt(volunteer.phone_cipher) not in client.get(f"/volunteers/{volunteer.pk}/").content.decode()
    response = client.post(f"/volunteers/{volunteer.pk}/reveal/")
    assert decrypt(volunteer.phone_cipher) in response.content.decode()
    event = AuditEvent.objects.get(action="volunteers.volunteer.reveal")
    assert event.actor == coordinator and event.target_id == str(volunteer.pk)


def test_another_streets_coordinator_gets_404(client: Client, tree, coordinator, far_coordinator):
    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    dispatch = dispatch_create(actor=coordinator, volunteer=volunteer, work_item=open_item(tree.grid_a))
    commendation = commendation_create(
        actor=coordinator, volunteer=volunteer, citation="好", commended_on=date(2022, 5, 3)
    )
    client.force_login(far_coordinator)
    assert client.get(f"/volunteers/{volunteer.pk}/").status_code == 404
    for url in (
        f"/volunteers/{volunteer.pk}/reveal/",
        f"/volunteers/{volunteer.pk}/decide/suspend/",
        f"/volunteers/dispatches/{dispatch.pk}/complete/",
        f"/volunteers/commendations/{commendation.pk}/publish/",
    ):
        assert client.post(url, {"hours": "1", "published": "1"}).status_code == 404, url
    volunteer.refresh_from_db()
    assert volunteer.status == "approved"
    assert not AuditEvent.objects.filter(action="volunteers.volunteer.reveal").exists()


def test_the_honours_list_shows_only_published_with_masked_names(client: Client, tree, coordinator):
    shown = make_volunteer(area=tree.community, approved_by=coordinator, name="张晓明")
    hidden = make_volunteer(area=tree.community, approved_by=coordinator, name="李四海")
    c = commendation_create(
        actor=coordinator,
        volunteer=shown,
        citation="十天送菜三百户。",
        commended_on=date(2022, 5, 3),
        published=True,
    )
    commendation_create(
        actor=coordinator, volunteer=hidden, citation="未发布的事迹。", commended_on=date(2022, 5, 3)
    )
    page = client.get("/portal/volunteer/honours/").content.decode()
    assert page.count('data-testid="honour"') == 1
    assert "张*明" in page and "张晓明" not in page and tree.community.name in page
    assert "十天送菜三百户" in page and "未发布的事迹" not in page and "李*海" not in page
    assert decrypt(shown.phone_cipher) not in page and shown.phone_masked not in page
    client.force_login(coordinator)
    client.post(f"/volunteers/commendations/{c.pk}/publish/", {"published": "0"})
    client.logout()
    assert 'data-testid="honour"' not in client.get("/portal/volunteer/honours/").content.decode()
