"""Exports (导出) of cases, contacts and quarantine orders as CSV or Excel: scoped, masked, streamed.

Rules:

- The rows are those the actor may see with the kind's view permission (``visible``). A date
  range, an org unit or a choice only narrow them; an org unit the actor may not see is
  ``NotFound`` (404), and an actor without the view permission has no such export (404).
- The date range is on one column per kind, both ends included, as local dates: cases by the
  report time, contacts by the last exposure, orders by day 1.
- An org unit keeps the rows owned by its subtree, by the same lookups as scoping (a contact
  belongs to its case's grid and to its own grid).
- Names, ID numbers and phones are masked (张*明, 4403**********123X, 138****5678) unless
  ``full``. Full needs ``people.reveal`` over the whole export — the unit asked for, or every
  unit of the actor's scope for the kind — otherwise ``Forbidden`` (403).
- Every export is audited once, before its first byte leaves the server: ``dashboard.export``
  when masked, ``dashboard.export.unmasked`` when full, with kind, format, filters and rows.
  CSV counts the rows first (one COUNT; rows written while it streams may differ by those);
  an Excel file is complete before it is sent, so its count is the rows written.
- Rows are read as ``values()`` in chunks of ``CHUNK_ROWS`` (a server-side cursor on PostgreSQL),
  one query whatever the size: memory stays flat. The files are written in ``export_views``.
- Text a spreadsheet would run as a formula (starting with = + - @) is written as text: a
  leading apostrophe in CSV, a string cell in Excel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet, TextChoices
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from fangkong.audit.services import audit_record
from fangkong.cases.models import Classification, Origin, Outcome, Severity
from fangkong.cases.selectors import CaseFilters, case_list
from fangkong.common.errors import Forbidden, Invalid, NotFound
from fangkong.contacts.models import ContactKind, ContactStatus, DiscoveredBy, ExposureType
from fangkong.contacts.selectors import contact_list
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, scope_roots, visible_get
from fangkong.people.crypto import decrypt
from fangkong.people.masking import mask_name
from fangkong.people.models import IdType, Sex
from fangkong.quarantine.models import OrderKind, OrderStatus
from fangkong.quarantine.selectors import order_list

CHUNK_ROWS = 2000
FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One exported column: a ``values()`` key and how its value is written.

    ``kind`` is text, date, datetime, choice, or one of the PII kinds name, id_number, phone
    (``field`` is then the person prefix, e.g. ``person__``)."""

    header: str | Promise
    field: str
    kind: str = "text"
    choices: type[TextChoices] | None = None


def _pii(prefix: str) -> tuple[Column, ...]:
    return (
        Column(gettext_lazy("Name"), prefix, "name"),
        Column(gettext_lazy("ID number"), prefix, "id_number"),
        Column(gettext_lazy("phone"), prefix, "phone"),
    )


@dataclass(frozen=True)
class ExportKind:
    """What one export holds: its scoped rows, the date column it filters on, its columns."""

    slug: str
    title: str | Promise
    perm: Perm
    rows: Callable[[Any], QuerySet[Any]]
    date_field: str
    date_label: str | Promise
    order: tuple[str, ...]
    columns: tuple[Column, ...]
    choice_filters: Mapping[str, type[TextChoices]] = field(default_factory=dict)


CASES = ExportKind(
    slug="cases",
    title=gettext_lazy("Cases"),
    perm=Perm.CASES_VIEW,
    rows=lambda actor: case_list(actor=actor, filters=CaseFilters()),
    date_field="reported_at",
    date_label=gettext_lazy("reported at"),
    order=("reported_at", "id"),
    choice_filters={"classification": Classification},
    columns=(
        Column(gettext_lazy("Case number"), "number"),
        Column(gettext_lazy("Classification"), "classification", "choice", Classification),
        Column(gettext_lazy("Severity"), "severity", "choice", Severity),
        Column(gettext_lazy("Outcome"), "outcome", "choice", Outcome),
        Column(gettext_lazy("origin"), "origin", "choice", Origin),
        Column(gettext_lazy("reported at"), "reported_at", "datetime"),
        Column(gettext_lazy("symptom onset"), "onset_date", "date"),
        Column(gettext_lazy("sampled at"), "sampled_at", "datetime"),
        Column(gettext_lazy("confirmed at"), "confirmed_at", "datetime"),
        Column(gettext_lazy("District"), "district__name"),
        Column(gettext_lazy("Grid"), "org_unit__name"),
        Column(gettext_lazy("Grid code"), "org_unit__code"),
        *_pii("person__"),
        Column(gettext_lazy("Sex"), "person__sex", "choice", Sex),
        Column(gettext_lazy("ID type"), "person__id_type", "choice", IdType),
        Column(gettext_lazy("treating hospital"), "hospital"),
        Column(gettext_lazy("all close contacts identified at"), "contacts_identified_at", "datetime"),
        Column(gettext_lazy("all close contacts under control at"), "contacts_controlled_at", "datetime"),
    ),
)

