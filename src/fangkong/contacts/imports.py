"""Close contacts of a case from a spreadsheet, in the background, all rows or none.

Each row names a person (found by document number, or registered from the row) and the exposure.
Every row is checked as the forms check it — the person's details, the exposure type, the times
(``2022-05-03 14:30``) and the protocol's look-back window — and every rejected row is reported
with its row number and column. Only when all rows are good are the people registered and the
contacts registered in one batch (``contacts.batch``: each confirmed with the protocol's orders,
or handed off to the home unit of a person who lives outside the uploader's reach), in one
transaction. A person is found by document anywhere in the city, never registered twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_record_many
from fangkong.cases.investigations import parse_local_time
from fangkong.cases.models import Case
from fangkong.common.errors import Invalid
from fangkong.common.leases import Lease, lease_fence
from fangkong.contacts.batch import Exposure, contacts_register
from fangkong.contacts.models import Contact, ContactImport, ContactKind, ExposureType
from fangkong.contacts.rules import exposure_check, require_case_change
from fangkong.orgs.roles import Perm
from fangkong.orgs.selectors import grids_for
from fangkong.people.idnumbers import normalize_document
from fangkong.people.imports import import_error, import_finish, person_data_from_row, upload_check
from fangkong.people.models import ImportStatus, Person
from fangkong.people.services import id_index, person_fill
from fangkong.people.spreadsheets import COLUMNS as PERSON_COLUMNS
from fangkong.people.spreadsheets import SpreadsheetError, id_type_of, read_sheet
from fangkong.people.validation import CleanPerson, person_clean

COLUMNS = {
    **PERSON_COLUMNS,
    "exposure_type": ("暴露方式", "exposure_type", "exposure"),
    "first_exposure": ("首次暴露时间", "first_exposure"),
    "last_exposure": ("末次暴露时间", "last_exposure"),
}
REQUIRED = ("id_number", "exposure_type", "first_exposure", "last_exposure")
TEMPLATE_HEADER = [
    "姓名",
    "证件类型",
    "证件号码",
    "手机号",
    "网格编码",
    "楼栋",
    "单元",
    "房号",
    "暴露方式",
    "首次暴露时间",
    "末次暴露时间",
]
PROGRESS_EVERY = 200


EXPOSURE_SYNONYMS = {
    "同住": "household",
    "家庭": "household",
    "共同居住": "household",
    "工作": "workplace",
    "工作场所": "workplace",
    "同事": "workplace",
    "学校": "workplace",
    "同学": "workplace",
    "场所": "venue",
    "交通": "transport",
    "同乘": "transport",
    "就医": "medical",
    "医疗": "medical",
    "聚餐": "social",
    "聚会": "social",
    "其他": "other",
}


def _exposure_words() -> dict[str, str]:
    """Every word that names an exposure: codes, labels in zh-Hans and English, common words."""
    words = dict(EXPOSURE_SYNONYMS)
    for value, label in ExposureType.choices:
        with translation.override("zh-hans"):
            words.setdefault(str(label), value)
        with translation.override("en"):
            words.setdefault(str(label).lower(), value)
        words.setdefault(value, value)
    return words


def exposure_of(word: str, *, words: dict[str, str] | None = None) -> str:
    """The exposure code for a code, its label (zh-Hans or English) or a common word for it
    (``words``: the table of ``_exposure_words``, built once per import)."""
    word = word.strip()
    table = words if words is not None else _exposure_words()
    return table.get(word, table.get(word.lower(), word))


@transaction.atomic
def contact_import_create(*, actor: Any, case: Case, file_name: str, content: bytes) -> ContactImport:
    """Keep the uploaded list and queue it for the worker."""
    from fangkong.contacts.tasks import contact_import_task

    require_case_change(actor, case)
    upload_check(file_name=file_name, content=content)
    job = ContactImport.objects.create(
        case=case, created_by=actor, file_name=file_name[:200], content=content
    )
    audit_record(actor=actor, action="contacts.import.create", target=job, after={"file": job.file_name})
    transaction.on_commit(lambda: contact_import_task.enqueue(import_id=job.pk))
    return job


@dataclass
class _Row:
    row: int
    person: Person | None
    new_person: CleanPerson | None
    exposure_type: str
    first: datetime
    last: datetime


def _check_rows(
    job: ContactImport, headers: dict[str, str], rows: list[tuple[int, dict[str, str]]]
) -> tuple[list[_Row], list[dict[str, Any]]]:
    actor, case = job.created_by, job.case
    grids = {g.code: g.pk for g in grids_for(actor=actor, perm=Perm.PEOPLE_CHANGE)}
    column = {f: headers.get(f, COLUMNS[f][0]) for f in COLUMNS} | {
        "org_unit": headers.get("grid_code", "网格编码")
    }
    already = set(
        Contact.objects.filter(source_case=case, kind=ContactKind.CLOSE).values_list("person_id", flat=True)
    )
    found = _people_by_document(rows)
    words = _exposure_words()
    good: list[_Row] = []
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for done, (row, values) in enumerate(rows, start=1):
        row_errors: dict[str, list[str]] = {}
        id_type = id_type_of(values.get("id_type", ""))
        number = _number(values)
        person = found.get((id_type, number)) if number else None
        new_person = None
        if person is None:
            try:
                new_person = person_clean(actor=actor, data=person_data_from_row(values, grids=grids))
            except Invalid as invalid:
                row_errors.update(invalid.errors)
        elif person.pk in already:
            row_errors["id_number"] = [_("Already a contact of this case.")]
        exposure = exposure_of(values.get("exposure_type", ""), words=words)
        first = last = None
        try:
            first = parse_local_time(values.get("first_exposure", ""), field="first_exposure")
            last = parse_local_time(values.get("last_exposure", ""), field="last_exposure")
        except Invalid as invalid:
            row_errors.update(invalid.errors)
        if first and last and (person or new_person):
            probe = person or Person(pk=-1)
            try:
                exposure_check(case, probe, exposure_type=exposure, first=first, last=last)
            except Invalid as invalid:
                row_errors.update(invalid.errors)
        key = (id_type, number)
        if number and key in seen:
            row_errors["id_number"] = [_("Same document as row %(r)d.") % {"r": seen[key]}]
        seen.setdefault(key, row)
        if row_errors:
            errors.extend(import_error(row, column.get(f, f), m) for f, ms in row_errors.items() for m in ms)
        else:
            assert first is not None and last is not None
            good.append(
                _Row(
                    row=row,
                    person=person,
                    new_person=new_person,
                    exposure_type=exposure,
                    first=first,
                    last=last,
                )
            )
        if done % PROGRESS_EVERY == 0:
            ContactImport.objects.filter(pk=job.pk).update(processed_rows=done)
    return good, errors


def _number(values: dict[str, str]) -> str:
    return normalize_document(values.get("id_number", ""))


def _people_by_document(rows: list[tuple[int, dict[str, str]]]) -> dict[tuple[str, str], Person]:
    """The register's person of every row's document, anywhere in the city, in one query per
    5,000 rows: a contact living in another district is handed off there, not registered twice."""
    keys: dict[str, tuple[str, str]] = {}
    for _row, values in rows:
        id_type, number = id_type_of(values.get("id_type", "")), _number(values)
        if number:
            keys[id_index(id_type=id_type, number=number)] = (id_type, number)
    indexes, found = list(keys), {}
    for start in range(0, len(indexes), 5000):
        for person in (
            Person.objects.filter(id_number_index__in=indexes[start : start + 5000], merged_into__isnull=True)
            .only("id", "name", "id_type", "id_number_index", "org_unit_id", "household_id", "merged_into_id")
            .order_by()
        ):
            key = keys[person.id_number_index]
            if key[0] == person.id_type:
                found[key] = person
    return found


class _Refused(Exception):
    """The batch refused rows after the check (someone registered one meanwhile): nothing stays."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("refused")
        self.errors = errors


