"""Background work of text messages (run by ``fangkong worker``)."""

from __future__ import annotations

from django_tasks import task

from fangkong.notify.sending import sms_send_pending, sms_sweep_stuck


@task()
def sms_send_task(*, template: str | None = None) -> int:
    """Send the queued messages of ``template`` (all when None); returns how many were handed over."""
    return sms_send_pending(template=template)


@task()
def sms_sweep_task() -> int:
    """Mark unknown the messages left "sending" by a sender that stopped; returns how many."""
    return sms_sweep_stuck()
