"""Background work of the help desk: the escalation sweep, run every minute by the scheduler."""

from __future__ import annotations

from django_tasks import task

from fangkong.helpdesk.escalation import help_requests_escalate


@task()
def escalate_task() -> int:
    """Raise every help request whose call-back deadline passed; returns how many were raised."""
    return help_requests_escalate()
