"""A decision on every proposal a review filter matches: queued, run by the worker in chunks, with
progress the reviewer watches.

Rules:
- the proposals are the ones the filter matched when the reviewer asked (later ones are not
  swept in), at most :data:`~fangkong.contacts.services.BULK_LIMIT`;
- one decision at a time per case; one that stopped reporting progress for
  :data:`STALE_AFTER` was interrupted and may be started again;
- each chunk of :data:`CHUNK` is one batch (:func:`services.proposals_decide`) and commits with the
  position it reached, so a worker that dies leaves whole chunks only and a rerun resumes there;
- a proposal already decided by the time its chunk runs is named with the reason, like any other
  refusal;
- under a lease (``fangkong.common.leases``) each chunk's transaction is fenced: an attempt the
  sweep replaced commits no further chunk.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.models import Case
from fangkong.common.errors import Conflict
from fangkong.common.leases import Lease, lease_fence, retry_audit_after
from fangkong.common.masking import mask_name
from fangkong.contacts import selectors, services
from fangkong.contacts.models import ContactStatus, ProposalDecision, RunStatus
from fangkong.contacts.rules import require_case_change
from fangkong.contacts.selectors import ReviewFilters

CHUNK = 1000
"""Proposals decided per batch (one transaction each; the progress moves once per chunk)."""

STALE_AFTER = timedelta(minutes=10)
"""A decision that has not moved for this long was interrupted (its worker died)."""


@transaction.atomic
def decision_start(
    *, actor: User, case: Case, filters: ReviewFilters, decision: str, reason: str = ""
) -> ProposalDecision:
    """Queue ``decision`` ("confirm" or "dismiss") for every proposal of ``case`` that ``filters``
    match in the actor's view, for the worker."""
    require_case_change(actor, case)
    services.decision_check(decision=decision, reason=reason)
    now = timezone.now()
    _interrupted_mark(case=case, now=now)
    if ProposalDecision.objects.filter(case=case, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise Conflict(_("A decision on this case's proposals is already under way; wait for it to finish."))
    matched = selectors.contact_review_list(actor=actor, case_id=case.pk, filters=filters)
    ids = list(
        matched.filter(status=ContactStatus.PROPOSED)
        .order_by()
        .values_list("pk", flat=True)[: services.BULK_LIMIT + 1]
    )
    services.bulk_size_check(ids)
    job = ProposalDecision.objects.create(
        case=case, created_by=actor, decision=decision, reason=reason.strip()[:200], contact_ids=sorted(ids)
    )
    audit_record(
        actor=actor,
        action="contacts.proposals.decision",
        target=job,
        after={"decision": decision, "proposals": len(ids), "tab": filters.tab},
    )
    from fangkong.contacts.tasks import proposals_decide_task

    transaction.on_commit(lambda: proposals_decide_task.enqueue(decision_id=job.pk))
    return job


def _interrupted_mark(*, case: Case, now: datetime) -> None:
    ProposalDecision.objects.filter(
        case=case, status__in=[RunStatus.QUEUED, RunStatus.RUNNING], updated_at__lt=now - STALE_AFTER
    ).update(status=RunStatus.FAILED, error=_("Interrupted: no progress for 10 minutes."), finished_at=now)


def decision_execute(*, decision_id: int, lease: Lease | None = None) -> ProposalDecision:
    """Run a queued decision chunk by chunk from where it stands (see the module)."""
    job = ProposalDecision.objects.select_related("case__org_unit", "created_by").get(pk=decision_id)
    if job.is_finished:
        return job
    job.status, job.started_at = RunStatus.RUNNING, job.started_at or timezone.now()
    job.save(update_fields=["status", "started_at", "updated_at"])
    while job.position < job.total:
        chunk = job.contact_ids[job.position : job.position + CHUNK]
        with transaction.atomic():
            lease_fence(lease)
            outcome = services.proposals_decide(
                actor=job.created_by,
                case=job.case,
                contact_ids=chunk,
                decision=job.decision,
                reason=job.reason,
            )
            job.position += len(chunk)
            job.done += outcome.done
            job.handed_off += outcome.handed_off
            job.refused += [
                {"id": c.pk, "name": mask_name(c.person.name), "reason": why} for c, why in outcome.refused
            ]
            job.save(update_fields=["position", "done", "handed_off", "refused", "updated_at"])
    job.status, job.finished_at = RunStatus.SUCCEEDED, timezone.now()
    job.save(update_fields=["status", "finished_at", "updated_at"])
    return job


def decision_requeue(decision_id: int) -> None:
    """The lease sweep's retry of a decision whose worker died: queued, to resume at its position."""
    ProposalDecision.objects.filter(pk=decision_id).update(status=RunStatus.QUEUED, updated_at=timezone.now())
    job = ProposalDecision.objects.get(pk=decision_id)
    audit_record(actor=None, action="jobs.lease.retry", target=job, after=retry_audit_after(job))


def decision_fail(*, decision_id: int, reason: str) -> None:
    """Mark a decision failed (the worker's error); the chunks it finished stay decided."""
    ProposalDecision.objects.filter(pk=decision_id).exclude(status=RunStatus.SUCCEEDED).update(
        status=RunStatus.FAILED, error=reason[:500], finished_at=timezone.now()
    )
