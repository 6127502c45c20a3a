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
    demo_load(residents=500)
    summary = helpdesk_demo_load()
    assert summary.requests == HelpRequest.objects.count() == 38
    assert HelpRequest.objects.filter(status="resolved").count() == summary.resolved == 24
    assert HelpRequest.objects.filter(status="claimed", called_back_at__isnull=False).count() == 6
    fresh = HelpRequest.objects.filter(status="open", due_at__gt=timezone.now())
    assert fresh.count() == 5
    forgotten = HelpRequest.objects.filter(status="open", escalated_to__isnull=False)
    assert forgotten.count() == 3 and summary.escalated >= 3
    assert WorkItem.objects.filter(kind="helpdesk.escalated").count() == summary.escalated
    assert all(r.org_unit.path.startswith("440300/440303/") for r in HelpRequest.objects.all())
    assert helpdesk_demo_load().requests == 0
