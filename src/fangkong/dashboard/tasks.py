"""Background work of the dashboard (run by ``fangkong worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def export_file_task(*, file_id: int) -> int:
    """Write one Excel export; returns the rows written."""
    from fangkong.dashboard.export_files import export_file_build, export_file_fail

    try:
        return export_file_build(file_id=file_id).rows_done
    except Exception as error:
        export_file_fail(file_id=file_id, reason=f"{type(error).__name__}: {error}")
        raise


@task()
def export_files_expire_task() -> int:
    """Delete the export files older than a day; returns how many."""
    from fangkong.dashboard.export_files import export_files_expire

    return export_files_expire()
