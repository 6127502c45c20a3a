"""Tube results from the lab, and what a positive tube sets off.

Rules:
- results are recorded as a set (a file, an API call): one read of the tubes, writes in bulk;
- a barcode never sampled (unknown, or a tube still open) is refused with its key and field;
- a row that repeats the tube's result changes nothing (the same file twice is harmless); a row
  that differs waits as a conflict for :func:`result_correct`, an explicit, audited decision —
  a result is never overwritten;
- a positive tube of more than one person recalls every member: isolated in place and re-sampled
  in a single tube within the protocol's ``recall_hours``, one work item each for their grid;
- a positive tube of one person (a single tube, a re-sample) registers that person as a suspected
  case through the cases service, linked to the recall when it is a re-sample;
- a negative re-sample clears the recalled member;
- a single tube of a quarantined person is their order's test of that day (``testing.quarantined``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_rows
from fangkong.cases.models import Case
from fangkong.cases.services import case_register_by_rule
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.masking import mask_name
from fangkong.common.protocol import active_profile
from fangkong.common.rows import rows_insert
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.testing.models import (
    Recall,
    RecallStatus,
    ReportStatus,
    SamplingSite,
    Tube,
    TubeKind,
    TubeMember,
    TubeResult,
    TubeResultImport,
    TubeResultValue,
    TubeStatus,
)
from fangkong.testing.quarantined import order_tests_follow
from fangkong.worklist.kinds import RECALL, Event
from fangkong.worklist.services import NewItem, work_items_create, work_items_end

SAMPLED = (TubeStatus.CLOSED, TubeStatus.PACKED, TubeStatus.RECEIVED, TubeStatus.RESULTED)


@dataclass(frozen=True)
class ResultRow:
    """One tube's result as a lab reports it; ``key`` names the row to the caller (a file's row
    number, an API index)."""

    key: int
    barcode: str
    result: str
    tested_at: datetime
    lab: str
    ct_orf: float | None = None
    ct_n: float | None = None


@dataclass
class Recorded:
    """What recording a set of results did."""

    recorded: int = 0
    unchanged: int = 0
    conflicts: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # key, field, reason
    positive_tubes: list[str] = field(default_factory=list)
    recalls: int = 0
    cases: list[str] = field(default_factory=list)


def row_check(row: ResultRow, *, now: datetime) -> None:
    """One row's own values (``Invalid`` naming the field): a known result, a time with a zone
    that is not in the future nor before 2020, Ct values between 0 and 50."""
    if row.result not in TubeResultValue.values:
        raise Invalid.field("result", _("A result is negative, positive or invalid."))
    if timezone.is_naive(row.tested_at):
        raise Invalid.field("tested_at", _("The time must carry a time zone."))
    if row.tested_at > now + timedelta(minutes=5) or row.tested_at.year < 2020:
        raise Invalid.field("tested_at", _("The test time is in the future or before 2020."))
    for name in ("ct_orf", "ct_n"):
        value = getattr(row, name)
        if value is not None and not 0 <= value <= 50:
            raise Invalid.field(name, _("A Ct value lies between 0 and 50."))
    if not row.lab.strip():
        raise Invalid.field("lab", _("Name the lab."))


@transaction.atomic
def tube_results_record(
    *, actor: User, rows: Sequence[ResultRow], source: TubeResultImport | None = None
) -> Recorded:
    """Record the rows' results (see the module): the good ones are written, each bad one refused."""
    if not can(actor, Perm.TESTING_LAB):
        raise Forbidden(_("Your role may not record tube results."))
    now = timezone.now()
    out = Recorded()
    good: list[ResultRow] = []
    for row in rows:
        try:
            row_check(row, now=now)
        except Invalid as error:
            out.refused += [(row.key, f, m) for f, ms in error.errors.items() for m in ms]
        else:
            good.append(row)
    barcodes = sorted({r.barcode for r in good})
    tubes: dict[str, Tube] = {}
    waiting: set[tuple[int, str]] = set()
    for start in range(0, len(barcodes), 5000):
        chunk = barcodes[start : start + 5000]
        tubes.update({t.barcode: t for t in Tube.objects.select_for_update().filter(barcode__in=chunk)})
        waiting |= set(  # conflicts already waiting for a correction: the same one again changes nothing
            TubeResult.objects.filter(tube__barcode__in=chunk, status=ReportStatus.CONFLICT).values_list(
                "tube_id", "result"
            )
        )
    reports: list[TubeResult] = []
    changed: dict[int, Tube] = {}
    for row in good:
        tube = changed.get(tubes[row.barcode].pk) if row.barcode in tubes else None
        tube = tube or tubes.get(row.barcode)
        if tube is None or tube.status not in SAMPLED:
            reason = (
                _("Unknown tube, or never sampled.")
                if tube is None
                else _("The tube is still open at the site.")
            )
            out.refused.append((row.key, "barcode", reason))
            continue
        report = TubeResult(
            tube=tube,
            result=row.result,
            tested_at=row.tested_at,
            ct_orf=row.ct_orf,
            ct_n=row.ct_n,
            lab=row.lab.strip()[:100],
            source=source,
            reported_by=actor,
        )
        if tube.result == row.result or (tube.pk, row.result) in waiting:
            out.unchanged += 1
            continue
        if tube.result:
            report.status = ReportStatus.CONFLICT
            waiting.add((tube.pk, row.result))
            out.conflicts += 1
        else:
            report.status = ReportStatus.RECORDED
            _apply(tube, row)
            changed[tube.pk] = tube
            out.recorded += 1
        reports.append(report)
    _reports_write(actor=actor, reports=reports, source=source, now=now)
    sites = dict(
        SamplingSite.objects.filter(pk__in={t.site_id for t in changed.values()}).values_list(
            "pk", "org_unit_id"
        )
    )
    label = Tube._meta.label_lower
    audit_rows(
        actor=actor,
        action="testing.tube.result",
        rows=[
            (label, str(t.pk), t.barcode, sites.get(t.site_id), {"result": t.result, "lab": t.lab})
            for t in changed.values()
        ],
    )
    order_tests_follow(actor=actor, tubes=list(changed.values()))
    positive = [t for t in changed.values() if t.result == TubeResultValue.POSITIVE]
    out.positive_tubes = sorted(t.barcode for t in positive)
    _positives_follow(actor=actor, tubes=positive, out=out, now=now)
    _resamples_clear(
        actor=actor, tubes=[t for t in changed.values() if t.result == TubeResultValue.NEGATIVE], now=now
    )
    return out


