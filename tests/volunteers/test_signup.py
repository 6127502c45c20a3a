"""The public sign-up form: validation, limits, the duplicate guard, encryption at rest."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client

from fangkong.audit.models import AuditEvent
from fangkong.people.crypto import decrypt
from fangkong.volunteers.models import Volunteer
from tests.volunteers.factories import make_volunteer, volunteer_phone

pytestmark = pytest.mark.django_db
URL = "/portal/volunteer/"
# Rate-limit windows are aligned to the clock: pin it mid-window so no test straddles a boundary.
NOON = datetime(2022, 5, 3, 10, 20, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("fangkong.common.ratelimit.timezone", SimpleNamespace(now=lambda: NOON))


def form(tree, **overrides):
    data = {
        "name": "陈志明",
        "phone": volunteer_phone(),
        "org_unit": str(tree.community.pk),
        "skills": ["delivery", "callbacks"],
        "availability": "evenings",
        "availability_note": "工作日晚上7点后",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_lists_streets_and_communities_down_the_tree(client: Client, tree):
    page = client.get(URL).content.decode()
    assert tree.street.name in page and tree.community.name in page
    assert tree.grid_a.name not in page  # grids are too fine for a resident to choose
    narrowed = client.get(URL, {"district": tree.other_district.pk}).content.decode()
    assert tree.grid_far.parent.name in narrowed and tree.community.name not in narrowed


def test_a_good_sign_up_is_stored_and_answered(client: Client, tree):
    response = client.post(URL, form(tree, phone="+86 139-0013-8000"), REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302 and response["Location"] == "/portal/volunteer/thanks/"
    volunteer = Volunteer.objects.get()
    assert volunteer.status == "applied" and volunteer.org_unit == tree.community
    assert volunteer.skill_list == ["callbacks", "delivery"]
    assert volunteer.phone_masked == "139****8000"
    assert decrypt(volunteer.phone_cipher) == "13900138000"
    assert AuditEvent.objects.filter(
        action="volunteers.volunteer.apply", target_id=str(volunteer.pk)
    ).exists()
    assert 'data-testid="signup-done"' in client.get(response["Location"]).content.decode()


def test_the_raw_row_holds_no_plaintext_phone(client: Client, tree):
    client.post(URL, form(tree, phone="13912345678"), REMOTE_ADDR="10.0.0.2")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM volunteers_volunteer")
        row = cursor.fetchone()
    raw = " ".join(str(bytes(v)) if isinstance(v, memoryview | bytes) else str(v) for v in row)
    assert "13912345678" not in raw and "12345678" not in raw
    events = " ".join(str(e.after) + e.target_label for e in AuditEvent.objects.all())
    assert "13912345678" not in events


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("phone", "12345"),
        ("phone", ""),
        ("org_unit", ""),
        ("org_unit", "999999"),
        ("skills", []),
        ("skills", ["flying"]),
        ("availability", "never"),
        ("availability_note", "很" * 201),
        ("consent", None),
    ],
)
def test_each_bad_field_is_named_with_a_422(client: Client, tree, field, value):
    response = client.post(URL, form(tree, **{field: value}), REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.content.decode()
    assert not Volunteer.objects.exists()


def test_a_grid_or_a_district_is_not_an_area_to_choose_wrongly(client: Client, tree):
    assert (
        client.post(URL, form(tree, org_unit=str(tree.grid_a.pk)), REMOTE_ADDR="10.0.1.2").status_code == 302
    )
    bad = client.post(URL, form(tree, org_unit=str(tree.district.pk)), REMOTE_ADDR="10.0.1.2")
    assert bad.status_code == 422 and 'data-field="org_unit"' in bad.content.decode()


def test_the_form_keeps_what_was_typed_after_an_error(client: Client, tree):
    page = client.post(URL, form(tree, phone="123"), REMOTE_ADDR="10.0.1.3").content.decode()
    assert 'value="陈志明"' in page and 'value="delivery" checked' in page


def test_the_form_is_csrf_protected(tree):
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, form(tree)).status_code == 403
    assert not Volunteer.objects.exists()


def test_more_than_ten_sign_ups_an_hour_from_one_address_get_429(client: Client, tree):
    for _ in range(10):
        assert client.post(URL, form(tree), REMOTE_ADDR="10.9.9.9").status_code == 302
    response = client.post(URL, form(tree), REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert Volunteer.objects.count() == 10
    assert client.post(URL, form(tree), REMOTE_ADDR="10.9.9.8").status_code == 302  # others unaffected


def test_more_than_three_tries_a_day_for_one_phone_get_429(client: Client, tree):
    phone = volunteer_phone()
    codes = [
        client.post(URL, form(tree, phone=phone, name=""), REMOTE_ADDR=f"10.2.0.{i}").status_code
        for i in range(3)
    ]
    assert codes == [422, 422, 422]
    response = client.post(URL, form(tree, phone=phone), REMOTE_ADDR="10.2.0.9")
    assert response.status_code == 429
    assert 'data-field="__all__"' in response.content.decode()
    assert not Volunteer.objects.exists()


def test_a_phone_already_registered_is_answered_like_a_new_sign_up(client: Client, tree, coordinator):
    applied = make_volunteer(area=tree.community)
    approved = make_volunteer(area=tree.street, approved_by=coordinator, name="赵大勇")
    fresh = client.post(URL, form(tree, phone="13900001111", name="新志愿者"), REMOTE_ADDR="10.3.0.2")
    for volunteer in (applied, approved):
        response = client.post(
            URL, form(tree, phone=decrypt(volunteer.phone_cipher), name="冒名者"), REMOTE_ADDR="10.3.0.1"
        )
        # the same answer as for a number never seen: the form is no way to learn who volunteers
        assert (response.status_code, response["Location"]) == (fresh.status_code, fresh["Location"])
    assert set(Volunteer.objects.values_list("name", flat=True)) == {"李小红", "赵大勇", "新志愿者"}
    assert Volunteer.objects.get(pk=approved.pk).status == "approved"  # left as it was
    assert AuditEvent.objects.filter(action="volunteers.volunteer.apply_again").count() == 2


def test_a_rejected_applicant_may_apply_again(client: Client, tree, coordinator):
    from fangkong.volunteers.services import volunteer_decide

    volunteer = make_volunteer(area=tree.community)
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="reject")
    response = client.post(URL, form(tree, phone=decrypt(volunteer.phone_cipher)), REMOTE_ADDR="10.4.0.1")
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.status == "applied" and volunteer.name == "陈志明" and volunteer.decided_by is None
