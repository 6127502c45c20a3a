"""The API of mass testing: an offline phone's tubes uploaded at once, results from a lab's
system, and coverage — each refusal by index, bad input answered 422, other districts 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.testing.codes import person_code
from fangkong.testing.models import Recall, Tube
from tests.orgs.factories import user_with_role
from tests.testing.conftest import barcode

pytestmark = pytest.mark.django_db


def test_a_phone_uploads_its_tubes_and_the_lab_its_results(mass, tree):
    phone = Client()
    phone.force_login(mass.collector)
    closed = (timezone.now() - timedelta(minutes=10)).isoformat()
    codes = [person_code(p) for p in mass.people]
    body = {
        "round_id": mass.round.pk,
        "site_id": mass.site.pk,
        "tubes": [
            {"barcode": barcode(1), "codes": codes[:5], "closed_at": closed},
            {"barcode": barcode(2), "codes": codes[4:6], "closed_at": closed},  # person 4 twice in the round
            {"barcode": barcode(3), "codes": ["FKforged:1:2"], "closed_at": closed},
        ],
    }
    answer = phone.post("/api/testing/tubes/batch", body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["tubes"], [r["index"] for r in answer.json()["refused"]]) == (1, [1, 2])
    lab = Client()
    lab.force_login(mass.lab)
    results = {
        "results": [
            {
                "barcode": barcode(1),
                "result": "positive",
                "tested_at": closed,
                "lab": "鹏城检测",
                "ct_orf": 31.0,
            },
            {"barcode": "NOPE00000000", "result": "negative", "tested_at": closed, "lab": "鹏城检测"},
        ]
    }
    answer = lab.post("/api/testing/results", results, content_type="application/json")
    body = answer.json()
    assert (body["recorded"], body["recalls"], body["positive_tubes"]) == (1, 5, [barcode(1)])
    assert [r["index"] for r in body["refused"]] == [1]
    assert Recall.objects.filter(pool=Tube.objects.get(barcode=barcode(1))).count() == 5
    coverage = phone.get(f"/api/testing/rounds/{mass.round.pk}/coverage").json()
    assert sum(g["sampled"] for g in coverage) == 5 and sum(g["positive"] for g in coverage) == 5
    for bad in (
        {"results": []},
        {"results": [{"barcode": "x", "result": "negative", "tested_at": closed, "lab": "x", "ct_n": 1e308}]},
    ):
        assert lab.post("/api/testing/results", bad, content_type="application/json").status_code == 422
    far = Client()
    far.force_login(user_with_role("sampler", tree.grid_far.parent, username="far.api.sampler"))
    assert far.post(
        "/api/testing/tubes/batch",
        {
            **body,
            "round_id": mass.round.pk,
            "site_id": mass.site.pk,
            "tubes": [{"barcode": barcode(9), "codes": codes[7:8], "closed_at": closed}],
        },
        content_type="application/json",
    ).status_code in {403, 404}
