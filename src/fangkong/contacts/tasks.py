"""Background work of contacts (run by ``fangkong worker``); every job holds a lease."""

from __future__ import annotations

from django_tasks import task

from fangkong.common.leases import JobKind, job_kind_register, job_run
from fangkong.contacts.imports import contact_import_run
from fangkong.contacts.models import ContactImport, DiscoveryRun, ProposalDecision
from fangkong.people.imports import import_fail, import_requeue


@task()
def contact_import_task(*, import_id: int) -> int:
    """Run one contact-list import; returns how many contacts were registered."""
    job = job_run(
        CONTACT_IMPORT, import_id, lambda lease: contact_import_run(import_id=import_id, lease=lease)
    )
    return job.created_count if job is not None else 0


@task()
def discovery_task(*, run_id: int) -> int:
    """Run one contact discovery; returns how many contacts it proposed."""
    from fangkong.contacts.discovery import discovery_execute

    run = job_run(DISCOVERY, run_id, lambda lease: discovery_execute(run_id=run_id, lease=lease))
    return run.proposed if run is not None else 0


@task()
def companion_tests_task() -> int:
    """The morning sweep for companions' missed tests; returns the work items made."""
    from django.utils import timezone

    from fangkong.contacts.companions import companion_tests_missed

    return companion_tests_missed(now=timezone.now())


@task()
def proposals_decide_task(*, decision_id: int) -> int:
    """Run one decision on the proposals a review filter matched; returns how many it decided."""
    from fangkong.contacts.decisions import decision_execute

    job = job_run(DECISION, decision_id, lambda lease: decision_execute(decision_id=decision_id, lease=lease))
    return job.done if job is not None else 0


def _discovery_requeue(pk: int) -> None:
    from fangkong.contacts.discovery.runs import discovery_requeue

    discovery_requeue(pk)


def _discovery_fail(pk: int, reason: str) -> None:
    from fangkong.contacts.discovery import discovery_fail

    discovery_fail(run_id=pk, reason=reason)


def _decision_requeue(pk: int) -> None:
    from fangkong.contacts.decisions import decision_requeue

    decision_requeue(pk)


def _decision_fail(pk: int, reason: str) -> None:
    from fangkong.contacts.decisions import decision_fail

    decision_fail(decision_id=pk, reason=reason)


CONTACT_IMPORT = job_kind_register(
    JobKind(
        name="contacts.import",
        model=ContactImport,
        task=contact_import_task,
        argument="import_id",
        retry=import_requeue(ContactImport),
        fail=lambda pk, reason: import_fail(ContactImport, pk, reason),
    )
)
DISCOVERY = job_kind_register(
    JobKind(
        name="contacts.discovery",
        model=DiscoveryRun,
        task=discovery_task,
        argument="run_id",
        retry=_discovery_requeue,
        fail=_discovery_fail,
    )
)
DECISION = job_kind_register(
    JobKind(
        name="contacts.decision",
        model=ProposalDecision,
        task=proposals_decide_task,
        argument="decision_id",
        retry=_decision_requeue,
        fail=_decision_fail,
    )
)
