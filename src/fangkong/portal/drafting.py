"""The numbers and text of a bulletin's first draft, computed from the cases of one day.

A day is the local calendar day in the active profile's timezone. A case counts as new on the
day it *became* what it is counted as: confirmed on its ``confirmed_at`` day, asymptomatic on its
``asymptomatic_at`` day (so an asymptomatic infection confirmed later is counted again that day,
as 转确诊, the way bulletins report it). Totals to date count cases that are confirmed or
asymptomatic now, by the end of the day. Only the itinerary entries flagged ``publish`` of the
day's new cases appear, and of them only place, time and transport number: never anything of the
person (name, ID, phone, address) and never the seat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from fangkong.cases.models import Case, Classification, ItineraryEntry
from fangkong.common.protocol import active_profile
from fangkong.orgs.models import OrgUnit

COUNTED = (Classification.CONFIRMED, Classification.ASYMPTOMATIC)


@dataclass
class DayFigures:
    """What a bulletin reports for ``day`` in ``unit``'s subtree."""

    day: date
    unit_name: str
    new: Counter[str] = field(default_factory=Counter)  # classification → count
    by_district: dict[str, Counter[str]] = field(default_factory=dict)  # district name → counts
    totals: Counter[str] = field(default_factory=Counter)
    places: list[tuple[datetime, datetime | None, str, str]] = field(default_factory=list)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight to midnight of ``day`` in the profile's timezone."""
    zone = ZoneInfo(active_profile().timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def day_figures(*, unit: OrgUnit, day: date) -> DayFigures:
    """Count new cases by district and classification, totals to date, and published places."""
    start, end = day_bounds(day)
    cases = Case.objects.filter(org_unit__path__startswith=unit.path)
    figures = DayFigures(day=day, unit_name=unit.name)
    new_ids: set[int] = set()
    stamps = (("confirmed_at", Classification.CONFIRMED), ("asymptomatic_at", Classification.ASYMPTOMATIC))
    for stamp, classification in stamps:
        rows = cases.filter(**{f"{stamp}__gte": start, f"{stamp}__lt": end}).values_list(
            "pk", "district__name"
        )
        for pk, district in rows:
            new_ids.add(pk)
            figures.new[classification] += 1
            figures.by_district.setdefault(district, Counter())[classification] += 1
    figures.totals[Classification.CONFIRMED] = cases.filter(
        classification=Classification.CONFIRMED, confirmed_at__lt=end
    ).count()
    figures.totals[Classification.ASYMPTOMATIC] = cases.filter(
        classification=Classification.ASYMPTOMATIC, asymptomatic_at__lt=end
    ).count()
    entries = (
        ItineraryEntry.objects.filter(publish=True, investigation__case_id__in=new_ids)
        .order_by("start_at", "id")
        .values_list("start_at", "end_at", "place", "transport_number")
    )
    seen: set[tuple[datetime, datetime | None, str, str]] = set()
    for entry in entries:  # two cases at one place at one time: one line
        if entry not in seen:
            seen.add(entry)
            figures.places.append(entry)
    return figures


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(active_profile().timezone))


def _counts(counts: Counter[str]) -> str:
    return _("%(confirmed)d confirmed, %(asymptomatic)d asymptomatic") % {
        "confirmed": counts[Classification.CONFIRMED],
        "asymptomatic": counts[Classification.ASYMPTOMATIC],
    }


def draft_title(figures: DayFigures) -> str:
    return _("%(unit)s epidemic bulletin for %(day)s") % {
        "unit": figures.unit_name,
        "day": figures.day.isoformat(),
    }


def draft_body(figures: DayFigures) -> str:
    """The plain text of the draft: paragraphs and ``- `` lists, one item a line."""
    lines = [
        _(
            "On %(day)s, %(unit)s reported %(confirmed)d new confirmed case(s) and "
            "%(asymptomatic)d new asymptomatic infection(s)."
        )
        % {
            "day": figures.day.isoformat(),
            "unit": figures.unit_name,
            "confirmed": figures.new[Classification.CONFIRMED],
            "asymptomatic": figures.new[Classification.ASYMPTOMATIC],
        },
        "",
    ]
    if figures.by_district:
        lines.append(_("New cases by district:"))
        for district in sorted(figures.by_district):
            lines.append(f"- {district}: {_counts(figures.by_district[district])}")
        lines.append("")
    lines.append(_("Total to date: %(counts)s.") % {"counts": _counts(figures.totals)})
    if figures.places:
        lines += [
            "",
            _("Places visited by the new cases (please report to your community if you were there):"),
        ]
        for start, end, place, transport in figures.places:
            when = f"{_local(start):%Y-%m-%d %H:%M}"
            if end is not None:
                when += (
                    f"–{_local(end):%H:%M}"
                    if _local(end).date() == _local(start).date()
                    else (f"–{_local(end):%Y-%m-%d %H:%M}")
                )
            lines.append(f"- {when} {place}{f' ({transport})' if transport else ''}")
    return "\n".join(lines)
