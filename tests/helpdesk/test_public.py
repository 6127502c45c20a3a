"""The resident's pages: the form (validation, CSRF, rate limits), the ticket page and the rating."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.helpdesk import public_views
from fangkong.helpdesk.models import HelpRequest
from fangkong.helpdesk.services import call_log, help_request_resolve
from tests.helpdesk.factories import make_request
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db


def _form(tree, **overrides):
    data = {
        "name": "李四",
        "phone": "13912345678",
        "district": tree.district.pk,
        "street": tree.street.pk,
        "community": tree.community.pk,
        "grid": tree.grid_a.pk,
        "address": "3栋502",
        "category": "medicine",
        "urgency": "urgent",
        "description": "家里老人需要胰岛素",
    }
    data.update(overrides)
    return data


def test_the_form_cascades_down_the_tree(tree, client: Client):
    page = client.get(reverse("help:form"))
    assert page.status_code == 200 and tree.district.name in page.content.decode()
    part = client.get(reverse("help:address"), {"district": tree.district.pk, "street": tree.street.pk})
    html = part.content.decode()
    assert tree.street.name in html and tree.community.name in html and tree.grid_a.name not in html


def test_a_submission_is_stored_and_answered_with_its_ticket(tree, client: Client):
    response = client.post(reverse("help:form"), _form(tree), follow=True)
    assert response.status_code == 200
    stored = HelpRequest.objects.get()
    html = response.content.decode()
    assert stored.ticket_display in html and 'data-testid="received"' in html
    assert stored.org_unit == tree.community and stored.grid == tree.grid_a
    assert "13912345678" not in html and "李*" in html


def test_bad_input_names_each_field_and_keeps_what_was_typed(tree, client: Client):
    response = client.post(reverse("help:form"), _form(tree, phone="2345", community="", description=""))
    assert response.status_code == 422
    html = response.content.decode()
    for field in ("phone", "community", "description"):
        assert f'data-field="{field}"' in html
    assert 'value="李四"' in html
    assert HelpRequest.objects.count() == 0


def test_the_form_is_csrf_protected(tree):
    response = Client(enforce_csrf_checks=True).post(reverse("help:form"), _form(tree))
    assert response.status_code == 403
    assert HelpRequest.objects.count() == 0


def test_rate_limited_by_address(tree, client: Client, monkeypatch):
    monkeypatch.setattr(public_views, "FORM_LIMIT_PER_ADDRESS", 3)
    codes = [
        client.post(reverse("help:form"), _form(tree, phone=f"1391234567{i}")).status_code for i in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]
    other = Client(REMOTE_ADDR="10.0.0.9").post(reverse("help:form"), _form(tree, phone="13700000000"))
    assert other.status_code == 302
    assert HelpRequest.objects.count() == 4


def test_rate_limited_by_phone_whatever_the_address(tree, monkeypatch):
    monkeypatch.setattr(public_views, "FORM_LIMIT_PER_PHONE", 2)
    codes = []
    for i, category in enumerate(["medicine", "food", "care"]):
        client = Client(REMOTE_ADDR=f"10.0.0.{i + 1}")
        codes.append(client.post(reverse("help:form"), _form(tree, category=category)).status_code)
    assert codes == [302, 302, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(tree, settings, monkeypatch):
    settings.FANGKONG_TRUSTED_PROXIES = 1
    monkeypatch.setattr(public_views, "FORM_LIMIT_PER_ADDRESS", 1)
    first = Client(HTTP_X_FORWARDED_FOR="1.2.3.4").post(
        reverse("help:form"), _form(tree, phone="13700000001")
    )
    second = Client(HTTP_X_FORWARDED_FOR="5.6.7.8").post(
        reverse("help:form"), _form(tree, phone="13700000002")
    )
    again = Client(HTTP_X_FORWARDED_FOR="9.9.9.9, 1.2.3.4").post(
        reverse("help:form"), _form(tree, phone="13700000003")
    )
    assert (first.status_code, second.status_code, again.status_code) == (302, 302, 429)


def test_a_duplicate_is_acknowledged_without_a_second_request(tree, client: Client):
    client.post(reverse("help:form"), _form(tree))
    response = client.post(reverse("help:form"), _form(tree, description="还没人联系我"))
    assert response.status_code == 200 and 'data-testid="duplicate"' in response.content.decode()
    assert HelpRequest.objects.count() == 1


def test_ticket_lookup_and_status_then_rating(tree, client: Client):
    client.post(reverse("help:form"), _form(tree))
    stored = HelpRequest.objects.get()
    typed = f"{stored.ticket[:4].lower()} {stored.ticket[4:]}"
    response = client.get(reverse("help:lookup"), {"ticket": typed}, follow=True)
    assert response.status_code == 200
    assert re.search(r'data-testid="ticket-status"><strong>[^<]+</strong>', response.content.decode())
    assert client.get(reverse("help:lookup"), {"ticket": "ZZZZ-ZZZZ"}).status_code == 404
    operator = user_with_role("hotline", tree.community)
    call_log(actor=operator, request=stored, outcome="reached")
    help_request_resolve(actor=operator, request=stored, resolution="已送胰岛素上门")
    page = client.get(reverse("help:ticket", args=[stored.ticket])).content.decode()
    assert "已送胰岛素上门" in page and 'name="rating"' in page
    assert client.post(reverse("help:rate", args=[stored.ticket]), {"rating": "9"}).status_code == 422
    client.post(reverse("help:rate", args=[stored.ticket]), {"rating": "4", "comment": "谢谢"})
    stored.refresh_from_db()
    assert stored.rating == 4


def test_codes_not_found_are_limited_but_the_browsers_own_ticket_never_is(tree, client: Client, monkeypatch):
    monkeypatch.setattr(public_views, "LOOKUP_LIMIT_PER_ADDRESS", 2)
    stranger = make_request(community=tree.community, phone="13700000009")
    found = client.get(reverse("help:ticket", args=[stranger.ticket]))
    assert found.status_code == 200  # a code found is not counted
    codes = [client.get(reverse("help:lookup"), {"ticket": f"AAAA{i}AAA"}).status_code for i in range(3)]
    assert codes == [404, 404, 429]
    assert client.get(reverse("help:ticket", args=[stranger.ticket])).status_code == 429  # blocked now
    submitted = client.post(reverse("help:form"), _form(tree), follow=True)
    assert submitted.status_code == 200 and 'data-testid="received"' in submitted.content.decode()
    mine = HelpRequest.objects.get(phone_masked="139****5678").ticket
    listed = client.get(reverse("help:lookup")).content.decode()
    assert 'data-testid="mine"' in listed and f"/portal/help/t/{mine}/" in listed


def test_a_duplicate_from_the_same_browser_links_its_ticket(tree, client: Client):
    client.post(reverse("help:form"), _form(tree))
    ticket = HelpRequest.objects.get().ticket
    again = client.post(reverse("help:form"), _form(tree, description="还没人联系我")).content.decode()
    assert 'data-testid="earlier-ticket"' in again and ticket[4:] in again
    elsewhere = Client().post(reverse("help:form"), _form(tree, description="还没人联系我")).content.decode()
    assert 'data-testid="duplicate"' in elsewhere and ticket[4:] not in elsewhere


@pytest.mark.parametrize(
    "typed",
    ["+86 139-1234-5678", "8613912345678", "００８６ １３９１２３４５６７８", "１３９１２３４５６７８"],
)
def test_phones_are_read_in_the_forms_people_write_them(tree, client: Client, typed):
    assert client.post(reverse("help:form"), _form(tree, phone=typed)).status_code == 302
    assert HelpRequest.objects.get().phone_masked == "139****5678"


def test_a_full_width_ticket_code_is_found(tree, client: Client):
    stored = make_request(community=tree.community)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in stored.ticket[:4]) + "－" + stored.ticket[4:]
    response = client.get(reverse("help:lookup"), {"ticket": wide})
    assert response.status_code == 302 and stored.ticket in response["Location"]


def test_invalid_posts_do_not_use_up_someone_elses_phone(tree, monkeypatch):
    monkeypatch.setattr(public_views, "FORM_LIMIT_PER_PHONE", 2)
    for i in range(4):
        bad = Client(REMOTE_ADDR=f"10.9.0.{i}").post(reverse("help:form"), _form(tree, description=""))
        assert bad.status_code == 422
    assert Client().post(reverse("help:form"), _form(tree)).status_code == 302


@pytest.mark.parametrize("typed", ["0755-1234 5678", "(010) 8765 4321", "+86 755 12345678"])
def test_a_landline_with_its_area_code_is_a_number_we_can_call(tree, client: Client, typed):
    assert client.post(reverse("help:form"), _form(tree, phone=typed)).status_code == 302
    assert HelpRequest.objects.get().phone_masked.endswith(typed[-4:])


@pytest.mark.parametrize("typed", ["12345678", "0755-123", "1391234567"])
def test_numbers_we_cannot_call_are_refused(tree, client: Client, typed):
    response = client.post(reverse("help:form"), _form(tree, phone=typed))
    assert response.status_code == 422 and 'data-field="phone"' in response.content.decode()
