"""Background work of contacts (run by ``fangkong worker``)."""

from __future__ import annotations

from django_tasks import task

from fangkong.contacts.imports import contact_import_run
from fangkong.people.imports import import_error, import_finish
from fangkong.people.models import ImportStatus


@task()
def contact_import_task(*, import_id: int) -> int:
    """Run one contact-list import; returns how many contacts were registered."""
    try:
        job = contact_import_run(import_id=import_id)
    except Exception as error:
        from fangkong.contacts.models import ContactImport

        job = ContactImport.objects.select_related("created_by", "case__org_unit").get(pk=import_id)
        if not job.is_finished:
            import_finish(
                job,
                ImportStatus.FAILED,
                errors=[import_error(None, None, f"{type(error).__name__}: {error}")],
            )
        raise
    return job.created_count


@task()
def discovery_task(*, run_id: int) -> int:
    """Run one contact discovery; returns how many contacts it proposed."""
    from fangkong.contacts.discovery import discovery_execute, discovery_fail

    try:
        run = discovery_execute(run_id=run_id)
    except Exception as error:
        discovery_fail(run_id=run_id, reason=f"{type(error).__name__}: {error}")
        raise
    return run.proposed


@task()
def companion_tests_task() -> int:
    """The morning sweep for companions' missed tests; returns the work items made."""
    from django.utils import timezone

    from fangkong.contacts.companions import companion_tests_missed

    return companion_tests_missed(now=timezone.now())


@task()
def proposals_decide_task(*, decision_id: int) -> int:
    """Run one decision on the proposals a review filter matched; returns how many it decided."""
    from fangkong.contacts.decisions import decision_execute, decision_fail

    try:
        job = decision_execute(decision_id=decision_id)
    except Exception as error:
        decision_fail(decision_id=decision_id, reason=f"{type(error).__name__}: {error}")
        raise
    return job.done
