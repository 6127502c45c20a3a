"""Leases: every background job proves, on its own row, that a live worker is running it.

A job row (an import, a discovery run, an export file, a decision) carries ``lease_owner`` (the
worker and attempt holding it), ``lease_renewed_at`` and ``attempts``. Rules:

- a task takes the lease before it works (:func:`lease_hold`); a row already held, or finished, is
  left alone, so two workers never run one job;
- while it runs, a thread renews the lease every quarter of :func:`lease_length`, and the job
  renews it between its batches (:meth:`Lease.renew`); the job's final write transaction starts
  with :meth:`Lease.fence`, which fails when another attempt took the row and holds the row's lock
  until the commit, so the sweep cannot retry a job whose result is being committed;
- :func:`leases_sweep` (run by the clock every minute and by ``fangkong worker`` as it starts)
  frees every lease not renewed for :func:`lease_length` (its worker died): the job is queued
  again, up to :data:`MAX_ATTEMPTS` attempts, then marked failed ("the worker stopped"); the
  task row the dead worker left "running" is marked failed too. With the default lease of 120 s
  and a sweep each minute, a dead worker's job is retried or failed within 3 minutes;
- every job's writes are one transaction that ends with its finished status, or chunks that
  commit with their position, so a retry restarts or resumes without duplicating a row.

Each job kind registers itself (:func:`job_kind_register`) in its app's ``tasks.py``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 3
"""A job whose worker died this many times is failed instead of retried (it may be what kills it)."""


def lease_length() -> timedelta:
    """How long a lease lasts without renewal (``FANGKONG_JOB_LEASE_SECONDS``, default 120 s)."""
    return timedelta(seconds=float(getattr(settings, "FANGKONG_JOB_LEASE_SECONDS", 120)))


class Leased(models.Model):
    """The lease fields of a job row (see the module); the model defines ``is_finished``."""

    lease_owner = models.CharField(
        gettext_lazy("held by worker"), max_length=120, blank=True, default="", editable=False
    )
    lease_renewed_at = models.DateTimeField(
        gettext_lazy("lease renewed at"), null=True, blank=True, editable=False
    )
    attempts = models.PositiveSmallIntegerField(gettext_lazy("attempts"), default=0, editable=False)

    class Meta:
        abstract = True

    @property
    def retry_note(self) -> str:
        """What a screen says of an unfinished job that a stopped worker left ("" when none)."""
        if self.attempts < 1 or getattr(self, "is_finished", False):
            return ""
        if not self.lease_owner:
            return _("Retrying: the worker stopped; waiting for a worker (attempt %(n)d of %(m)d).") % {
                "n": self.attempts + 1,
                "m": MAX_ATTEMPTS,
            }
        if self.attempts > 1:
            return _("Retrying: the worker stopped; attempt %(n)d of %(m)d.") % {
                "n": self.attempts,
                "m": MAX_ATTEMPTS,
            }
        return ""


class LeaseLost(Exception):
    """This attempt no longer holds the job's lease (the sweep gave the job to another attempt)."""


def retry_audit_after(job: Leased) -> dict[str, Any]:
    """What a retry's audit event records (action ``jobs.lease.retry``, no actor: the system)."""
    return {"attempts": job.attempts, "of": MAX_ATTEMPTS}


