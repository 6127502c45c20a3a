"""Staff pages: the queue (order, countdown), a request (claim, call, resolve, reveal), SLA page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.helpdesk.models import HelpRequest
from tests.helpdesk.factories import make_request
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(tree):
    return user_with_role("hotline", tree.community, username="op")


def test_the_queue_puts_the_nearest_deadline_first_and_shows_the_countdown(tree, operator, client: Client):
    now = timezone.now()
    normal = make_request(community=tree.community, urgency="normal", now=now - timedelta(minutes=5))
    urgent = make_request(community=tree.community, urgency="urgent", now=now)
    client.force_login(operator)
    html = client.get(reverse("helpdesk:queue")).content.decode()
    assert html.index(urgent.ticket) < html.index(normal.ticket)
    assert "min left" in html or "分钟" in html
    assert 'data-due="' in html


def test_claim_call_and_resolve_through_the_pages(tree, operator, client: Client):
    request = make_request(community=tree.community)
    client.force_login(operator)
    url = reverse("helpdesk:detail", args=[request.pk])
    client.post(reverse("helpdesk:action", args=[request.pk, "claim"]))
    client.post(
        reverse("helpdesk:action", args=[request.pk, "call"]), {"outcome": "reached", "note": "已联系"}
    )
    client.post(reverse("helpdesk:action", args=[request.pk, "resolve"]), {"resolution": "药已送到"})
    request.refresh_from_db()
    assert request.status == "resolved" and request.calls.count() == 1
    assert "药已送到" in client.get(url).content.decode()


def test_a_refused_action_says_why_and_changes_nothing(tree, operator, client: Client):
    request = make_request(community=tree.community)
    client.force_login(operator)
    response = client.post(
        reverse("helpdesk:action", args=[request.pk, "resolve"]), {"resolution": "done"}, follow=True
    )
    assert "call" in response.content.decode().lower() or "回访" in response.content.decode()
    assert HelpRequest.objects.get(pk=request.pk).status == "open"


def test_revealing_the_phone_is_audited(tree, operator, client: Client):
    request = make_request(community=tree.community, phone="13612345678", address="3栋502")
    client.force_login(operator)
    html = client.get(reverse("helpdesk:detail", args=[request.pk])).content.decode()
    assert "13612345678" not in html and "136****5678" in html
    part = client.post(reverse("helpdesk:reveal", args=[request.pk])).content.decode()
    assert "13612345678" in part and "3栋502" in part
    assert AuditEvent.objects.filter(action="helpdesk.reveal", target_id=str(request.pk)).count() == 1


def test_a_commander_sees_but_cannot_handle(tree, commander, client: Client):
    request = make_request(community=tree.community)
    client.force_login(commander)
    assert client.get(reverse("helpdesk:detail", args=[request.pk])).status_code == 200
    assert client.post(reverse("helpdesk:reveal", args=[request.pk])).status_code == 403
    assert client.post(reverse("helpdesk:action", args=[request.pk, "claim"])).status_code == 403


def test_the_sla_page_counts_by_district(tree, operator, commander, client: Client):
    from fangkong.helpdesk.services import call_log

    now = timezone.now()
    late = make_request(community=tree.community, urgency="urgent", now=now - timedelta(hours=1))
    on_time = make_request(community=tree.community, urgency="normal", now=now)
    call_log(actor=operator, request=on_time, outcome="reached")
    assert late.overdue
    client.force_login(commander)
    html = client.get(reverse("helpdesk:sla")).content.decode()
    row = html[html.index(tree.district.name) :].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in row.split("</td>")[1:4]]
    assert cells[0] == "2" and cells[1] == "1"  # requests, called back
    assert "50 %" in row  # one in time, one late


def test_an_operator_of_a_community_sees_the_sla_of_their_district(tree, operator, client: Client):
    make_request(community=tree.community)
    client.force_login(operator)  # held at the community, below the district
    html = client.get(reverse("helpdesk:sla")).content.decode()
    assert tree.district.name in html and tree.other_district.name not in html
