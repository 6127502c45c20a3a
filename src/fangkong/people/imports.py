"""Registering residents from a spreadsheet, in the background, all rows or none.

``person_import_create`` stores the file and queues the work; the worker runs
``person_import_run``: it checks every row exactly as the registration form does (plus
duplicates within the file and against the registry), reports every rejected row with its row
number and column, and writes nothing unless every row is good. Progress is saved as it goes.

The run holds the job's lease (``fangkong.common.leases``); the people and the finished status
commit in one transaction, so a worker that dies leaves either both or neither, and a retry
starts over from the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_record_many
from fangkong.common.errors import Invalid
from fangkong.common.leases import Lease, lease_fence, retry_audit_after
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.orgs.selectors import grids_for
from fangkong.people.masking import mask_id_number
from fangkong.people.models import Household, ImportStatus, Person, PersonImport, SpreadsheetImport
from fangkong.people.services import id_index, masked_snapshot, person_fill
from fangkong.people.spreadsheets import MAX_BYTES, Sheet, SpreadsheetError, id_type_of, read_sheet
from fangkong.people.validation import CleanPerson, PersonData, person_clean

PROGRESS_EVERY = 200
J = TypeVar("J", bound=SpreadsheetImport)
FIELD_TO_COLUMN = {"org_unit": "grid_code"}


@transaction.atomic
def person_import_create(*, actor: Any, org_unit: OrgUnit, file_name: str, content: bytes) -> PersonImport:
    """Keep the uploaded file and queue its import for the worker."""
    from fangkong.people.tasks import person_import_task

    if not can(actor, Perm.PEOPLE_CHANGE, org_unit):
        raise Invalid.field("org_unit", _("Unknown org unit, or not one you may register people in."))
    upload_check(file_name=file_name, content=content)
    job = PersonImport.objects.create(
        org_unit=org_unit, created_by=actor, file_name=file_name[:200], content=content
    )
    audit_record(actor=actor, action="people.import.create", target=job, after={"file": job.file_name})
    transaction.on_commit(lambda: person_import_task.enqueue(import_id=job.pk))
    return job


def upload_check(*, file_name: str, content: bytes, max_bytes: int = MAX_BYTES) -> None:
    """Refuse, on the ``file`` field, an upload that cannot be a spreadsheet to import."""
    if not file_name.lower().endswith((".xlsx", ".csv")):
        raise Invalid.field("file", _("Upload an .xlsx or .csv file."))
    if not content:
        raise Invalid.field("file", _("The file is empty."))
    if len(content) > max_bytes:
        raise Invalid.field(
            "file", _("The file is larger than %(n)d MB; split it.") % {"n": max_bytes // (1024 * 1024)}
        )


def person_data_from_row(values: dict[str, str], *, grids: dict[str, int]) -> PersonData:
    """A spreadsheet row as the registration form's data; the grid is found by its code among
    ``grids`` (code → id of the grids the uploader may register in; an unknown code gives -1)."""
    code = values.get("grid_code", "")
    return PersonData(
        name=values.get("name", ""),
        id_type=id_type_of(values.get("id_type", "")),
        id_number=values.get("id_number", ""),
        phone=values.get("phone", ""),
        org_unit_id=grids.get(code, -1) if code else None,
        building=values.get("building", ""),
        unit=values.get("unit", ""),
        room=values.get("room", ""),
    )


def import_error(row: int | None, column: str | None, message: str) -> dict[str, Any]:
    return {"row": row, "column": column, "message": message}


def _check_rows(
    job: PersonImport, sheet: Sheet
) -> tuple[list[tuple[int, CleanPerson]], list[dict[str, Any]]]:
    """Validate every row; returns the clean rows and every error (row, column, message)."""
    actor = job.created_by
    grids = {
        g.code: g.pk
        for g in grids_for(actor=actor, perm=Perm.PEOPLE_CHANGE).filter(path__startswith=job.org_unit.path)
    }
    column = {
        field: sheet.headers.get(FIELD_TO_COLUMN.get(field, field), field)
        for field in (
            "name",
            "id_type",
            "id_number",
            "phone",
            "org_unit",
            "building",
            "unit",
            "room",
            "sex",
            "birth_date",
        )
    }
    errors = [import_error(p.row, p.column, p.message) for p in sheet.problems]
    unreadable = {(p.row, p.column) for p in sheet.problems}
    clean_rows: list[tuple[int, CleanPerson]] = []
    seen: dict[tuple[str, str], int] = {}
    for done, (row, values) in enumerate(sheet.rows, start=1):
        code = values.get("grid_code", "")
        data = person_data_from_row(values, grids=grids)
        try:
            clean = person_clean(actor=actor, data=data)
        except Invalid as invalid:
            for field, messages in invalid.errors.items():
                if field == "org_unit" and code and code not in grids:
                    messages = [
                        _("Unknown grid code “%(c)s”, or not in %(u)s.") % {"c": code, "u": job.org_unit.name}
                    ]
                errors.extend(
                    import_error(row, column.get(field, field), m)
                    for m in messages
                    if (row, column.get(field, field)) not in unreadable
                )
        else:
            key = (clean.id_type, clean.id_number)
            if key in seen:
                errors.append(
                    import_error(
                        row, column["id_number"], _("Same document as row %(r)d.") % {"r": seen[key]}
                    )
                )
            else:
                seen[key] = row
                clean_rows.append((row, clean))
        if done % PROGRESS_EVERY == 0:
            PersonImport.objects.filter(pk=job.pk).update(processed_rows=done)
    errors.extend(_already_registered(clean_rows, column["id_number"]))
    return clean_rows, sorted(errors, key=lambda e: (e["row"] or 0, e["column"] or ""))


def _already_registered(rows: list[tuple[int, CleanPerson]], column: str) -> list[dict[str, Any]]:
    by_index = {(c.id_type, id_index(id_type=c.id_type, number=c.id_number)): (row, c) for row, c in rows}
    found = Person.objects.filter(id_number_index__in=[index for _t, index in by_index]).values_list(
        "id_type", "id_number_index"
    )
    return [
        import_error(
            by_index[key][0],
            column,
            _("Already registered (%(n)s).") % {"n": mask_id_number(by_index[key][1].id_number)},
        )
        for key in found
        if key in by_index
    ]


@transaction.atomic
def _write(job: PersonImport, rows: list[tuple[int, CleanPerson]]) -> list[Person]:
    households: dict[tuple[int, str, str, str], Household] = {}
    people: list[Person] = []
    for _row, clean in rows:
        household = None
        if clean.building:
            key = (clean.grid.pk, clean.building, clean.unit, clean.room)
            if key not in households:
                households[key], _created = Household.objects.get_or_create(
                    org_unit=clean.grid, building=clean.building, unit=clean.unit, room=clean.room
                )
            household = households[key]
        person = Person()
        person_fill(person, clean, household=household)
        people.append(person)
    Person.objects.bulk_create(people, batch_size=1000)
    audit_record_many(
        actor=job.created_by, action="people.person.create", targets=people, after=masked_snapshot
    )
    return people


def person_import_run(*, import_id: int, lease: Lease | None = None) -> PersonImport:
    """Check every row, then register all of them in one transaction, or none. Safe to re-run."""
    job = PersonImport.objects.select_related("created_by", "org_unit").get(pk=import_id)
    if job.is_finished:
        return job
    job.status, job.started_at, job.errors = ImportStatus.VALIDATING, timezone.now(), []
    job.save(update_fields=["status", "started_at", "errors", "updated_at"])
    try:
        sheet = read_sheet(content=bytes(job.content), file_name=job.file_name)
    except SpreadsheetError as problem:
        return import_finish(
            job, ImportStatus.REJECTED, errors=[import_error(problem.row, problem.column, problem.message)]
        )
    job.total_rows = len(sheet.rows)
    job.save(update_fields=["total_rows", "updated_at"])
    rows, errors = _check_rows(job, sheet)
    job.processed_rows = len(sheet.rows)
    if errors:
        return import_finish(job, ImportStatus.REJECTED, errors=errors)
    job.status = ImportStatus.WRITING
    job.save(update_fields=["status", "processed_rows", "updated_at"])
    with transaction.atomic():
        lease_fence(lease)
        people = _write(job, rows)
        return import_finish(job, ImportStatus.SUCCEEDED, created=len(people))


def person_import_fail(*, import_id: int, reason: str) -> None:
    """Mark an import failed after an unexpected error (nothing was written: the write is atomic)."""
    import_fail(PersonImport, import_id, reason)


def import_fail(model: type[J], import_id: int, reason: str) -> None:
    """Close an unfinished import of ``model`` (any kind) as failed with ``reason``; audited."""
    job = model._default_manager.select_related("created_by").get(pk=import_id)
    if not job.is_finished:
        import_finish(job, ImportStatus.FAILED, errors=[import_error(None, None, reason)])


def import_requeue(model: type[SpreadsheetImport]) -> Callable[[int], None]:
    """The lease sweep's retry of an import of ``model``: queued again, to run from the start
    (what a dead attempt wrote was rolled back with its transaction)."""

    def requeue(import_id: int) -> None:
        model._default_manager.filter(pk=import_id).update(
            status=ImportStatus.QUEUED, processed_rows=0, errors=[], updated_at=timezone.now()
        )
        job = model._default_manager.get(pk=import_id)
        audit_record(actor=None, action="jobs.lease.retry", target=job, after=retry_audit_after(job))

    return requeue


def import_finish(job: J, status: str, *, errors: list[dict[str, Any]] | None = None, created: int = 0) -> J:
    """Close an import (people or contacts) with its status, errors and count; audited."""
    job.status, job.errors, job.created_count, job.finished_at = status, errors or [], created, timezone.now()
    job.save(
        update_fields=["status", "errors", "created_count", "finished_at", "processed_rows", "updated_at"]
    )
    audit_record(
        actor=job.created_by,
        action=f"{job._meta.app_label}.import.{status}",
        target=job,
        after={"rows": job.total_rows, "created": created, "errors": len(job.errors)},
    )
    return job
