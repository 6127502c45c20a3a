"""The portal demo: a published bulletin, risk areas with one downgrade proposed, content."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.demo.load import demo_load
from fangkong.demo.outbreak import outbreak_load
from fangkong.demo.portal_demo import portal_demo_load
from fangkong.portal.models import Article, Bulletin, Rebuttal, RiskArea, RiskAreaChange

pytestmark = pytest.mark.django_db


def test_portal_demo_publishes_and_proposes_a_downgrade(client):
    demo_load(residents=3000)
    outbreak_load(max_cases=40)
    today = timezone.localdate()
    made = portal_demo_load(today=today)
    assert Bulletin.objects.filter(status="published").count() == 1
    assert made["proposals"] >= 1
    assert RiskAreaChange.objects.filter(kind="proposed", decided_at__isnull=True, from_level="high").exists()
    assert (
        RiskArea.objects.filter(active=True, level="high").count() >= 1
    )  # + recent ones when the outbreak reaches today
    assert Rebuttal.objects.filter(status="published").count() == 4
    assert Article.objects.filter(status="published").count() == 3
    home = client.get(reverse("portal:home")).content.decode()
    assert "喝高度白酒" in home
    geo = client.get(reverse("portal:risk-geojson")).json()
    assert any(f["properties"]["level"] == "high" for f in geo["features"])
