"""Every chart of the dashboard by name: how its data is computed and how it reads as a table.

The page and the CSV download of a chart call the same function with the same filters, so the
file is exactly what the chart draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fangkong.dashboard import curves, operations
from fangkong.dashboard.filters import Filters
from fangkong.dashboard.testing_panel import (
    coverage_map,
    coverage_map_table,
    mass_testing,
    timeliness_with_recalls,
)

Table = tuple[list[str], list[list[Any]]]


def _records(*header: str) -> Callable[[list[dict[str, Any]]], Table]:
    """Rows of dicts as a table with the columns ``header`` (present even with no rows)."""

    def table(rows: list[dict[str, Any]]) -> Table:
        return list(header), [[row[key] for key in header] for row in rows]

    return table


def _rt_table(rt: dict[str, Any]) -> Table:
    header = ["t_start", "t_end", "mean", "std", "quantile_025", "median", "quantile_975", "reason"]
    return header, [[w.get(key) for key in header] for w in rt["windows"]]


def _doubling_table(doubling: dict[str, Any]) -> Table:
    return ["day", "doubling_days"], [
        list(pair) for pair in zip(doubling["days"], doubling["values"], strict=True)
    ]


def _map_table(geo: dict[str, Any]) -> Table:
    header = ["code", "name", "parent", "cases_7_days", "risk"]
    rows = [
        [f["properties"][k] for k in ("code", "name", "parent", "cases", "risk")] for f in geo["features"]
    ]
    return header, rows


@dataclass(frozen=True)
class Chart:
    data: Callable[[Filters], Any]
    table: Callable[[Any], Table]


CHARTS: dict[str, Chart] = {
    "epi-onset": Chart(lambda f: curves.epi_curve(f, by="onset"), curves.epi_curve_rows),
    "epi-report": Chart(lambda f: curves.epi_curve(f, by="report"), curves.epi_curve_rows),
    "rt": Chart(curves.rt_series, _rt_table),
    "doubling": Chart(curves.doubling_times, _doubling_table),
    "districts": Chart(
        curves.cases_by_district, _records("district", "confirmed", "asymptomatic", "suspected")
    ),
    "map": Chart(operations.community_map, _map_table),
    "timeliness": Chart(
        timeliness_with_recalls, _records("stage", "hours", "cases", "judged", "within", "percent")
    ),
    "occupancy": Chart(operations.occupancy, _records("site", "beds", "taken", "free", "percent")),
    "overdue": Chart(operations.overdue_by_unit, operations.overdue_table),
    "helpdesk": Chart(
        operations.helpdesk_sla, _records("district", "submitted", "called_back", "within", "late", "percent")
    ),
    "coverage-map": Chart(coverage_map, coverage_map_table),
    "testing": Chart(
        mass_testing,
        _records(
            "round", "district", "expected", "sampled", "percent", "resulted", "positive", "waiting", "late"
        ),
    ),
}