CONTACTS = ExportKind(
    slug="contacts",
    title=gettext_lazy("Contacts"),
    perm=Perm.CASES_VIEW,
    rows=lambda actor: contact_list(actor=actor).prefetch_related(None),
    date_field="last_exposure",
    date_label=gettext_lazy("last exposure"),
    order=("last_exposure", "id"),
    choice_filters={"status": ContactStatus},
    columns=(
        Column(gettext_lazy("Case number"), "source_case__number"),
        Column(gettext_lazy("Kind"), "kind", "choice", ContactKind),
        Column(gettext_lazy("Status"), "status", "choice", ContactStatus),
        Column(gettext_lazy("exposure"), "exposure_type", "choice", ExposureType),
        Column(gettext_lazy("first exposure"), "first_exposure", "datetime"),
        Column(gettext_lazy("last exposure"), "last_exposure", "datetime"),
        Column(gettext_lazy("found by"), "discovered_by", "choice", DiscoveredBy),
        Column(gettext_lazy("confirmed or dismissed at"), "decided_at", "datetime"),
        Column(gettext_lazy("Grid"), "org_unit__name"),
        Column(gettext_lazy("Grid code"), "org_unit__code"),
        *_pii("person__"),
        Column(gettext_lazy("became case"), "became_case__number"),
    ),
)

ORDERS = ExportKind(
    slug="orders",
    title=gettext_lazy("Quarantine orders"),
    perm=Perm.QUARANTINE_VIEW,
    rows=lambda actor: order_list(actor=actor, status=""),
    date_field="day_one",
    date_label=gettext_lazy("day 1"),
    order=("day_one", "id"),
    choice_filters={"status": OrderStatus},
    columns=(
        *_pii("person__"),
        Column(gettext_lazy("Kind"), "kind", "choice", OrderKind),
        Column(gettext_lazy("Status"), "status", "choice", OrderStatus),
        Column(gettext_lazy("protocol"), "protocol"),
        Column(gettext_lazy("last exposure"), "last_exposure", "datetime"),
        Column(gettext_lazy("day 1"), "day_one", "date"),
        Column(gettext_lazy("planned end"), "planned_end", "datetime"),
        Column(gettext_lazy("ended at"), "ended_at", "datetime"),
        Column(gettext_lazy("Site"), "site__name"),
        Column(gettext_lazy("Room"), "room__number"),
        Column(gettext_lazy("Grid"), "org_unit__name"),
        Column(gettext_lazy("Grid code"), "org_unit__code"),
        Column(gettext_lazy("Case number"), "contact__source_case__number"),
    ),
)

EXPORTS: dict[str, ExportKind] = {kind.slug: kind for kind in (CASES, CONTACTS, ORDERS)}


