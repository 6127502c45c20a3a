"""Spatiotemporal companions (时空伴随者): their tests, their notice, and the work a missed test makes.

A companion is a contact of kind ``companion``, written confirmed by a discovery run (see
``contacts.triage``). The protocol's ``[triage.companion]`` table says what follows:

- **Tests**: one ``CompanionTest`` per test day (china-9: days 1 and 3 after the notice, 三天两检).
  A person already followed as a companion (a test not yet taken, due today or later) gets no
  second series nor a second text: the series under way covers the new exposure's days too.
- **Notice**: an SMS (``companion_notice``) asking them to take the tests and to report to their
  community through the public help form. A profile without tests sends none: the approved text
  asks for tests.
- **A missed test** (due before today, not taken by 08:00) makes one work item "contacts.companion_test"
  for the companion's grid, once per missed test, and only while no item of theirs is open.
  It ends done when a test comes in (``Event.COMPANION_TESTED``).
- **The end**: a companion who becomes a case, or whose discovery proposes them as a close contact,
  is followed no longer (``companions_end``): the tests not taken are marked ``ended`` and their
  open items end cancelled (``Event.COMPANION_ENDED``). A positive test registers a suspected case
  (``cases.case_register_by_rule``), which ends the follow-up the same way.

Every function works on sets: the queries do not grow with the number of companions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record_many
from fangkong.cases.services import case_register_by_rule
from fangkong.common.errors import Invalid
from fangkong.common.masking import mask_name
from fangkong.common.protocol import active_profile
from fangkong.contacts.models import CompanionTest, Contact, ContactKind, ContactStatus
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.people.models import Person
from fangkong.worklist.kinds import CONTACT, Event
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.services import NewItem, work_items_create, work_items_end

KIND = "contacts.companion_test"
NEGATIVE, POSITIVE = "negative", "positive"
OLDEST_RESULT = timedelta(days=30)
"""A companion's test result older than this is refused (the follow-up lasts three days)."""
ENDED = "ended"
"""The result of a test no longer asked for (the companion became a case or a close contact)."""
MISSED_FOLLOW_UP = timedelta(hours=2)
"""How soon the grid should reach a companion who missed a test."""
SWEEP_AT = time(8, 0)
"""A test due on a day is missed from 08:00 local the next day, the start of the grid's working
day, when the daily sweep (``config.schedule``) makes its item."""


def missed_before(now: datetime) -> date:
    """Tests due before this day and not taken are missed at ``now`` (see ``SWEEP_AT``)."""
    local = timezone.localtime(now)
    return local.date() if local.time() >= SWEEP_AT else local.date() - timedelta(days=1)


@dataclass(frozen=True)
class FollowUp:
    """What starting the follow-up of new companions did."""

    tests: int  # CompanionTest rows written
    notified: int  # texts queued
    not_notified: int  # texts refused (no mobile number, daily limit), or none to send


def companions_follow(
    *, actor: Any, contacts: Sequence[Contact], people: Mapping[int, Person], at: datetime
) -> FollowUp:
    """Start the follow-up of new companion ``contacts`` (``people``: their persons, with the
    phone): the protocol's tests, and one notice each, in the caller's transaction (see the
    module: a person already followed gets neither again)."""
    rule = active_profile().triage.companion
    if not contacts:
        return FollowUp(0, 0, 0)
    followed = set(
        CompanionTest.objects.filter(
            contact__person_id__in=[c.person_id for c in contacts],
            tested_at__isnull=True,
            result="",
            due_on__gte=timezone.localdate(at),
        ).values_list("contact__person_id", flat=True)
    )
    new = [c for c in contacts if c.person_id not in followed]
    dates = rule.test_dates(at)
    tests = CompanionTest.objects.bulk_create(
        [CompanionTest(contact=c, number=n, due_on=day) for c in new for n, day in enumerate(dates, 1)],
        batch_size=1000,
    )
    if not (rule.notified and rule.tests and new):
        return FollowUp(len(tests), 0, len(new))
    from fangkong.notify.services import sms_to_people

    link = settings.FANGKONG_PUBLIC_URL + reverse("help:form")  # the public help desk, absolute
    by_person = {c.person_id: c for c in new}
    queued = sms_to_people(
        actor=actor,
        template="companion_notice",
        people=[people[c.person_id] for c in new],
        params=lambda person: {"days": str(rule.within_days), "tests": str(rule.tests), "link": link},
        subject=lambda person: by_person[person.pk],
    )
    return FollowUp(len(tests), len(queued.queued), len(queued.refused))


