"""The companions' tests desk (三天两检) and its API: the tests owed in the actor's reach, results
recorded in bulk (ending the missed-test item), refusals named, bad input refused by field; and a
decision on all matching proposals through the API, polled for its progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.contacts.companions import KIND, companion_tests_missed
from fangkong.contacts.models import CompanionTest
from fangkong.notify.backends import locmem
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case
from tests.contacts.test_companions import companion_of, crowd, discover, morning
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_locmem(settings):
    settings.FANGKONG_SMS_BACKEND = "fangkong.notify.backends.locmem.LocmemBackend"
    locmem.outbox.clear()


@pytest.fixture
def case(tree, epidemiologist):
    return make_case(
        actor=epidemiologist, grid=tree.grid_b, classification="confirmed", onset_date=timezone.localdate()
    )


def test_the_desk_lists_the_tests_owed_and_records_them_in_bulk(
    case, epidemiologist, grid_worker, tree, tmp_path
):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    assert companion_tests_missed(now=morning(2)) == 1
    client = Client()
    client.force_login(grid_worker)
    page = client.get(
        "/contacts/companions/tests/", {"on": (timezone.localdate() + timedelta(days=3)).isoformat()}
    )
    assert page.status_code == 200
    assert page.content.count(b'data-testid="companion-row"') == 2
    assert "王*明".encode() in page.content and "王小明".encode() not in page.content
    # without a day, the tests owed in the next three days (三天两检)
    due_today = CompanionTest.objects.filter(
        contact=companion, due_on__lte=timezone.localdate() + timedelta(days=3)
    ).count()
    assert due_today >= 1
    assert (
        client.get("/contacts/companions/tests/").content.count(b'data-testid="companion-row"') == due_today
    )

    sent = client.post(
        "/contacts/companions/tests/results/",
        {
            "tests": [f"{companion.pk}:1", f"{companion.pk}:9", "x:1"],
            "result": "negative",
            "back": "on=2030-01-01",
        },
    )
    assert sent.status_code == 302 and sent["Location"].endswith("?on=2030-01-01")
    assert CompanionTest.objects.get(contact=companion, number=1).result == "negative"
    assert WorkItem.objects.get(kind=KIND).status == "done"
    shown = [str(m) for m in client.get(sent["Location"]).context["messages"]]
    assert any("1" in m for m in shown) and any("王*明" in m for m in shown)  # test 9 refused, named

    for bad in (
        {"tests": [f"{companion.pk}:2"], "result": "maybe"},
        {"tests": [], "result": "negative"},
        {"tests": [f"{companion.pk}:2"], "result": "negative", "tested_at": "2999-01-01 10:00"},
        {"tests": [f"{companion.pk}:2"], "result": "negative", "tested_at": "0001-01-01 00:00"},
    ):
        refused = client.post("/contacts/companions/tests/results/", bad, follow=True)
        assert refused.status_code == 200 and list(refused.context["messages"])
    assert CompanionTest.objects.get(contact=companion, number=2).tested_at is None
    for odd in ("0001-01-01", "9999-12-31", "２０２６-01-01", "x\x00"):
        assert client.get("/contacts/companions/tests/", {"on": odd, "q": odd}).status_code == 200


def test_a_companion_outside_the_actors_grid_is_not_listed_nor_recorded(case, epidemiologist, tree, tmp_path):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    stranger = user_with_role("grid_worker", tree.grid_far, username="far.grid")
    client = Client()
    client.force_login(stranger)
    far = (timezone.localdate() + timedelta(days=5)).isoformat()
    assert (
        b'data-testid="companion-row"' not in client.get("/contacts/companions/tests/", {"on": far}).content
    )
    client.post("/contacts/companions/tests/results/", {"tests": [f"{companion.pk}:1"], "result": "positive"})
    assert CompanionTest.objects.get(contact=companion, number=1).tested_at is None


def test_the_api_records_companion_tests_and_names_each_refusal_by_index(
    case, epidemiologist, grid_worker, tree, tmp_path
):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    client = Client()
    client.force_login(grid_worker)
    now = timezone.now().isoformat()
    body = {
        "tests": [
            {"contact_id": companion.pk, "number": 1, "tested_at": now, "result": "negative"},
            {"contact_id": companion.pk, "number": 3, "tested_at": now, "result": "negative"},
        ]
    }
    answer = client.post("/api/contacts/companion-tests", body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["recorded"] == 1 and [r["index"] for r in answer.json()["refused"]] == [1]
    for bad in (
        {"tests": []},
        {"tests": [{"contact_id": 2**70, "number": 1, "tested_at": now, "result": "negative"}]},
        {"tests": [{"contact_id": companion.pk, "number": 2, "tested_at": now, "result": "maybe"}]},
        {
            "tests": [
                {
                    "contact_id": companion.pk,
                    "number": 2,
                    "tested_at": "0001-01-01T00:00:00+08:00",
                    "result": "negative",
                }
            ]
        },
    ):
        refused = client.post("/api/contacts/companion-tests", bad, content_type="application/json")
        assert refused.status_code in {400, 422}, (bad, refused.content)


def test_the_api_decides_all_matching_proposals_as_a_task(case, epidemiologist, tree, tmp_path):
    discover(case, epidemiologist, crowd(epidemiologist, tree.grid_a, 3, kind="venue"), tmp_path)
    client = Client()
    client.force_login(epidemiologist)
    started = client.post(
        f"/api/contacts/cases/{case.pk}/proposals/matching",
        {"decision": "confirm", "min_score": 0},
        content_type="application/json",
    )
    assert started.status_code == 202, started.content
    job = started.json()
    assert (job["status"], job["total"], job["percent"]) == ("queued", 3, 0)
    assert client.get(f"/api/contacts/proposal-decisions/{job['id']}").json()["status"] == "queued"
    for bad in ({"decision": "maybe"}, {"decision": "confirm", "min_score": 10**30}, {"decision": "dismiss"}):
        answer = client.post(
            f"/api/contacts/cases/{case.pk}/proposals/matching", bad, content_type="application/json"
        )
        assert answer.status_code in {409, 422}, (bad, answer.content)
    far = user_with_role("epidemiologist", tree.other_district, username="far.api")
    client.force_login(far)
    assert client.get(f"/api/contacts/proposal-decisions/{job['id']}").status_code == 404
