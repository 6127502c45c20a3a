"""Background work of the dashboard (run by ``fangkong worker``); an export file holds a lease."""

from __future__ import annotations

from django_tasks import task

from fangkong.common.leases import JobKind, job_kind_register, job_run
from fangkong.dashboard.models import ExportFile


@task()
def export_file_task(*, file_id: int) -> int:
    """Write one Excel export; returns the rows written."""
    from fangkong.dashboard.export_files import export_file_build

    file = job_run(EXPORT_FILE, file_id, lambda lease: export_file_build(file_id=file_id, lease=lease))
    return file.rows_done if file is not None else 0


@task()
def export_files_expire_task() -> int:
    """Delete the export files older than a day; returns how many."""
    from fangkong.dashboard.export_files import export_files_expire

    return export_files_expire()


def _requeue(pk: int) -> None:
    from fangkong.dashboard.export_files import export_file_requeue

    export_file_requeue(pk)


def _fail(pk: int, reason: str) -> None:
    from fangkong.dashboard.export_files import export_file_fail

    export_file_fail(file_id=pk, reason=reason)


EXPORT_FILE = job_kind_register(
    JobKind(
        name="dashboard.export_file",
        model=ExportFile,
        task=export_file_task,
        argument="file_id",
        retry=_requeue,
        fail=_fail,
    )
)