def worker_stopped_reason(attempts: int) -> str:
    """The reason a job is failed with when its worker died on its last attempt."""
    return _("Failed: the worker stopped (%(n)d attempts).") % {"n": attempts}


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of job that holds leases.

    ``retry(pk)`` puts an unfinished row back to queued (inside the sweep's transaction), undoing
    what a dead attempt left outside its transactions (a partial file), audited as
    :func:`retry_audit_after` says; ``fail(pk, reason)`` closes it as failed, audited; ``task`` is the django-tasks task run with ``{argument: pk}``.
    """

    name: str
    model: type[Leased]
    task: Any
    argument: str
    retry: Callable[[int], None]
    fail: Callable[[int, str], None]


_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> JobKind:
    _KINDS[kind.name] = kind
    return kind


def job_kinds() -> list[JobKind]:
    """Every registered kind (importing each app's ``tasks`` module registers them)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    return list(_KINDS.values())


@dataclass
class Lease:
    """The lease one attempt holds on one job row."""

    model: type[Leased]
    pk: int
    owner: str
    lost: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)

    def _touch(self) -> bool:
        now = timezone.now()
        values: dict[str, Any] = {"lease_renewed_at": now}
        if any(f.name == "updated_at" for f in self.model._meta.concrete_fields):
            values["updated_at"] = now  # the older "no progress for so long" checks see it alive
        return bool(self.model._default_manager.filter(pk=self.pk, lease_owner=self.owner).update(**values))

    def renew(self) -> None:
        """Renew the lease now; ``LeaseLost`` when another attempt holds the job."""
        if self.lost or not self._touch():
            self.lost = True
            raise LeaseLost(f"{self.model.__name__} {self.pk}")

    def fence(self) -> None:
        """Inside the job's final transaction: renew, and so lock the row until the commit."""
        self.renew()

    def _beat(self, every: float) -> None:
        try:
            while not self._stop.wait(every):
                try:
                    if not self._touch():
                        self.lost = True
                        return
                except DatabaseError as error:  # locked by the job's own long write: next beat
                    log.warning("lease renewal of %s %s failed: %s", self.model.__name__, self.pk, error)
        finally:
            connections.close_all()  # this thread's own connection


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


@contextlib.contextmanager
def lease_hold(model: type[Leased], pk: int) -> Iterator[Lease | None]:
    """Hold the lease of job ``pk`` while the block runs (None: the job is held or finished).

    The renewing thread runs only outside a transaction (a worker); a job run inline inside a
    caller's transaction (a test, an immediate backend) renews at its batches only."""
    owner = f"{worker_name()}:{secrets.token_hex(4)}"[:120]
    now = timezone.now()
    taken = model._default_manager.filter(pk=pk, lease_owner="").update(
        lease_owner=owner, lease_renewed_at=now, attempts=F("attempts") + 1
    )
    job = model._default_manager.filter(pk=pk).first()
    if not taken or job is None or getattr(job, "is_finished", False):
        if taken:
            model._default_manager.filter(pk=pk, lease_owner=owner).update(lease_owner="")
        yield None
        return
    lease = Lease(model=model, pk=pk, owner=owner)
    beat = None
    if not connection.in_atomic_block:
        every = max(lease_length().total_seconds() / 4, 0.2)
        beat = threading.Thread(target=lease._beat, args=(every,), name=f"lease-{pk}", daemon=True)
        beat.start()
    try:
        yield lease
    finally:
        lease._stop.set()
        if beat is not None:
            beat.join()
        model._default_manager.filter(pk=pk, lease_owner=owner).update(lease_owner="", lease_renewed_at=None)


def lease_fence(lease: Lease | None) -> None:
    """Fence a job's final transaction when it runs under a lease (see :meth:`Lease.fence`)."""
    if lease is not None:
        lease.fence()


def job_run(kind: JobKind, pk: int, run: Callable[[Lease], T]) -> T | None:
    """Run job ``pk`` of ``kind`` under its lease (None: held elsewhere or finished). An error
    fails the job with its reason; a lost lease leaves the job to the attempt that holds it."""
    from fangkong.common.errors import DomainError

    with lease_hold(kind.model, pk) as lease:
        if lease is None:
            return None
        try:
            return run(lease)
        except LeaseLost:
            raise
        except Exception as error:
            reason = error.text() if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
            kind.fail(pk, reason)
            raise


@dataclass
class SweepOutcome:
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def leases_sweep(*, now: datetime | None = None, lease: timedelta | None = None) -> SweepOutcome:
    """Retry or fail every job whose lease was not renewed for ``lease`` (see the module)."""
    now = now or timezone.now()
    cutoff = now - (lease if lease is not None else lease_length())
    outcome = SweepOutcome()
    for kind in job_kinds():
        manager = kind.model._default_manager
        stale = manager.exclude(lease_owner="").filter(lease_renewed_at__lt=cutoff)
        for pk, owner in list(stale.values_list("pk", "lease_owner")):
            with transaction.atomic():
                freed = manager.filter(pk=pk, lease_owner=owner, lease_renewed_at__lt=cutoff).update(
                    lease_owner="", lease_renewed_at=None
                )
                job = manager.filter(pk=pk).first() if freed else None
                if job is None or getattr(job, "is_finished", False):
                    continue
                _task_rows_fail(kind, pk=pk, now=now)
                label = f"{kind.name} {pk}"
                if job.attempts >= MAX_ATTEMPTS:
                    kind.fail(pk, worker_stopped_reason(job.attempts))
                    outcome.failed.append(label)
                    continue
                kind.retry(pk)
                transaction.on_commit(_enqueuer(kind, pk))
                outcome.retried.append(label)
    return outcome


def _enqueuer(kind: JobKind, pk: int) -> Callable[[], None]:
    def enqueue() -> None:
        kind.task.enqueue(**{kind.argument: pk})

    return enqueue


def _task_rows_fail(kind: JobKind, *, pk: int, now: datetime) -> None:
    """The queue's rows of this job that the dead worker left "running": failed, with why."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    path = kind.task.module_path
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, task_path=path):
        if (result.args_kwargs or {}).get("kwargs", {}).get(kind.argument) == pk:
            DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{__name__}.WorkerStopped",
                traceback="the worker stopped (its lease expired)",
            )
