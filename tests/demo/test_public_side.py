"""The demo's public side: help requests written through the services, once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fangkong.demo.helpdesk_demo import helpdesk_demo_load
from fangkong.demo.load import demo_load
from fangkong.helpdesk.models import HelpRequest
from fangkong.worklist.models import WorkItem

pytestmark = pytest.mark.django_db


def test_the_help_desk_demo_has_every_state_and_loads_once():
    """The demo hotline's district has every state; 西乡区 a smaller desk, none escalated."""
    demo_load(residents=500)
    summary = helpdesk_demo_load()
    assert summary.requests == HelpRequest.objects.count() == 38 + 14
    first = HelpRequest.objects.filter(org_unit__path__startswith="440300/440303/")
    assert first.count() == 38
    assert first.filter(status="resolved").count() == 24
    assert HelpRequest.objects.filter(status="resolved").count() == summary.resolved == 24 + 9
    assert first.filter(status="claimed", called_back_at__isnull=False).count() == 6
    fresh = first.filter(status="open", due_at__gt=timezone.now())
    assert fresh.count() == 5
    forgotten = HelpRequest.objects.filter(status="open", escalated_to__isnull=False)
    assert forgotten.count() == 3 and summary.escalated >= 3
    assert all(r.org_unit.path.startswith("440300/440303/") for r in forgotten)
    assert WorkItem.objects.filter(kind="helpdesk.escalated").count() == summary.escalated
    west = HelpRequest.objects.filter(org_unit__path__startswith="440300/440306/")
    assert west.count() == 14 and west.filter(status="open", due_at__gt=timezone.now()).count() == 2
    assert first.count() + west.count() == summary.requests
    assert helpdesk_demo_load().requests == 0