@dataclass(frozen=True)
class ExportJob:
    """One export asked for, checked: what, in which format, narrowed how, masked or not."""

    kind: ExportKind
    fmt: str
    since: date | None = None
    until: date | None = None
    unit: OrgUnit | None = None
    choices: Mapping[str, str] = field(default_factory=dict)
    full: bool = False

    def file_name(self) -> str:
        """``cases-2026-11-29.csv``, with the unit's code when narrowed to one (codes are alphanumeric)."""
        unit = f"-{self.unit.code}" if self.unit is not None else ""
        return f"{self.kind.slug}{unit}-{timezone.localdate():%Y-%m-%d}.{self.fmt}"

    def filters(self) -> dict[str, Any]:
        """The filters as the audit trail records them."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "org_unit": self.unit.code if self.unit is not None else None,
            **self.choices,
        }


def export_job(*, actor: Any, kind: str, fmt: str, params: Mapping[str, str]) -> ExportJob:
    """Check an export request: ``Invalid`` naming each bad field (kind, format, since, until,
    org_unit, a choice, full), ``NotFound`` for a kind or unit outside scope, ``Forbidden`` for
    a full export without ``people.reveal`` over all of it."""
    spec = EXPORTS.get(kind)
    errors: dict[str, list[str]] = {}
    if spec is None:
        errors["kind"] = [_("Choose cases, contacts or quarantine orders.")]
    if fmt not in FORMATS:
        errors["format"] = [_("Choose CSV or Excel.")]
    since, until = _date(params, "since", errors), _date(params, "until", errors)
    if since and until and until < since:
        errors["until"] = [_("The end date is before the start date.")]
    unit_text = params.get("org_unit", "").strip()
    if unit_text and not unit_text.isdigit():
        errors["org_unit"] = [_("Choose an org unit from the list.")]
    full_text = params.get("full", "").strip()
    if full_text not in {"", "0", "1"}:
        errors["full"] = [_("Choose masked or full.")]
    choices: dict[str, str] = {}
    for name, options in (spec.choice_filters if spec else {}).items():
        value = params.get(name, "").strip()
        if value and value not in options.values:
            errors[name] = [_("Choose a value from the list.")]
        elif value:
            choices[name] = value
    if errors or spec is None:
        raise Invalid(errors)
    if not can(actor, spec.perm):
        raise NotFound("export")
    unit = None
    if unit_text:
        unit = visible_get(actor, OrgUnit.objects.all(), perm=spec.perm, pk=int(unit_text), what="org unit")
    job = ExportJob(
        kind=spec, fmt=fmt, since=since, until=until, unit=unit, choices=choices, full=full_text == "1"
    )
    if job.full and not may_reveal(actor=actor, kind=spec, unit=unit):
        raise Forbidden(_("Your role may not export full ID numbers and phones for all of these rows."))
    return job


def may_reveal(*, actor: Any, kind: ExportKind, unit: OrgUnit | None) -> bool:
    """Whether ``actor`` holds ``people.reveal`` over everything the export may hold: ``unit``
    when given, else every unit of their scope for the kind (and anywhere, for a superuser)."""
    if unit is not None:
        return can(actor, Perm.PEOPLE_REVEAL, unit)
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return True
    roots = scope_roots(actor, str(kind.perm))
    return bool(roots) and all(can(actor, Perm.PEOPLE_REVEAL, root) for root in roots)


def _date(params: Mapping[str, str], name: str, errors: dict[str, list[str]]) -> date | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def export_rows(*, actor: Any, job: ExportJob) -> QuerySet[Any]:
    """The export's rows as ``values()`` dicts in a stable order, not yet read."""
    spec = job.kind
    qs = spec.rows(actor)
    if job.since or job.until:
        qs = qs.filter(**_date_range(qs, spec.date_field, job.since, job.until))
    if job.unit is not None:
        paths = qs.model.scope_path
        lookups = (paths,) if isinstance(paths, str) else paths
        subtree = Q()
        for lookup in lookups:
            subtree |= Q(**{f"{lookup}__startswith": job.unit.path})
        qs = qs.filter(subtree)
    if job.choices:
        qs = qs.filter(**job.choices)
    return qs.order_by(*spec.order).values(*_fields(spec.columns, full=job.full))


def export_read(rows: QuerySet[Any]) -> Iterator[Mapping[str, Any]]:
    """The rows, read ``CHUNK_ROWS`` at a time as they are consumed."""
    return rows.iterator(chunk_size=CHUNK_ROWS)


