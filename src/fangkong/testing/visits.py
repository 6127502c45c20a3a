"""What a grid does about its untested residents in a round, as sets: a visit (a work item per
person, for the grid's workers and the volunteers they send), an exemption with a reason (the
coverage leaves them out), or a home sample for the bedridden (an item for the sampling team,
done when the person is swabbed). Each person outside the actor's reach is refused by count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record_many
from fangkong.common.errors import Invalid
from fangkong.common.masking import mask_name
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.people.models import Person
from fangkong.testing.models import Exemption, ExemptionReason, Round, TubeMember
from fangkong.worklist.kinds import PERSON
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.services import NewItem, work_items_create

VISIT_HOURS = 4


@dataclass(frozen=True)
class Done:
    done: int
    refused: int


def _reachable(actor: User, the_round: Round, person_ids: Sequence[int]) -> list[Person]:
    """The untested people among ``person_ids`` that the actor may act on (one query)."""
    swabbed = TubeMember.objects.filter(round=the_round, recall__isnull=True).values("person")
    people = Person.objects.filter(pk__in=list(person_ids)[:5000], merged_into__isnull=True).exclude(
        pk__in=swabbed
    )
    return list(visible(actor, people, perm=Perm.PEOPLE_CHANGE).select_related("org_unit"))


def _items(actor: User, the_round: Round, people: list[Person], *, kind: str, title: str, hours: int) -> int:
    note = f"round:{the_round.pk}"
    busy = set(
        WorkItem.objects.filter(
            kind=kind,
            subject_type=PERSON,
            subject_id__in=[str(p.pk) for p in people],
            status__in=OPEN_STATUSES,
        ).values_list("subject_id", flat=True)
    )
    fresh = [p for p in people if str(p.pk) not in busy]
    due = timezone.now() + timedelta(hours=hours)
    work_items_create(
        actor=actor,
        items=[
            NewItem(
                kind=kind,
                title=title % {"n": mask_name(p.name)},
                org_unit_id=p.org_unit_id,
                due_at=due,
                subject=p,
                note=note,
            )
            for p in fresh
        ],
    )
    return len(fresh)


@transaction.atomic
def untested_visit(*, actor: User, the_round: Round, person_ids: Sequence[int]) -> Done:
    """A visit item for each untested person (one open visit at a time per person)."""
    people = _reachable(actor, the_round, person_ids)
    made = _items(
        actor,
        the_round,
        people,
        kind="household.visit",
        title=_("Not sampled yet: visit %(n)s"),
        hours=VISIT_HOURS,
    )
    return Done(made, len(person_ids) - len(people))


@transaction.atomic
def home_sampling_request(*, actor: User, the_round: Round, person_ids: Sequence[int]) -> Done:
    """A home-sampling item for the sampling team, for each bedridden untested person."""
    people = _reachable(actor, the_round, person_ids)
    made = _items(
        actor,
        the_round,
        people,
        kind="testing.home_sample",
        title=_("Bedridden: sample %(n)s at home"),
        hours=VISIT_HOURS,
    )
    return Done(made, len(person_ids) - len(people))


@transaction.atomic
def exemptions_add(
    *, actor: User, the_round: Round, person_ids: Sequence[int], reason: str, note: str = ""
) -> Done:
    """Leave untested people out of the round's coverage, with a reason (audited)."""
    if reason not in ExemptionReason.values:
        raise Invalid.field("reason", _("Choose why these people are not tested."))
    if reason == ExemptionReason.OTHER and not note.strip():
        raise Invalid.field("note", _("Say why."))
    people = _reachable(actor, the_round, person_ids)
    already = set(
        Exemption.objects.filter(round=the_round, person__in=people).values_list("person_id", flat=True)
    )
    made = Exemption.objects.bulk_create(
        [
            Exemption(round=the_round, person=p, reason=reason, note=note.strip()[:200], created_by=actor)
            for p in people
            if p.pk not in already
        ]
    )
    audit_record_many(
        actor=actor, action="testing.exempt", targets=made, after=lambda e: {"reason": e.reason}
    )
    return Done(len(made), len(person_ids) - len(people))