@transaction.atomic
def _write(job: ContactImport, rows: list[_Row], column: dict[str, str]) -> int:
    """New people, then every contact in one batch (``contacts.batch``): all or none."""
    made = []
    for row in rows:
        if row.person is None:
            assert row.new_person is not None
            row.person = Person()
            person_fill(row.person, row.new_person, household=None)
            row.person.save()
            made.append(row.person)
    audit_record_many(
        actor=job.created_by, action="people.person.create", targets=made, after=lambda p: {"import": job.pk}
    )
    outcome = contacts_register(
        actor=job.created_by,
        case=job.case,
        exposures=[
            Exposure(person=r.person, exposure_type=r.exposure_type, first=r.first, last=r.last, key=r.row)
            for r in rows
            if r.person is not None
        ],
        all_or_nothing=True,
    )
    if outcome.refused:
        raise _Refused(
            [
                import_error(row if isinstance(row, int) else None, column.get(f, column["id_number"]), m)
                for row, error in outcome.refused
                for f, ms in (
                    error.errors if isinstance(error, Invalid) else {"id_number": [error.text()]}
                ).items()
                for m in ms
            ]
        )
    return len(outcome.done) + len(outcome.handed_off)


def contact_import_run(*, import_id: int, lease: Lease | None = None) -> ContactImport:
    """Check every row, then register all the contacts (and new people) at once, or none; the
    contacts and the finished status commit together, so a retry after a dead worker starts over."""
    job = ContactImport.objects.select_related("created_by", "case__org_unit").get(pk=import_id)
    if job.is_finished:
        return job
    job.status, job.started_at, job.errors = ImportStatus.VALIDATING, timezone.now(), []
    job.save(update_fields=["status", "started_at", "errors", "updated_at"])
    try:
        sheet = read_sheet(
            content=bytes(job.content), file_name=job.file_name, columns=COLUMNS, required=REQUIRED
        )
    except SpreadsheetError as problem:
        return import_finish(
            job, ImportStatus.REJECTED, errors=[import_error(problem.row, problem.column, problem.message)]
        )
    job.total_rows = len(sheet.rows)
    job.save(update_fields=["total_rows", "updated_at"])
    rows, errors = _check_rows(job, sheet.headers, sheet.rows)
    column = {f: sheet.headers.get(f, COLUMNS[f][0]) for f in COLUMNS}
    errors = [import_error(p.row, p.column, p.message) for p in sheet.problems] + errors
    job.processed_rows = len(sheet.rows)
    if errors:
        return import_finish(
            job,
            ImportStatus.REJECTED,
            errors=sorted(errors, key=lambda e: (e["row"] or 0, e["column"] or "")),
        )
    job.status = ImportStatus.WRITING
    job.save(update_fields=["status", "processed_rows", "updated_at"])
    with transaction.atomic():
        lease_fence(lease)
        try:
            created = _write(job, rows, column)
        except _Refused as refused:
            return import_finish(job, ImportStatus.REJECTED, errors=refused.errors)
        return import_finish(job, ImportStatus.SUCCEEDED, created=created)