REPORT_COLUMNS = (
    "tube",
    "result",
    "tested_at",
    "ct_orf",
    "ct_n",
    "lab",
    "status",
    "source",
    "reported_by",
    "reported_at",
    "reason",
)


def _reports_write(
    *, actor: User, reports: list[TubeResult], source: TubeResultImport | None, now: datetime
) -> None:
    """The reports as rows (one bulk insert), then every tube a recorded report resulted takes its
    values in one ``UPDATE … FROM`` over those rows (PostgreSQL; SQLite 3.33 and later)."""
    ids = rows_insert(
        TubeResult,
        columns=REPORT_COLUMNS,
        rows=[
            (
                r.tube_id,
                r.result,
                r.tested_at,
                r.ct_orf,
                r.ct_n,
                r.lab,
                r.status,
                source.pk if source else None,
                actor.pk,
                now,
                "",
            )
            for r in reports
        ],
        ids=True,
    )
    if not any(r.status == ReportStatus.RECORDED for r in reports):
        return
    quote = connection.ops.quote_name
    tube, report = quote(Tube._meta.db_table), quote(TubeResult._meta.db_table)
    sql = (
        f"UPDATE {tube} SET result = r.result, result_at = r.tested_at, ct_orf = r.ct_orf, ct_n = r.ct_n, "  # noqa: S608 - names quoted
        f"lab = r.lab, status = %s, updated_at = %s FROM {report} r "
        f"WHERE r.tube_id = {tube}.id AND r.id BETWEEN %s AND %s AND r.status = %s AND r.reported_at = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                TubeStatus.RESULTED,
                connection.ops.adapt_datetimefield_value(now),
                min(ids),
                max(ids),
                ReportStatus.RECORDED,
                connection.ops.adapt_datetimefield_value(now),
            ],
        )


def _apply(tube: Tube, row: ResultRow | TubeResult) -> None:
    tube.result, tube.result_at = row.result, row.tested_at
    tube.ct_orf, tube.ct_n, tube.lab = row.ct_orf, row.ct_n, row.lab.strip()[:100]
    tube.status, tube.updated_at = TubeStatus.RESULTED, timezone.now()


