"""Filters for the timeliness page."""

from __future__ import annotations

from datetime import timedelta

from django import template

from fangkong.contacts.timeliness import DistrictRow

register = template.Library()


@register.filter
def median_of(row: DistrictRow, stage: str) -> float | None:
    return row.median(stage)


@register.filter
def share_of(row: DistrictRow, stage: str) -> int | None:
    return row.share(stage)


@register.filter
def hours(value: timedelta | None) -> str:
    return f"{value.total_seconds() / 3600:.1f} h" if value is not None else ""
