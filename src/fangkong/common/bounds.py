"""Bounds on what people and programs type: whole numbers the databases can hold, and days.

Rule: a number typed into a filter, a form or a list of ticked ids is read only when it is ASCII
digits worth at most ``MAX_ID``; anything else counts as absent (a 404 or an empty result, never
an error 500 from a value the database cannot take).
"""

from __future__ import annotations

from datetime import date

MAX_ID = 2**63 - 1  # the largest key the databases hold


def ascii_int(text: str, *, limit: int = MAX_ID) -> int | None:
    """``text`` as a whole number when it is ASCII digits worth at most ``limit``; None for
    anything else (², Arabic-Indic digits, a 25-digit number: absent, never an error)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(limit)):
        return None
    value = int(text)
    return value if value <= limit else None


EARLIEST_DAY = date(2000, 1, 1)  # no record of this platform is older, none is planned later
LATEST_DAY = date(2100, 12, 31)


def day_in_range(value: date) -> bool:
    """Whether ``value`` lies in the days the platform takes (``EARLIEST_DAY``–``LATEST_DAY``):
    a year-1 date is refused at the door, before any date arithmetic can overflow."""
    return EARLIEST_DAY <= value <= LATEST_DAY