def _date_range(qs: QuerySet[Any], name: str, since: date | None, until: date | None) -> dict[str, Any]:
    """Inclusive local dates as lookups on a date or a datetime column."""
    is_datetime = qs.model._meta.get_field(name).get_internal_type() == "DateTimeField"
    tz = timezone.get_current_timezone()
    bounds: dict[str, Any] = {}
    if since:
        bounds[f"{name}__gte"] = datetime.combine(since, time.min, tzinfo=tz) if is_datetime else since
    if until:
        end = until + timedelta(days=1)
        bounds[f"{name}__lt"] = datetime.combine(end, time.min, tzinfo=tz) if is_datetime else end
    return bounds


# The person's field each PII column reads, (masked, full): a masked export never reads ciphertext.
PII_SOURCE = {
    "name": ("name", "name"),
    "id_number": ("id_number_masked", "id_number_cipher"),
    "phone": ("phone_masked", "phone_cipher"),
}


def _source(column: Column, *, full: bool) -> str:
    """The ``values()`` key a column reads."""
    pair = PII_SOURCE.get(column.kind)
    return column.field + pair[full] if pair else column.field


def _fields(columns: tuple[Column, ...], *, full: bool) -> list[str]:
    return list(dict.fromkeys(_source(c, full=full) for c in columns))


def export_headers(job: ExportJob) -> list[str]:
    """The column headers in the active language."""
    return [capfirst(str(c.header)) for c in job.kind.columns]


def row_maker(job: ExportJob, *, excel: bool) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A function from a ``values()`` dict to the written row. Labels and the time zone are taken
    now, in the request, not when a streamed response is read later."""
    tz = timezone.get_current_timezone()
    plan: list[tuple[str, Callable[[Any], Any]]] = []
    for column in job.kind.columns:
        plan.append((_source(column, full=job.full), _converter(column, full=job.full, excel=excel, tz=tz)))

    def row(values: Mapping[str, Any]) -> list[Any]:
        return [convert(values[key]) for key, convert in plan]

    return row


def _converter(column: Column, *, full: bool, excel: bool, tz: Any) -> Callable[[Any], Any]:
    text = _excel_text if excel else _csv_text
    if column.kind == "choice" and column.choices is not None:
        labels = {value: str(label) for value, label in column.choices.choices}
        return lambda v: labels.get(v, v or "")
    if column.kind == "date":
        return (lambda v: v) if excel else (lambda v: v.isoformat() if v else "")
    if column.kind == "datetime":
        if excel:
            return lambda v: v.astimezone(tz).replace(tzinfo=None, microsecond=0) if v else None
        return lambda v: f"{v.astimezone(tz):%Y-%m-%d %H:%M}" if v else ""
    if column.kind == "name":
        return (lambda v: text(v)) if full else (lambda v: text(mask_name(v)))
    if column.kind in {"id_number", "phone"} and full:
        return lambda v: text(decrypt(v)) if v else ""
    return text


def _csv_text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _excel_text(value: Any) -> Any:
    if value is None or value == "":
        return None
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith(FORMULA_STARTS):
        return ("s", text)  # made a string cell by the writer, never a formula
    return text


def export_audit(*, actor: Any, job: ExportJob, rows: int, action: str = "") -> None:
    """The one audit event of an export (see the module's rules); ``action`` for another event
    about the same export (the download of a file written before)."""
    action = action or ("dashboard.export.unmasked" if job.full else "dashboard.export")
    unit = job.unit or _scope_unit(actor, job.kind)
    audit_record(
        actor=actor,
        action=action,
        target=unit if unit is not None else actor,
        org_unit=unit,
        after={"kind": job.kind.slug, "format": job.fmt, "filters": job.filters(), "rows": rows},
    )


def _scope_unit(actor: Any, kind: ExportKind) -> OrgUnit | None:
    """The smallest unit holding all of the actor's scope for ``kind`` (the tree's root for a
    superuser without roles), so the audit event is seen by whoever oversees that scope."""
    roots = scope_roots(actor, str(kind.perm)) or list(OrgUnit.objects.filter(parent=None)[:2])
    if len(roots) == 1:
        return roots[0]
    chains = [root.path.rstrip("/").split("/") for root in roots]
    common: list[str] = []
    for codes in zip(*chains, strict=False):
        if len(set(codes)) != 1:
            break
        common.append(codes[0])
    return OrgUnit.objects.filter(path="/".join(common) + "/").first() if common else None
