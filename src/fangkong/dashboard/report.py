"""The daily report for the leadership (每日疫情报告): one A4 PDF of a day, and its charts as PNG.

On the report, in the active language, for the 28 days ending on the day (the dashboard's
figures for those filters, so the report says what the dashboard says):

- **Title**: the unit (or the top of the actor's tree), the day, the range and when it was made.
- **Headline numbers**: new infections (confirmed and asymptomatic, by report date) on the day
  and in the 28 days; the latest Rt with its 95 % credible interval, or why there is none; the
  doubling time; beds taken by active quarantine orders; overdue work items.
- **Charts** (matplotlib, PNG): the epidemic curve by report date stacked by classification with
  the cumulative infections; Rt with its 95 % band; new cases by district (with their table).
- **Late work**: overdue work by unit, the 24-hour timeliness KPIs, help-desk call backs in time.

Work is judged at the end of the day, or now when the day is today: an item open now and due
before then is overdue. The PDF text uses reportlab's built-in Simplified Chinese CID font
(STSong-Light, nothing to install). The charts need a CJK TrueType font (``fonts-wqy-microhei``);
without one their texts are drawn in English, and names without a glyph are numbered ("#1") as
in the district table, rather than drawn as boxes.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from fangkong.common.errors import Invalid
from fangkong.dashboard import curves, operations
from fangkong.dashboard.filters import DEFAULT_DAYS, Filters, filters_from
from fangkong.dashboard.panels import labels, panels
from fangkong.dashboard.report_charts import CHART_FILES, INFECTIONS, STACKED, charts_draw
from fangkong.dashboard.testing_panel import mass_testing, timeliness_with_recalls
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots

logger = logging.getLogger(__name__)

PDF_FONT = "STSong-Light"

MARGIN = 16 * mm
WIDTH = A4[0] - 2 * MARGIN


def daily_report(
    *, actor: Any, day: date, unit: OrgUnit | None = None, charts_dir: Path | None = None
) -> bytes:
    """The PDF of ``day`` for ``actor`` (the whole scope, or under ``unit``); see the module for
    what is on it. With ``charts_dir`` the charts are written there too (epi-curve.png, rt.png,
    districts.png). A unit outside the actor's scope is ``NotFound``; a day still to come is
    ``Invalid`` (date): its beds and late work would be today's."""
    if day > timezone.localdate():
        raise Invalid.field("date", _("Choose today or an earlier day: that day has not begun."))
    filters = filters_from(
        actor=actor,
        since=(day - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        until=day.isoformat(),
        unit="" if unit is None else str(unit.pk),
    )
    now = min(timezone.now(), filters.end)
    data: dict[str, Any] = {
        "epi": curves.epi_curve(filters, by="report"),
        "rt": curves.rt_series(filters),
        "doubling": curves.doubling_times(filters),
        "districts": curves.cases_by_district(filters),
        "timeliness": timeliness_with_recalls(filters, now=now),
        "occupancy": operations.occupancy(filters),
        "overdue": operations.overdue_by_unit(filters, now=now),
        "helpdesk": operations.helpdesk_sla(filters, now=now),
        "testing": mass_testing(filters),
    }
    charts = charts_draw(data, filters)
    if charts_dir is not None:
        charts_dir.mkdir(parents=True, exist_ok=True)
        for name, png in charts.items():
            (charts_dir / CHART_FILES[name]).write_bytes(png)
    return _pdf(data, charts, filters)


def page_count(pdf: bytes) -> int:
    """The number of pages of a PDF written by reportlab (its page objects are never compressed)."""
    return len(re.findall(rb"/Type /Page\b", pdf))


def _place(filters: Filters) -> str:
    if filters.unit is not None:
        return filters.unit.name
    if getattr(filters.actor, "is_superuser", False):
        tops = list(OrgUnit.objects.filter(parent__isnull=True).order_by("path"))
    else:
        tops = scope_roots(filters.actor, str(Perm.CASES_VIEW))
    return "、".join(unit.name for unit in tops)


def _styles() -> dict[str, ParagraphStyle]:
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    base = ParagraphStyle("body", fontName=PDF_FONT, fontSize=10, leading=14)
    return {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceBefore=8, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor="#475467"),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "figure": ParagraphStyle("figure", parent=base, fontSize=16, leading=20, textColor="#101828"),
    }


def _text(value: Any) -> str:
    return "—" if value is None else str(value)


