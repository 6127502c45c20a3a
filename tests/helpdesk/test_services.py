"""Help requests: routing, the SLA clock, claims, calls, resolution, escalation (frozen clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.helpdesk.escalation import help_requests_escalate
from fangkong.helpdesk.models import HelpRequest, Status
from fangkong.helpdesk.services import (
    TICKET_ALPHABET,
    RequestData,
    call_log,
    help_request_claim,
    help_request_rate,
    help_request_release,
    help_request_resolve,
    help_request_submit,
    normalise_ticket,
)
from fangkong.worklist.models import WorkItem
from tests.helpdesk.factories import make_request
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db
T0 = datetime(2022, 4, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def operator(tree):
    return user_with_role("hotline", tree.community, username="op1")


@pytest.fixture
def operator_2(tree):
    return user_with_role("hotline", tree.community, username="op2")


def test_a_request_is_routed_to_the_community_chosen_and_seen_only_there(tree, operator):
    from fangkong.helpdesk.selectors import QueueFilter, help_request_queue

    here = make_request(community=tree.community)
    far_community = tree.grid_far.parent
    elsewhere = make_request(community=far_community)
    assert here.org_unit == tree.community and elsewhere.org_unit == far_community
    seen = list(help_request_queue(actor=operator, filters=QueueFilter()))
    assert seen == [here]
    far_operator = user_with_role("hotline", tree.other_district)
    assert list(help_request_queue(actor=far_operator, filters=QueueFilter())) == [elsewhere]


def test_a_grid_must_lie_in_the_community_and_a_street_is_not_a_community(tree):
    with pytest.raises(Invalid) as error:
        make_request(community=tree.community, grid_id=tree.grid_far.pk)
    assert "grid" in error.value.errors
    with pytest.raises(Invalid) as error:
        make_request(community=tree.street)
    assert "community" in error.value.errors


def test_every_bad_field_is_named():
    data = RequestData(name="", phone="12345", community_id=None, category="x", urgency="y", description="a")
    with pytest.raises(Invalid) as error:
        help_request_submit(data=data)
    assert set(error.value.errors) == {"name", "phone", "community", "category", "urgency", "description"}
    assert HelpRequest.objects.count() == 0


@pytest.mark.parametrize(("urgency", "minutes"), [("urgent", 30), ("normal", 120)])
def test_the_deadline_comes_from_the_protocol(tree, urgency, minutes):
    request = make_request(community=tree.community, urgency=urgency, now=T0)
    assert request.due_at == T0 + timedelta(minutes=minutes)


@override_settings(FANGKONG_PROTOCOL="who-2021")
def test_another_profile_gives_its_own_deadline(tree):
    from fangkong.common.protocol import active_profile

    rule = active_profile().helpdesk
    request = make_request(community=tree.community, urgency="urgent", now=T0)
    assert request.due_at == T0 + timedelta(minutes=rule.sla_urgent_minutes)


def test_the_ticket_is_short_unguessable_and_forgiving_to_type(tree):
    codes = {make_request(community=tree.community).ticket for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) == 8 and set(code) <= set(TICKET_ALPHABET)
    code = codes.pop()
    assert normalise_ticket(f" {code[:4].lower()}-{code[4:]} ") == code


def test_the_phone_is_stored_encrypted_and_masked(tree):
    request = make_request(community=tree.community, phone="13912345678", address="3栋502")
    raw = HelpRequest.objects.filter(pk=request.pk).values_list("phone_cipher", "address_cipher").get()
    assert b"13912345678" not in bytes(raw[0]) and b"502" not in bytes(raw[1])
    assert request.phone_masked == "139****5678"


def test_the_same_phone_and_need_within_minutes_gives_the_first_request_back(tree):
    first = make_request(community=tree.community, phone="13912345678", now=T0)
    again = help_request_submit(
        data=RequestData(
            name="王小明",
            phone="13912345678",
            community_id=tree.community.pk,
            category="medicine",
            urgency="urgent",
            description="药还没到",
        ),
        now=T0 + timedelta(minutes=9),
    )
    assert again.duplicate and again.request == first
    other_need = make_request(community=tree.community, phone="13912345678", category="food", now=T0)
    later = make_request(community=tree.community, phone="13912345678", now=T0 + timedelta(minutes=11))
    assert len({first.pk, other_need.pk, later.pk}) == 3


def test_one_claim_wins_and_the_other_is_told_who_has_it(tree, operator, operator_2):
    request = make_request(community=tree.community)
    help_request_claim(actor=operator, request=request)
    stale = HelpRequest.objects.get(pk=request.pk)
    stale.status, stale.claimed_by = Status.OPEN, None  # as another operator's page still shows it
    with pytest.raises(Conflict, match="op1"):
        help_request_claim(actor=operator_2, request=stale)
    assert HelpRequest.objects.get(pk=request.pk).claimed_by == operator


def test_a_grid_worker_or_commander_cannot_handle_requests(tree, grid_worker, commander):
    request = make_request(community=tree.community)
    with pytest.raises(Forbidden):
        help_request_claim(actor=commander, request=request)


def test_call_back_resolve_and_rating(tree, operator, operator_2):
    request = make_request(community=tree.community, now=T0)
    with pytest.raises(Conflict, match=r"call|回电"):
        help_request_resolve(actor=operator, request=request, resolution="已送药上门")
    call_log(actor=operator, request=request, outcome="no_answer")  # claims it for the caller
    # an unanswered attempt claims the request but does not stop the deadline's clock
    assert request.claimed_by == operator and request.called_back_at is None
    reached = call_log(actor=operator, request=request, outcome="reached", note="约好下午送药")
    request.refresh_from_db()
    assert request.called_back_at == reached.called_at and request.calls.count() == 2
    call_log(actor=operator, request=request, outcome="no_answer")
    request.refresh_from_db()
    assert request.called_back_at == reached.called_at
    with pytest.raises(Conflict, match="op1"):
        call_log(actor=operator_2, request=request, outcome="reached")
    with pytest.raises(Invalid):
        help_request_resolve(actor=operator, request=request, resolution=" ")
    with pytest.raises(Conflict):
        help_request_rate(request=request, rating=5)
    help_request_resolve(actor=operator, request=request, resolution="社区志愿者已送药上门")
    assert request.status == Status.RESOLVED
    with pytest.raises(Conflict):
        call_log(actor=operator, request=request, outcome="reached")
    with pytest.raises(Invalid):
        help_request_rate(request=request, rating=6)
    help_request_rate(request=request, rating=5, comment="很及时")
    with pytest.raises(Conflict):
        help_request_rate(request=request, rating=4)
    actions = set(AuditEvent.objects.filter(target_id=str(request.pk)).values_list("action", flat=True))
    assert {
        "helpdesk.submit",
        "helpdesk.claim",
        "helpdesk.call",
        "helpdesk.resolve",
        "helpdesk.rate",
    } <= actions


def test_release_is_for_the_claimant_only(tree, operator, operator_2):
    request = make_request(community=tree.community)
    help_request_claim(actor=operator, request=request)
    with pytest.raises(Conflict):
        help_request_release(actor=operator_2, request=request)
    help_request_release(actor=operator, request=request)
    assert request.status == Status.OPEN and request.claimed_by is None


def test_sla_within_and_late(tree, operator):
    on_time = make_request(community=tree.community, now=T0)
    late = make_request(community=tree.community, now=T0)
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        call_log(actor=operator, request=on_time, outcome="reached")
        assert on_time.within_sla is True
        assert late.within_sla is None
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        assert late.within_sla is False and late.overdue
        call_log(actor=operator, request=late, outcome="reached")
        assert late.within_sla is False


def test_escalation_one_level_per_missed_period_with_a_frozen_clock(tree, operator):
    request = make_request(community=tree.community, urgency="urgent", now=T0)  # due 09:30
    called = make_request(community=tree.community, urgency="urgent", now=T0)
    call_log(actor=operator, request=called, outcome="reached")
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        assert help_requests_escalate() == 0  # at the deadline, not past it
    with time_machine.travel(T0 + timedelta(minutes=30, seconds=1), tick=False):
        assert help_requests_escalate() == 1
        assert help_requests_escalate() == 0  # idempotent
    request.refresh_from_db()
    assert request.escalated_to == tree.street
    item = WorkItem.objects.get(kind="helpdesk.escalated", subject_id=str(request.pk))
    assert item.org_unit == tree.street and item.priority == "urgent"
    with time_machine.travel(T0 + timedelta(minutes=61), tick=False):
        help_requests_escalate()
    request.refresh_from_db()
    assert request.escalated_to == tree.district
    with time_machine.travel(T0 + timedelta(hours=9), tick=False):
        help_requests_escalate()
    request.refresh_from_db()
    assert request.escalated_to == tree.city  # never above the root
    assert WorkItem.objects.filter(kind="helpdesk.escalated", subject_id=str(request.pk)).count() == 3
    called.refresh_from_db()
    assert called.escalated_to is None
    call_log(actor=operator, request=request, outcome="reached")
    assert not WorkItem.objects.filter(
        kind="helpdesk.escalated", subject_id=str(request.pk), status__in=["open", "in_progress"]
    ).exists()


def test_a_call_logged_afterwards_keeps_its_time_within_bounds(tree, operator):
    request = make_request(community=tree.community, now=T0)
    with time_machine.travel(T0 + timedelta(minutes=40), tick=False):
        with pytest.raises(Invalid):
            call_log(actor=operator, request=request, outcome="reached", called_at=T0 - timedelta(minutes=1))
        with pytest.raises(Invalid):
            call_log(actor=operator, request=request, outcome="reached", called_at=T0 + timedelta(hours=1))
        call_log(actor=operator, request=request, outcome="reached", called_at=T0 + timedelta(minutes=20))
    assert request.called_back_at == T0 + timedelta(minutes=20) and request.within_sla


def test_a_note_with_a_number_reaches_the_audit_trail_masked(tree, operator):
    request = make_request(community=tree.community)
    call_log(actor=operator, request=request, outcome="reached", note="居民换号 13712345678")
    event = AuditEvent.objects.get(action="helpdesk.call", target_id=str(request.pk))
    assert event.after["note"] == "居民换号 137****5678"
