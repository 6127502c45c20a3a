"""The invariant of the work about spatiotemporal companions (see ``worklist.lifecycle``).

- An open "contacts.companion_test" item is stale when its test came in, or every test of the
  companion was taken (``companion.tested``); or when the contact is followed as a companion no
  longer: dismissed, became a case, or its follow-up ended (``companion.ended``).
- A companion still followed, with no item open and a missed test (``companions.missed_before``)
  that never had an item (one closed by hand counts: someone decided), is missing its item.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial

from django.utils import timezone

from fangkong.contacts.companions import ENDED, KIND, companion_tests_missed, tests_to_chase
from fangkong.contacts.models import CompanionTest, Contact, ContactKind, ContactStatus
from fangkong.worklist.kinds import CONTACT, Event
from fangkong.worklist.lifecycle import MISSING, Finding, open_items_about, stale


def companion_work_check() -> list[Finding]:
    """Every exception among the missed-test items of companions (module rules)."""
    items = open_items_about(CONTACT, kinds=[KIND])
    ids = {int(i.subject_id) for i in items if i.subject_id.isdigit()}
    contacts = {
        c.pk: c for c in Contact.objects.filter(pk__in=ids).only("id", "kind", "status", "became_case_id")
    }
    tests: dict[int, list[CompanionTest]] = defaultdict(list)
    for test in CompanionTest.objects.filter(contact_id__in=ids).only(
        "contact_id", "due_on", "tested_at", "result"
    ):
        tests[test.contact_id].append(test)
    findings = []
    for item in items:
        contact = contacts.get(int(item.subject_id)) if item.subject_id.isdigit() else None
        if contact is None:
            continue
        own = tests[contact.pk]
        its_test = [t for t in own if t.due_on.isoformat() == item.note[:10]]
        if (its_test and its_test[0].tested_at is not None) or (own and all(t.tested_at for t in own)):
            findings.append(stale(item, Event.COMPANION_TESTED))
        elif (
            contact.kind != ContactKind.COMPANION
            or contact.status != ContactStatus.CONFIRMED
            or contact.became_case_id is not None
            or any(t.result == ENDED for t in own)
        ):
            findings.append(stale(item, Event.COMPANION_ENDED))
    return findings + _missing_items()


def _missing_items() -> list[Finding]:
    now = timezone.now()
    return [
        Finding(
            problem=MISSING,
            kind=KIND,
            subject_type=CONTACT,
            subject_id=str(pk),
            why=f"test {test.number} due {test.due_on.isoformat()} was missed and has no item",
            repair=partial(companion_tests_missed, now=now, contact_ids=[pk]),
        )
        for pk, test in tests_to_chase(now=now).items()
    ]