def _grid(cells: list[list[Flowable]], widths: list[float], *, head: bool) -> Table:
    table = Table(cells, colWidths=widths, repeatRows=1 if head else 0, hAlign="LEFT")
    rules = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d0d5dd")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if head:
        rules.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f4f7")))
    table.setStyle(TableStyle(rules))
    return table


def _table(
    columns: list[tuple[str, str]], rows: list[dict[str, Any]], styles: dict[str, Any], *, wide: int = 0
) -> Flowable:
    """A table of ``rows`` with ``columns`` (key, heading); column ``wide`` is twice as wide."""
    if not rows:
        return Paragraph(escape(_("Nothing to show for these days.")), styles["body"])
    unit = WIDTH / (len(columns) + 1)
    head = [Paragraph(escape(title), styles["cell"]) for _key, title in columns]
    body = [[Paragraph(escape(_text(row[key])), styles["cell"]) for key, _title in columns] for row in rows]
    return _grid([head, *body], [unit * (2 if i == wide else 1) for i in range(len(columns))], head=True)


def _headline(data: dict[str, Any], filters: Filters, styles: dict[str, Any]) -> Flowable:
    epi, rt = data["epi"], data["rt"]
    today = sum(epi["series"][name][-1] for name in INFECTIONS) if epi["days"] else 0
    if rt["last"]:
        last = rt["last"]
        rt_text = f"{last['mean']:.2f}  (95%: {last['quantile_025']:.2f}–{last['quantile_975']:.2f})"
    else:
        rt_text = f"—  {rt['reason']}" if rt["reason"] else "—"
    doubling = data["doubling"]["last"]
    beds = sum(row["beds"] for row in data["occupancy"])
    taken = sum(row["taken"] for row in data["occupancy"])
    figures = [
        (_("New infections on %(day)s") % {"day": filters.until.isoformat()}, str(today)),
        (_("New infections in the %(n)d days") % {"n": len(filters.days)}, str(epi["cumulative"][-1])),
        (_("Latest Rt (95 per cent credible interval)"), rt_text),
        (_("Doubling time"), "—" if doubling is None else _("%(n)s days") % {"n": doubling}),
        (_("Beds taken by quarantine orders"), f"{taken} / {beds}"),
        (_("Overdue work items"), str(sum(row["overdue"] for row in data["overdue"]))),
    ]
    cells: list[list[Flowable]] = [
        [Paragraph(escape(label), styles["body"]), Paragraph(escape(value), styles["figure"])]
        for label, value in figures
    ]
    return _grid(cells, [WIDTH * 0.45, WIDTH * 0.55], head=False)


def _image(png: bytes) -> Image:
    width, height = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=WIDTH, height=WIDTH * height / width)


def _pdf(data: dict[str, Any], charts: dict[str, bytes], filters: Filters) -> bytes:
    styles = _styles()
    place = _place(filters)
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    title = _("Daily epidemic report: %(place)s") % {"place": place}
    byline = _("%(day)s · the %(n)d days from %(since)s · generated %(at)s") % {
        "day": filters.until.isoformat(),
        "n": len(filters.days),
        "since": filters.since.isoformat(),
        "at": generated,
    }
    tables = {panel.name: panel for panel in panels(data)}
    district_columns = [("rank", "#"), ("district", _("District"))] + [
        (name, labels()[name]) for name in STACKED
    ]
    district_rows = [{"rank": i, **row} for i, row in enumerate(data["districts"], 1)]
    story: list[Flowable] = [
        Paragraph(escape(title), styles["title"]),
        Paragraph(escape(byline), styles["small"]),
        Spacer(1, 4 * mm),
        _headline(data, filters, styles),
        Spacer(1, 4 * mm),
        _image(charts["epi"]),
        _image(charts["rt"]),
        KeepTogether([_image(charts["districts"]), _table(district_columns, district_rows, styles, wide=1)]),
        Paragraph(escape(_("Late work")), styles["title"]),
    ]
    for name in ("overdue", "timeliness", "helpdesk", "testing"):
        panel = tables[name]
        story.append(
            KeepTogether(
                [Paragraph(escape(panel.title), styles["h2"]), _table(panel.columns, panel.rows, styles)]
            )
        )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(PDF_FONT, 8)
        canvas.setFillColor(colors.HexColor("#475467"))
        canvas.drawString(MARGIN, 10 * mm, f"{place} · {filters.until.isoformat()}")
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, _("Page %(n)d") % {"n": doc.page})
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author="fangkong",
        subject=byline,
        lang=translation.get_language() or "zh-hans",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