@dataclass(frozen=True)
class TestTaken:
    """One companion test that came in: the contact, the test's number, when, and its result."""

    contact_id: int
    number: int
    tested_at: datetime
    result: str  # NEGATIVE or POSITIVE


@dataclass(frozen=True)
class Recorded:
    """What recording companion tests did: the tests recorded, the cases they registered, and
    each test refused with why (unknown, out of the actor's reach, already recorded, ended)."""

    recorded: list[CompanionTest]
    cases: int
    refused: list[tuple[TestTaken, str]]


@transaction.atomic
def companion_tests_record(*, actor: Any, results: Sequence[TestTaken]) -> Recorded:
    """Record companion tests taken, as a set: each ends its companion's open missed-test item
    (done), and a positive one registers the person as a suspected case, which ends their follow-up.

    A test is refused (by count, the others go on) when it is unknown, outside the actor's reach
    (``quarantine.change`` over the companion's grid; ``actor`` None is the platform, a lab
    import), already has a result, or is no longer asked for. A result other than negative or
    positive, or a time without a time zone, in the future or older than :data:`OLDEST_RESULT`,
    refuses the whole batch."""
    now = timezone.now()
    for taken in results:
        if taken.result not in {NEGATIVE, POSITIVE}:
            raise Invalid.field("result", _("A test result is negative or positive."))
        if timezone.is_naive(taken.tested_at):
            raise Invalid.field("tested_at", _("The time must carry a time zone."))
        if taken.tested_at > now:
            raise Invalid.field("tested_at", _("The time is in the future."))
        if taken.tested_at < now - OLDEST_RESULT:
            raise Invalid.field("tested_at", _("A test taken more than 30 days ago no longer counts."))
    contacts = Contact.objects.filter(pk__in={t.contact_id for t in results}, kind=ContactKind.COMPANION)
    reach = set(
        (contacts if actor is None else visible(actor, contacts, perm=Perm.QUARANTINE_CHANGE)).values_list(
            "pk", flat=True
        )
    )
    tests = {
        (t.contact_id, t.number): t
        for t in CompanionTest.objects.select_for_update()
        .filter(contact_id__in=reach)
        .select_related("contact__person")
    }
    recorded: list[CompanionTest] = []
    refused: list[tuple[TestTaken, str]] = []
    for taken in results:
        test = tests.get((taken.contact_id, taken.number))
        if test is None:
            refused.append((taken, _("No such companion test, or not one you may record.")))
        elif test.result == ENDED:
            refused.append((taken, _("This test is no longer asked for.")))
        elif test.tested_at is not None:
            refused.append((taken, _("This test already has a result.")))
        else:
            test.tested_at, test.result = taken.tested_at, taken.result
            recorded.append(test)
    CompanionTest.objects.bulk_update(recorded, ["tested_at", "result"], batch_size=500)
    work_items_end(
        actor=actor,
        event=Event.COMPANION_TESTED,
        subject_type=CONTACT,
        subject_ids={t.contact_id for t in recorded},
    )
    taken_by: dict[int, list[list[Any]]] = {}
    for test in recorded:
        taken_by.setdefault(test.contact_id, []).append([test.number, test.result])
    audit_record_many(
        actor=actor,
        action="contacts.companion.test",
        targets=list({t.contact_id: t.contact for t in recorded}.values()),
        after=lambda c: {"tests": taken_by[c.pk]},
    )
    positive = {t.contact.person_id: t for t in recorded if t.result == POSITIVE}
    for test in positive.values():  # rare: one case each, through the cases app's rule
        case_register_by_rule(
            actor=actor,
            person=test.contact.person,
            reported_at=test.tested_at or now,
            note=_("Positive test as a spatiotemporal companion."),
        )
    return Recorded(recorded=recorded, cases=len(positive), refused=refused)


