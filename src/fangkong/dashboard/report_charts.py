"""The daily report's charts (matplotlib, PNG): the epidemic curve by report date stacked by
classification with the cumulative infections, Rt with its 95 % band, new cases by district.

They need a CJK TrueType font (``fonts-wqy-microhei``); without one their texts are drawn in
English, and names without a glyph are numbered ("#1") as in the district table, rather than
drawn as boxes. matplotlib's rc settings are global, so one report draws at a time.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
from django.utils import translation
from django.utils.translation import gettext as _
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fangkong.dashboard.filters import Filters
from fangkong.dashboard.panels import labels

logger = logging.getLogger("fangkong.dashboard.report")

COLOURS = {"confirmed": "#c8102e", "asymptomatic": "#9e77ed", "suspected": "#f79009"}  # the dashboard's
STACKED = ("confirmed", "asymptomatic", "suspected")
INFECTIONS = ("confirmed", "asymptomatic")
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
CJK_FILES = (  # where Debian puts them, in case matplotlib's font cache predates the install
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CHART_FILES = {"epi": "epi-curve.png", "rt": "rt.png", "districts": "districts.png"}
MAX_DISTRICTS = 15


@cache
def cjk_font() -> str | None:
    """The family name of an installed font with Simplified Chinese, for the charts."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    for path in CJK_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


_DRAWING = threading.Lock()


def charts_draw(data: dict[str, Any], filters: Filters) -> dict[str, bytes]:
    """The three charts as PNG, keyed like :data:`CHART_FILES`."""
    font = cjk_font()
    if font is None:
        logger.warning(
            "No CJK font for the report's charts (apt-get install fonts-wqy-microhei): "
            "their texts are drawn in English."
        )
    english = translation.override("en") if font is None else contextlib.nullcontext()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    style = matplotlib.rc_context(
        {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}
    )
    with _DRAWING, english, style:  # rc settings are global: one report draws at a time
        words = {
            **labels(),
            "epi": f"{_('Epidemic curve')} ({_('by report')})",
            "rt_title": _("Reproduction number Rt"),
            "districts": _("New cases by district"),
            "no_rt": _("No estimate of Rt"),
            "no_cases": _("No cases in these days."),
        }
        names = district_names(data["districts"], drawable=font is not None)
        return {
            "epi": _epi_chart(data["epi"], words),
            "rt": _rt_chart(data["rt"], filters, words),
            "districts": _districts_chart(data["districts"], names, words),
        }


def district_names(rows: list[dict[str, Any]], *, drawable: bool) -> list[str]:
    return [
        row["district"] if drawable or row["district"].isascii() else f"#{i}" for i, row in enumerate(rows, 1)
    ]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _epi_chart(epi: dict[str, Any], words: dict[str, str]) -> bytes:
    figure = Figure(figsize=(8, 3.4))
    bars = figure.add_subplot()
    xs = list(range(len(epi["days"])))
    bottom = [0] * len(xs)
    for name in STACKED:
        values = epi["series"][name]
        bars.bar(xs, values, bottom=bottom, color=COLOURS[name], label=words[name], width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    line = bars.twinx()
    line.plot(xs, epi["cumulative"], color="#344054", linewidth=1.8, label=words["cumulative"])
    line.yaxis.set_major_locator(MaxNLocator(integer=True))
    line.set_ylim(bottom=0)
    ticks = sorted(range(len(xs) - 1, -1, -7))  # weekly, ending on the day reported
    bars.set_xticks(ticks, [epi["days"][i][5:] for i in ticks])
    handles = bars.get_legend_handles_labels()[0] + line.get_legend_handles_labels()[0]
    bars.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    bars.set_title(words["epi"])
    return _png(figure)


def _rt_chart(rt: dict[str, Any], filters: Filters, words: dict[str, str]) -> bytes:
    figure = Figure(figsize=(8, 2.8))
    axes = figure.add_subplot()
    windows = [w for w in rt["windows"] if w["mean"] is not None]
    if windows:
        days = [(date.fromisoformat(w["t_end"]) - filters.since).days for w in windows]
        axes.fill_between(
            days,
            [w["quantile_025"] for w in windows],
            [w["quantile_975"] for w in windows],
            color="#b2ddff",
            label=words["band"],
        )
        axes.plot(days, [w["mean"] for w in windows], color="#175cd3", linewidth=1.8, label=words["rt"])
        axes.legend(loc="best", fontsize=8, frameon=False)
    else:
        reason = rt["reason"] or (rt["windows"][-1]["reason"] if rt["windows"] else "")
        text = f"{words['no_rt']}: {reason}" if reason else words["no_rt"]
        axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#475467")
    axes.axhline(1, color="#98a2b3", linestyle="--", linewidth=1)
    last = len(filters.days) - 1
    ticks = sorted(range(last, -1, -7))  # as on the epidemic curve
    axes.set_xticks(ticks, [filters.days[i].strftime("%m-%d") for i in ticks])
    axes.set_xlim(0, last)
    axes.set_ylim(bottom=0)
    axes.set_title(words["rt_title"])
    return _png(figure)


def _districts_chart(rows: list[dict[str, Any]], names: list[str], words: dict[str, str]) -> bytes:
    shown = rows[:MAX_DISTRICTS]
    figure = Figure(figsize=(8, 1.4 + 0.35 * max(len(shown), 2)))
    axes = figure.add_subplot()
    if shown:
        ys = list(range(len(shown)))[::-1]  # the most cases on top
        left = [0] * len(shown)
        for name in STACKED:
            values = [row[name] for row in shown]
            axes.barh(ys, values, left=left, color=COLOURS[name], label=words[name], height=0.7)
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(ys, names[: len(shown)])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="lower right", fontsize=8, frameon=False)
    else:
        axes.text(0.5, 0.5, words["no_cases"], ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
    axes.set_title(words["districts"])
    return _png(figure)


# The PDF ------------------------------------------------------------------------------------
