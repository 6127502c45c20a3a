"""The one table of work-item kinds: who does each, what it is about, and which subject events end it.

Every kind of work item is a row of ``KINDS``. A row names

- the **role** whose queue the kind lands in ("My work" shows a user the kinds of their roles), and
  any role that sees it too (``also``: the volunteer coordinator dispatches volunteers to grid work);
- the **subject** it is about (``app_label.model``, or ``""`` for free-standing work);
- the **events** of that subject that end it, each with the status the item ends in: ``done``
  (what the item asked for happened: a room was assigned, a result came in) or ``cancelled`` (the
  subject no longer needs it: the order was released, the person became a case).

A service that changes a subject calls ``work_items_end(event=…, subject_type=…, subject_ids=…)``
in its own transaction; the table decides which of the subject's open items that closes. A new
kind is a new row: without one, ``work_item_create`` refuses it, so no kind can forget its ending.
``fangkong check-work`` verifies the same rules on a whole database (``worklist.lifecycle``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from fangkong.orgs.roles import Role

DONE, CANCELLED = "done", "cancelled"

CASE, ORDER, PERSON, HELP_REQUEST, CONTACT, RECALL = (
    "cases.case",
    "quarantine.quarantineorder",
    "people.person",
    "helpdesk.helprequest",
    "contacts.contact",
    "testing.recall",
)


class Event:
    """What can happen to a subject that ends work about it (the names used in ``KINDS``)."""

    # a quarantine order
    ORDER_RELEASED = "order.released"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_CONVERTED = "order.converted"  # its person became a case
    ORDER_SHORTENED = "order.shortened"  # items due after the new end
    ORDER_ROOM = "order.room"  # a room assigned: the transfer happened
    TEST_RESULTED = "test.resulted"  # one test day's result entered
    CHECK_RECORDED = "check.recorded"  # a day's health check came in, late
    # a case
    CASE_INVESTIGATED = "case.investigated"
    CASE_EXCLUDED = "case.excluded"
    CASE_RECOVERED = "case.recovered"
    CASE_DECEASED = "case.deceased"
    # a help request
    HELP_CALLED_BACK = "help.called_back"  # a call reached the resident
    HELP_CLOSED = "help.closed"
    # a contact
    HANDOFF_ACCEPTED = "handoff.accepted"  # the home unit took the contact over
    HANDOFF_DECLINED = "handoff.declined"
    COMPANION_TESTED = "companion.tested"  # a companion's missed test came in
    # a recall of a positive pool's member
    RECALL_SAMPLED = "recall.sampled"  # the single-tube re-sample was taken
    RECALL_ENDED = "recall.ended"  # the person became a case (followed as one)
    # a person in a testing round
    PERSON_SAMPLED = "person.sampled"  # swabbed in the round (a home sample taken)
    COMPANION_ENDED = "companion.ended"  # no longer a companion (became a contact or a case)
    # a person
    PERSON_MERGED = "person.merged"  # items move to the record kept (see ``work_items_move``)


# every event that ends an order's live life, with the words a person reads on the closed item
ORDER_ENDED = {
    Event.ORDER_RELEASED: CANCELLED,
    Event.ORDER_CANCELLED: CANCELLED,
    Event.ORDER_CONVERTED: CANCELLED,
}
CASE_CLOSED = {
    Event.CASE_EXCLUDED: CANCELLED,
    Event.CASE_RECOVERED: CANCELLED,
    Event.CASE_DECEASED: CANCELLED,
}

REASONS: dict[str, Promise] = {
    Event.ORDER_RELEASED: _("The order was released."),
    Event.ORDER_CANCELLED: _("The order was cancelled."),
    Event.ORDER_CONVERTED: _("The person became a case; the order was converted."),
    Event.ORDER_SHORTENED: _("The order was shortened; this day is no longer in it."),
    Event.ORDER_ROOM: _("A room was assigned."),
    Event.TEST_RESULTED: _("The result was entered."),
    Event.CHECK_RECORDED: _("The day's health check came in."),
    Event.CASE_INVESTIGATED: _("Investigation completed."),
    Event.CASE_EXCLUDED: _("The case was excluded."),
    Event.CASE_RECOVERED: _("The case recovered."),
    Event.CASE_DECEASED: _("The case died."),
    Event.HELP_CALLED_BACK: _("The resident was reached by a call back."),
    Event.HELP_CLOSED: _("The help request was closed."),
    Event.PERSON_MERGED: _("The person's records were merged."),
    Event.HANDOFF_ACCEPTED: _("The home unit accepted the hand-off."),
    Event.HANDOFF_DECLINED: _("The home unit declined the hand-off."),
    Event.COMPANION_TESTED: _("The companion's test came in."),
    Event.COMPANION_ENDED: _("No longer followed as a companion."),
    Event.RECALL_SAMPLED: _("The single-tube re-sample was taken."),
    Event.RECALL_ENDED: _("The person became a case."),
    Event.PERSON_SAMPLED: _("The person was sampled."),
}


@dataclass(frozen=True)
class KindRule:
    """One kind of work: its label, the role that does it, its subject and what ends it."""

    kind: str
    label: Promise
    role: Role
    subject: str = ""
    ends: dict[str, str] = field(default_factory=dict)
    also: tuple[Role, ...] = ()  # roles that see it too: the volunteer coordinator sends volunteers


VOLUNTEERS = (Role.VOLUNTEER_COORDINATOR,)  # grid work that volunteers can be dispatched to

KINDS: dict[str, KindRule] = {
    rule.kind: rule
    for rule in (
        KindRule(
            "case.investigate",
            _("Flow investigation"),
            Role.EPIDEMIOLOGIST,
            CASE,
            {Event.CASE_INVESTIGATED: DONE, **CASE_CLOSED},
        ),
        KindRule(
            "quarantine.transfer",
            _("Transfer to a quarantine site"),
            Role.QUARANTINE_STAFF,
            ORDER,
            {Event.ORDER_ROOM: DONE, **ORDER_ENDED},
        ),
        KindRule(
            "quarantine.notice",
            _("Deliver the quarantine notice"),
            Role.GRID_WORKER,
            ORDER,
            dict(ORDER_ENDED),
        ),
        KindRule(
            "quarantine.sample",
            _("Take a sample"),
            Role.LAB,
            ORDER,
            {Event.TEST_RESULTED: DONE, Event.ORDER_SHORTENED: CANCELLED, **ORDER_ENDED},
        ),
        KindRule(
            "quarantine.fever",
            _("Follow up a fever or symptom"),
            Role.GRID_WORKER,
            ORDER,
            dict(ORDER_ENDED),
        ),
        KindRule(
            "quarantine.missing_check",
            _("Missing health check"),
            Role.GRID_WORKER,
            ORDER,
            {Event.CHECK_RECORDED: DONE, **ORDER_ENDED},
        ),
        KindRule(
            "helpdesk.escalated",
            _("Help request not called back in time"),
            Role.HOTLINE,
            HELP_REQUEST,
            {Event.HELP_CALLED_BACK: DONE, Event.HELP_CLOSED: CANCELLED},
        ),
        KindRule(
            "contacts.handoff",
            _("Take over a contact from another area (协查)"),
            Role.EPIDEMIOLOGIST,
            CONTACT,
            {Event.HANDOFF_ACCEPTED: DONE, Event.HANDOFF_DECLINED: DONE},
        ),
        KindRule(
            "contacts.companion_test",
            _("Companion missed a test"),
            Role.GRID_WORKER,
            CONTACT,
            {Event.COMPANION_TESTED: DONE, Event.COMPANION_ENDED: CANCELLED},
        ),
        KindRule(
            "testing.recall",
            _("Positive pool: isolate in place and re-sample"),
            Role.GRID_WORKER,
            RECALL,
            {Event.RECALL_SAMPLED: DONE, Event.RECALL_ENDED: CANCELLED},
        ),
        KindRule(
            "testing.home_sample",
            _("Sample a bedridden resident at home"),
            Role.SAMPLER,
            PERSON,
            {Event.PERSON_SAMPLED: DONE},
        ),
        KindRule("household.visit", _("Household visit"), Role.GRID_WORKER, PERSON, also=VOLUNTEERS),
        KindRule("people.verify", _("Check residents"), Role.GRID_WORKER, also=VOLUNTEERS),
        KindRule("notice.deliver", _("Deliver a notice"), Role.GRID_WORKER, also=VOLUNTEERS),
    )
}


def kinds_for_roles(roles: set[str]) -> list[str]:
    """The kinds whose work lands in the queues of ``roles`` (in the table's order): those they do,
    and those they dispatch others to (``also``)."""
    return [rule.kind for rule in KINDS.values() if rule.role in roles or set(rule.also) & roles]


def kinds_ended_by(*, event: str, subject_type: str) -> dict[str, str]:
    """``{kind: status}`` of the kinds about ``subject_type`` that ``event`` ends."""
    return {
        rule.kind: rule.ends[event]
        for rule in KINDS.values()
        if rule.subject == subject_type and event in rule.ends
    }


def kind_label(kind: str) -> str:
    rule = KINDS.get(kind)
    return str(rule.label) if rule is not None else kind