def tests_to_chase(*, now: datetime, contact_ids: Iterable[int] | None = None) -> dict[int, CompanionTest]:
    """By contact, the earliest missed test (``missed_before``) of each companion still followed
    that had no item yet, for those with no item open (two queries)."""
    tests = CompanionTest.objects.filter(
        tested_at__isnull=True,
        result="",
        due_on__lt=missed_before(now),
        contact__kind=ContactKind.COMPANION,
        contact__status=ContactStatus.CONFIRMED,
        contact__became_case__isnull=True,
    )
    if contact_ids is not None:
        tests = tests.filter(contact_id__in=list(contact_ids))
    missed = list(tests.select_related("contact__person").order_by("due_on", "number"))
    items = WorkItem.objects.filter(
        kind=KIND, subject_type=CONTACT, subject_id__in={str(t.contact_id) for t in missed}
    ).values_list("subject_id", "note", "status")
    busy = {subject for subject, _note, status in items if status in OPEN_STATUSES}
    chased = {(subject, note[:10]) for subject, note, _status in items}
    chase: dict[int, CompanionTest] = {}
    for test in missed:
        subject = str(test.contact_id)
        if subject not in busy and (subject, test.due_on.isoformat()) not in chased:
            chase.setdefault(test.contact_id, test)
    return chase


def companion_tests_missed(*, now: datetime, contact_ids: Iterable[int] | None = None) -> int:
    """The daily sweep: one "contacts.companion_test" item, due soon, for the grid of each
    companion with a missed test (``tests_to_chase``); the test's due date starts the item's
    note, so a test is chased once. Returns the items made."""
    chase = tests_to_chase(now=now, contact_ids=contact_ids)
    work_items_create(
        actor=None,
        items=[
            NewItem(
                kind=KIND,
                title=_("%(p)s missed companion test %(n)d, due %(d)s")
                % {
                    "p": mask_name(test.contact.person.name),
                    "n": test.number,
                    "d": test.due_on.strftime("%m-%d"),
                },
                org_unit_id=test.contact.org_unit_id,
                due_at=now + MISSED_FOLLOW_UP,
                subject=test.contact,
                note=test.due_on.isoformat(),
            )
            for test in chase.values()
        ],
    )
    return len(chase)


def companions_end(
    *,
    actor: Any,
    at: datetime,
    person_ids: Iterable[int] = (),
    contact_ids: Iterable[int] = (),
) -> int:
    """Follow no longer the companions among ``contact_ids`` and the companion contacts of
    ``person_ids`` (they became a case, or a close contact): the tests not taken are marked
    ``ended`` and their open missed-test items end cancelled. In the caller's transaction;
    returns the tests ended."""
    people, ids = list(person_ids), list(contact_ids)
    if not people and not ids:
        return 0
    companions = list(
        Contact.objects.filter(
            Q(person_id__in=people) | Q(pk__in=ids), kind=ContactKind.COMPANION
        ).values_list("pk", flat=True)
    )
    if not companions:
        return 0
    ended = CompanionTest.objects.filter(contact_id__in=companions, tested_at__isnull=True, result="").update(
        result=ENDED
    )
    work_items_end(
        actor=actor, event=Event.COMPANION_ENDED, subject_type=CONTACT, subject_ids=companions, at=at
    )
    return ended


def on_case_registered(sender: Any, *, actor: Any, case: Any, **kwargs: Any) -> None:
    """A person became a case (``cases.signals.case_registered``): their companion contacts link
    to it (the chain) and their follow-up as a companion ends."""
    Contact.objects.filter(
        person_id=case.person_id, kind=ContactKind.COMPANION, became_case__isnull=True
    ).update(became_case=case, updated_at=timezone.now())
    companions_end(actor=actor, at=case.reported_at, person_ids=[case.person_id])
