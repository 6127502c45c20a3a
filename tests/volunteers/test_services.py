"""Approval, dispatch, hours and commendations, through the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.volunteers import selectors
from fangkong.volunteers.models import Commendation
from fangkong.volunteers.services import (
    commendation_create,
    commendation_publish,
    dispatch_cancel,
    dispatch_complete,
    dispatch_create,
    volunteer_decide,
)
from fangkong.worklist.services import work_item_complete
from tests.volunteers.conftest import open_item
from tests.volunteers.factories import make_volunteer

pytestmark = pytest.mark.django_db


def test_a_coordinator_approves_an_application(tree, coordinator):
    volunteer = make_volunteer(area=tree.community)
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="approve", note="电话核实")
    volunteer.refresh_from_db()
    assert volunteer.status == "approved" and volunteer.decided_by == coordinator
    assert volunteer.decided_at is not None and "电话核实" in volunteer.note
    event = AuditEvent.objects.get(action="volunteers.volunteer.approve")
    assert event.before == {"status": "applied"} and event.actor == coordinator


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "suspend"),
        ([], "reinstate"),
        (["approve"], "approve"),
        (["approve"], "reject"),
        (["reject"], "approve"),
        (["approve", "suspend"], "suspend"),
    ],
)
def test_illegal_moves_are_refused_naming_both_states(tree, coordinator, path, illegal):
    volunteer = make_volunteer(area=tree.community)
    for decision in path:
        volunteer_decide(actor=coordinator, volunteer=volunteer, decision=decision)
    before = volunteer.status
    with pytest.raises(Conflict) as caught:
        volunteer_decide(actor=coordinator, volunteer=volunteer, decision=illegal)
    assert volunteer.get_status_display() in caught.value.message
    volunteer.refresh_from_db()
    assert volunteer.status == before


def test_suspend_and_reinstate(tree, coordinator):
    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="suspend")
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="reinstate")
    volunteer.refresh_from_db()
    assert volunteer.status == "approved"


def test_a_commander_may_look_but_not_decide(tree, commander):
    volunteer = make_volunteer(area=tree.community)
    assert selectors.volunteer_get(actor=commander, volunteer_id=volunteer.pk) == volunteer
    with pytest.raises(Forbidden):
        volunteer_decide(actor=commander, volunteer=volunteer, decision="approve")


def test_only_approved_volunteers_are_dispatched(tree, coordinator):
    item = open_item(tree.grid_a)
    volunteer = make_volunteer(area=tree.community)
    with pytest.raises(Conflict, match=r"approved|审核通过"):
        dispatch_create(actor=coordinator, volunteer=volunteer, work_item=item)
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="approve")
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="suspend")
    with pytest.raises(Conflict):
        dispatch_create(actor=coordinator, volunteer=volunteer, work_item=item)
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="reinstate")
    dispatch = dispatch_create(actor=coordinator, volunteer=volunteer, work_item=item)
    assert dispatch.status == "dispatched" and dispatch.dispatched_by == coordinator
    assert AuditEvent.objects.filter(action="volunteers.dispatch.create", target_id=str(dispatch.pk)).exists()


def test_dispatch_only_to_open_items_in_the_volunteers_area(tree, coordinator):
    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    street_item = open_item(tree.street)  # above the volunteer's community: not in their area
    far_item = open_item(tree.grid_far)
    done_item = open_item(tree.grid_b)
    work_item_complete(actor=coordinator, item=done_item)
    for item in (street_item, far_item, done_item):
        with pytest.raises(Invalid) as caught:
            dispatch_create(actor=coordinator, volunteer=volunteer, work_item=item)
        assert "work_item" in caught.value.errors
    assert not selectors.dispatchable_items(actor=coordinator, volunteer=volunteer).exists()
    good = open_item(tree.grid_b, kind="quarantine.sample", title="协助核酸采样点")
    assert selectors.dispatchable_items(actor=coordinator, volunteer=volunteer).get() == good
    dispatch_create(actor=coordinator, volunteer=volunteer, work_item=good)
    with pytest.raises(Conflict, match=r"already|已派往"):
        dispatch_create(actor=coordinator, volunteer=volunteer, work_item=good)


@pytest.mark.parametrize("hours", ["0", "-1", "24.5", "abc", "", "NaN", "1.25"])
def test_bad_hours_are_refused(tree, coordinator, hours):
    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    dispatch = dispatch_create(actor=coordinator, volunteer=volunteer, work_item=open_item(tree.grid_a))
    with pytest.raises(Invalid) as caught:
        dispatch_complete(actor=coordinator, dispatch=dispatch, hours=hours)
    assert "hours" in caught.value.errors
    dispatch.refresh_from_db()
    assert dispatch.status == "dispatched" and dispatch.hours is None


def test_hours_are_logged_and_totalled_per_volunteer(tree, coordinator):
    busy = make_volunteer(area=tree.community, approved_by=coordinator, name="王建国")
    make_volunteer(area=tree.community, approved_by=coordinator, name="刘芳")
    first = dispatch_create(actor=coordinator, volunteer=busy, work_item=open_item(tree.grid_a))
    second = dispatch_create(actor=coordinator, volunteer=busy, work_item=open_item(tree.grid_b))
    third = dispatch_create(actor=coordinator, volunteer=busy, work_item=open_item(tree.grid_b))
    dispatch_complete(actor=coordinator, dispatch=first, hours="2.5", note="送菜6户")
    dispatch_complete(actor=coordinator, dispatch=second, hours=Decimal("24"))
    dispatch_cancel(actor=coordinator, dispatch=third, reason="改派他人")
    with pytest.raises(Conflict):
        dispatch_complete(actor=coordinator, dispatch=first, hours="1")
    with pytest.raises(Conflict):
        dispatch_complete(actor=coordinator, dispatch=third, hours="1")
    totals = {v.name: v.hours_total for v in selectors.volunteer_list(actor=coordinator)}
    assert totals == {"王建国": Decimal("26.5"), "刘芳": Decimal("0")}
    assert selectors.volunteer_get(actor=coordinator, volunteer_id=busy.pk).hours_total == Decimal("26.5")
    assert AuditEvent.objects.filter(action="volunteers.dispatch.complete").count() == 2


def test_commend_publish_and_unpublish(tree, coordinator):
    applicant = make_volunteer(area=tree.community)
    with pytest.raises(Conflict):
        commendation_create(
            actor=coordinator, volunteer=applicant, citation="好", commended_on=date(2022, 5, 3)
        )
    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    with pytest.raises(Invalid):
        commendation_create(
            actor=coordinator, volunteer=volunteer, citation="  ", commended_on=date(2022, 5, 3)
        )
    with pytest.raises(Invalid) as error:  # the public list must not carry a phone number
        commendation_create(
            actor=coordinator,
            volunteer=volunteer,
            citation="连续十天送菜，联系电话13912345678",
            commended_on=date(2022, 5, 3),
        )
    assert "139****5678" in error.value.errors["citation"][0]
    commendation = commendation_create(
        actor=coordinator,
        volunteer=volunteer,
        citation="连续十天为隔离户送菜。",
        commended_on=date(2022, 5, 3),
    )
    assert not commendation.published and not selectors.public_commendations().exists()
    commendation_publish(actor=coordinator, commendation=commendation, published=True)
    assert list(selectors.public_commendations()) == [commendation]
    commendation_publish(actor=coordinator, commendation=commendation, published=False)
    assert not selectors.public_commendations().exists()
    actions = set(
        AuditEvent.objects.filter(target_type="volunteers.commendation").values_list("action", flat=True)
    )
    assert actions == {
        "volunteers.commendation.create",
        "volunteers.commendation.publish",
        "volunteers.commendation.unpublish",
    }
    assert Commendation.objects.get().curated_by == coordinator


def test_a_coordinator_of_another_street_sees_and_changes_nothing_here(tree, coordinator, far_coordinator):
    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    assert not selectors.volunteer_list(actor=far_coordinator).exists()
    with pytest.raises(Forbidden):
        volunteer_decide(actor=far_coordinator, volunteer=volunteer, decision="suspend")
    with pytest.raises(Forbidden):
        dispatch_create(actor=far_coordinator, volunteer=volunteer, work_item=open_item(tree.grid_a))


def test_a_decision_on_a_page_loaded_earlier_sees_what_is_stored_now(tree, coordinator):
    from fangkong.volunteers.models import Volunteer
    from fangkong.volunteers.services import volunteer_decide

    volunteer = make_volunteer(area=tree.community)
    stale = Volunteer.objects.get(pk=volunteer.pk)  # another coordinator's page
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="reject")
    with pytest.raises(Conflict):
        volunteer_decide(actor=coordinator, volunteer=stale, decision="approve")
    assert Volunteer.objects.get(pk=volunteer.pk).status == "rejected"
    assert AuditEvent.objects.filter(action="volunteers.volunteer.approve").count() == 0


def test_suspending_a_volunteer_calls_them_back_from_live_dispatches(tree, coordinator):
    from fangkong.volunteers.models import Dispatch
    from fangkong.volunteers.services import dispatch_create, volunteer_decide

    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    dispatch = dispatch_create(actor=coordinator, volunteer=volunteer, work_item=open_item(tree.grid_a))
    volunteer_decide(actor=coordinator, volunteer=volunteer, decision="suspend")
    dispatch = Dispatch.objects.get(pk=dispatch.pk)
    assert dispatch.status == "cancelled" and dispatch.done_at is not None
