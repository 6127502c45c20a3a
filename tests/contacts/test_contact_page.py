"""The contacts of a case page: tabs with counts, pages of 100, and after a bulk decision the
same tab and page, now showing the next proposals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.contacts.models import Contact
from fangkong.contacts.services import contact_propose
from tests.cases.factories import make_case
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowded(tree, epidemiologist):
    """A confirmed case with 130 proposed close contacts (as a discovery run leaves them)."""
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=20)
    last = timezone.now() - timedelta(hours=30)
    for n in range(130):
        contact_propose(
            case=case,
            person=make_person(actor=epidemiologist, grid=tree.grid_a, name=f"张{n:03d}"),
            kind="close",
            exposure_type="colocation",
            first_exposure=last - timedelta(minutes=n + 30),
            last_exposure=last - timedelta(minutes=n),
            discovered_by="colocation",
        )
    return case


def test_proposals_come_in_pages_with_counts_per_tab(client: Client, crowded, epidemiologist):
    client.force_login(epidemiologist)
    page = client.get(f"/contacts/case/{crowded.pk}/").content.decode()  # proposals first while any wait
    assert page.count('data-testid="contact-row"') == 100
    assert 'data-testid="tab-proposed"' in page and ">130</span>" in page
    assert re.search(r'data-confirm="[^"]*130', page)  # "all identified" asks, with the proposals left
    assert "tab=proposed&amp;page=2" in page
    second = client.get(f"/contacts/case/{crowded.pk}/", {"tab": "proposed", "page": 2}).content.decode()
    assert second.count('data-testid="contact-row"') == 30
    empty = client.get(f"/contacts/case/{crowded.pk}/", {"tab": "dismissed"}).content.decode()
    assert 'data-testid="empty"' in empty and 'data-testid="contact-row"' not in empty
    assert 'data-tab="dismissed"' in empty
    ignored = client.get(f"/contacts/case/{crowded.pk}/", {"tab": "nonsense"}).content.decode()
    assert ignored.count('data-testid="contact-row"') == 100  # an unknown tab shows the default


def test_a_bulk_decision_leads_to_the_next_proposals(client: Client, crowded, epidemiologist):
    client.force_login(epidemiologist)
    first = list(
        Contact.objects.filter(source_case=crowded).order_by("pk").values_list("pk", flat=True)[:100]
    )
    here = f"/contacts/case/{crowded.pk}/?tab=proposed"
    response = client.post(
        f"/contacts/case/{crowded.pk}/proposals/",
        {"contact": first, "decision": "dismiss", "reason": "同一小区不同楼栋", "next": here},
    )
    assert response.status_code == 302 and response["Location"] == here + "#review"
    page = client.get(here).content.decode()
    assert page.count('data-testid="contact-row"') == 30 and "已排除 100 条" in page
    rest = list(Contact.objects.filter(source_case=crowded, status="proposed").values_list("pk", flat=True))
    response = client.post(
        f"/contacts/case/{crowded.pk}/proposals/",
        {"contact": rest, "decision": "dismiss", "reason": "误报", "next": here},
    )
    page = client.get(response["Location"]).content.decode()  # still the proposals tab, now empty
    assert 'data-testid="empty"' in page and 'aria-current="page" data-testid="tab-proposed"' in page