def _positives_follow(*, actor: User, tubes: Sequence[Tube], out: Recorded, now: datetime) -> None:
    """Recall every member of each positive pool; register a case for a positive tube of one."""
    if not tubes:
        return
    members = list(
        TubeMember.objects.filter(tube__in=tubes)
        .select_related("person__org_unit", "recall", "tube")
        .order_by("id")
    )
    by_tube: dict[int, list[TubeMember]] = {}
    for member in members:
        by_tube.setdefault(member.tube_id, []).append(member)
    due = now + timedelta(hours=active_profile().testing.recall_hours)
    already = set(Recall.objects.filter(member__in=members).values_list("member_id", flat=True))
    recalls: list[Recall] = []
    for tube in tubes:
        group = by_tube.get(tube.pk, [])
        if len(group) == 1 or tube.kind == TubeKind.RESAMPLE:
            for member in group:
                case = case_register_by_rule(
                    actor=actor,
                    person=member.person,
                    reported_at=min(tube.result_at or now, now),  # a lab clock a minute fast
                    note=_("Positive tube %(b)s in mass testing.") % {"b": tube.barcode},
                )
                out.cases.append(case.number)
                if member.recall is not None:
                    Recall.objects.filter(pk=member.recall.pk).update(
                        status=RecallStatus.POSITIVE, resulted_at=now, case=case, updated_at=now
                    )
            continue
        recalls += [
            Recall(member=m, pool=tube, person=m.person, due_at=due) for m in group if m.pk not in already
        ]
    Recall.objects.bulk_create(recalls, batch_size=2000)
    recall_items_create(recalls)
    out.recalls += len(recalls)


def recall_items_create(recalls: Sequence[Recall]) -> None:
    """The grid's urgent item for each recall: isolate in place and re-sample by its due time."""
    work_items_create(
        actor=None,
        items=[
            NewItem(
                kind="testing.recall",
                title=_("Positive pool %(b)s: isolate %(n)s in place and re-sample")
                % {"b": r.pool.barcode, "n": mask_name(r.person.name)},
                org_unit_id=r.person.org_unit_id,
                due_at=r.due_at,
                subject=r,
                priority="urgent",
            )
            for r in recalls
        ],
    )


def _resamples_clear(*, actor: User, tubes: Sequence[Tube], now: datetime) -> None:
    singles = [t.pk for t in tubes if t.kind == TubeKind.RESAMPLE]
    if singles:
        Recall.objects.filter(resamples__tube__in=singles, status=RecallStatus.SAMPLED).update(
            status=RecallStatus.CLEARED, resulted_at=now, updated_at=now
        )


@transaction.atomic
def result_correct(*, actor: User, report: TubeResult, apply: bool, reason: str) -> TubeResult:
    """Decide a conflicting result: apply it (the tube takes it, and a positive one sets off its
    recall or case) or dismiss it; either way with a reason, audited."""
    if not can(actor, Perm.TESTING_LAB):
        raise Forbidden(_("Your role may not correct tube results."))
    report = TubeResult.objects.select_for_update().select_related("tube").get(pk=report.pk)
    if report.status != ReportStatus.CONFLICT:
        raise Conflict(_("This result was already decided."))
    if not reason.strip():
        raise Invalid.field("reason", _("Say why."))
    tube = Tube.objects.select_for_update().get(pk=report.tube_id)
    before = {"result": tube.result}
    report.status = ReportStatus.CORRECTED if apply else ReportStatus.DISMISSED
    report.decided_by, report.decided_at, report.reason = actor, timezone.now(), reason.strip()[:300]
    report.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    if apply:
        _apply(tube, report)
        tube.save()
        order_tests_follow(actor=actor, tubes=[tube])
        if tube.result == TubeResultValue.POSITIVE:
            _positives_follow(actor=actor, tubes=[tube], out=Recorded(), now=timezone.now())
    audit_record(
        actor=actor,
        action="testing.tube.correct",
        target=tube,
        before=before,
        after={"result": report.result, "applied": apply, "reason": report.reason},
    )
    return report


def on_case_registered(sender: object, *, actor: User | None, case: Case, **kwargs: object) -> None:
    """A person became a case (``cases.signals.case_registered``): a recall still waiting for
    their re-sample ends with its work (they are followed as a case now)."""
    waiting = list(
        Recall.objects.filter(person_id=case.person_id, status=RecallStatus.WAITING).values_list(
            "pk", flat=True
        )
    )
    if not waiting:
        return
    now = timezone.now()
    Recall.objects.filter(pk__in=waiting).update(status=RecallStatus.ENDED, case=case, updated_at=now)
    work_items_end(actor=actor, event=Event.RECALL_ENDED, subject_type=RECALL, subject_ids=waiting)
