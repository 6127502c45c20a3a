"""The dashboard's filters: a date range and an org unit, within what the actor may see.

The range is local days ``[since, until]`` (default: the 28 days up to today). The unit, when
given, must be visible to the actor (else 404, as everywhere); without one, the dashboard covers
everything the actor sees. Every figure reads its rows through :func:`scoped` so that a district
commander sees their district and nothing else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.common.bounds import ascii_int, day_in_range
from fangkong.common.errors import Invalid
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.orgs.selectors import org_unit_get

M = TypeVar("M", bound=Model)

DEFAULT_DAYS = 28
MAX_DAYS = 366


@dataclass(frozen=True)
class Filters:
    """Who is looking, at which days and which part of the tree."""

    actor: Any
    since: date
    until: date
    unit: OrgUnit | None = None
    memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    @property
    def start(self) -> datetime:
        """Local midnight opening the range."""
        return datetime.combine(self.since, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        """Local midnight closing the range (exclusive)."""
        return datetime.combine(
            self.until + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for CSV links and the form)."""
        params = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.unit is not None:
            params["unit"] = str(self.unit.pk)
        return params


def filters_from(
    *, actor: Any, since: str = "", until: str = "", unit: str = "", today: date | None = None
) -> Filters:
    """Parse the filter parameters; a bad value is refused naming its field."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    parsed: dict[str, date | None] = {}
    for name, raw in (("since", since), ("until", until)):
        try:
            parsed[name] = date.fromisoformat(raw) if raw.strip() else None
        except ValueError:
            errors[name] = [_("Write the date as 2022-05-03.")]
            continue
        day = parsed[name]
        if day is not None and not day_in_range(day):
            errors[name] = [_("Choose a day between 2000-01-01 and 2100-12-31.")]
            parsed[name] = None
    if errors:
        raise Invalid(errors)
    end = parsed.get("until") or today
    start = parsed.get("since") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        errors["until"] = [_("The end of the range is before its start.")]
    if not errors and (end - start).days >= MAX_DAYS:
        errors["since"] = [_("Choose a range of at most %(n)d days.") % {"n": MAX_DAYS}]
    chosen = None
    if unit.strip():
        unit_id = ascii_int(unit)
        if unit_id is None:
            errors["unit"] = [_("Choose an org unit from the list.")]
        else:
            chosen = org_unit_get(actor=actor, unit_id=unit_id, perm=Perm.CASES_VIEW)  # 404 outside
    if errors:
        raise Invalid(errors)
    return Filters(actor=actor, since=start, until=end, unit=chosen)


def scoped(filters: Filters, qs: QuerySet[M], *, perm: Perm, path: str) -> QuerySet[M]:
    """``qs`` cut to the actor's scope for ``perm`` and, with a unit, to the unit's subtree
    (``path`` is the lookup to the owning unit's path, e.g. ``org_unit__path``)."""
    qs = visible(filters.actor, qs, perm=perm)
    if filters.unit is not None:
        qs = qs.filter(Q(**{f"{path}__startswith": filters.unit.path}))
    return qs


UNITS_AS_LIST = 20_000  # more visible units than this: cut by a join on their paths instead


def _parameters_allowed() -> int:
    """How many parameters one query may carry: SQLite's own limit (32,766 since 3.32; Django
    assumes the old 999), else the backend's (none: no limit of ours to mind)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return connection.features.max_query_params or UNITS_AS_LIST + 100


def scoped_by_unit(filters: Filters, qs: QuerySet[M], *, perm: Perm, via: str = "org_unit") -> QuerySet[M]:
    """:func:`scoped` for a model whose scope is its unit ``via`` (``scope_path`` is
    ``<via>__path``), cut by the keys of the units in view instead of a join on their paths: the
    same rows, in a form a covering index answers on its own."""
    assert qs.model.scope_path == f"{via}__path", qs.model  # type: ignore[attr-defined]
    if getattr(filters.actor, "is_superuser", False) and filters.actor.is_active and filters.unit is None:
        return qs
    units = visible(filters.actor, OrgUnit.objects.all(), perm=perm)
    if filters.unit is not None:
        units = units.filter(path__startswith=filters.unit.path)
    most = min(UNITS_AS_LIST, _parameters_allowed() - 100)
    keys = list(units.values_list("pk", flat=True)[: most + 1])
    if len(keys) > most:
        return scoped(filters, qs, perm=perm, path=f"{via}__path")
    return qs.filter(**{f"{via}_id__in": keys})


T = TypeVar("T")


def memoised(filters: Filters, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per filters object (one view): figures that share rows read them once."""
    if key not in filters.memo:
        filters.memo[key] = compute()
    return filters.memo[key]  # type: ignore[no-any-return]


def unit_choices(*, actor: Any) -> QuerySet[OrgUnit]:
    """The units a dashboard may be narrowed to: every visible unit above the grids."""
    return visible(actor, OrgUnit.objects.exclude(level=Level.GRID), perm=Perm.CASES_VIEW).order_by("path")
