"""The daily report: ``fangkong report`` and the dashboard's button both give a real PDF (pdfium
opens it and draws page 1 with the charts' colours), its text says the day and the headline
numbers, the charts come out as PNG, and it is scoped like the dashboard."""

from __future__ import annotations

import io
import logging
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pypdfium2 as pdfium
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from fangkong.dashboard import curves, report, report_charts
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DAY = NOW.date()
CONFIRMED_RED = (200, 16, 46)  # #c8102e, the dashboard's colour for confirmed cases
CANNED_RT = {"mean": 1.23, "quantile_025": 0.8, "quantile_975": 1.7, "reason": ""}


def _engine_rt_runs() -> bool:
    try:
        from fangkong.dashboard import rt_bridge

        days = [date(2026, 1, 1) + timedelta(days=n) for n in range(30)]
        rt_bridge.estimate(days=days, local=[1] * 30, imported=[0] * 30, since=days[10])
    except (ImportError, TypeError, AttributeError):
        return False
    return True


def _canned_rt(filters: Any) -> dict[str, Any]:
    windows = [
        {**CANNED_RT, "t_end": day.isoformat(), "mean": 1.0 + i / 100}
        for i, day in enumerate(filters.days[6:])
    ]
    windows[-1] = {**windows[-1], **CANNED_RT}
    return {"windows": windows, "last": windows[-1], "reason": ""}


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def rt_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """``engine.rt`` is being written beside this report; until the dashboard's Rt runs, the
    report is drawn with a canned Rt (the report only formats what ``rt_series`` returns)."""
    if not _engine_rt_runs():
        monkeypatch.setattr(curves, "rt_series", _canned_rt)


@pytest.fixture
def outbreak(tree, epidemiologist):
    """Today: 3 infections and a suspected case in the east district, 1 infection in the west;
    one more infection in the east two days ago."""
    far = user_with_role("epidemiologist", tree.other_district, username="far")
    plan = [
        (tree.grid_a, "confirmed", 2),
        (tree.grid_a, "confirmed", 3),
        (tree.grid_b, "asymptomatic", 4),
        (tree.grid_a, "suspected", 1),
        (tree.grid_a, "confirmed", 50),
        (tree.grid_far, "confirmed", 5),
    ]
    for grid, classification, hours_ago in plan:
        actor = far if grid == tree.grid_far else epidemiologist
        make_case(actor=actor, grid=grid, classification=classification, hours_ago=hours_ago)


def _open(pdf: bytes) -> pdfium.PdfDocument:
    assert pdf.startswith(b"%PDF-")
    document = pdfium.PdfDocument(pdf)
    assert len(document) >= 1
    return document


def _text(document: pdfium.PdfDocument) -> str:
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def _red_pixels(image: Image.Image) -> int:
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    return int((np.abs(pixels - np.array(CONFIRMED_RED)).max(axis=2) < 30).sum())


def test_command_writes_a_real_pdf_with_the_day_its_figures_and_charts(outbreak, tree, tmp_path: Path):
    out, charts = tmp_path / "report.pdf", tmp_path / "charts"
    printed = io.StringIO()
    call_command(
        "dashboard_report", "--date", DAY.isoformat(), "--out", str(out), "--charts", str(charts), "--lang", "en",
        stdout=printed,
    )  # fmt: skip
    document = _open(out.read_bytes())
    assert printed.getvalue().strip() == f"{out} ({len(document)} pages)"
    page = np.asarray(document[0].render(scale=1).to_pil().convert("L"))
    assert (page < 245).mean() > 0.03, "page 1 is (nearly) blank"
    assert _red_pixels(document[0].render(scale=1).to_pil()) > 200, "no confirmed bars on page 1"
    text = _text(document)
    assert f"Daily epidemic report: {tree.city.name}" in text  # the whole tree: its top unit
    assert re.search(rf"New infections on {DAY.isoformat()}\s+4\b", text), text
    assert re.search(r"New infections in the 28 days\s+5\b", text), text
    assert tree.other_district.name in text
    for name in ("epi-curve.png", "rt.png", "districts.png"):
        data = (charts / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert Image.open(io.BytesIO(data)).size[0] > 600, name


def test_the_report_is_chinese_by_default_and_written_under_var(outbreak, tree, settings, tmp_path: Path):
    settings.VAR_DIR = tmp_path
    call_command("dashboard_report", "--date", DAY.isoformat(), stdout=io.StringIO())
    text = _text(_open((tmp_path / "reports" / f"report-{DAY}.pdf").read_bytes()))
    assert tree.city.name in text and DAY.isoformat() in text
    assert "东区" in text  # the PDF's Chinese text is real text, not boxes


def test_rt_headline_shows_the_estimate_and_its_interval_or_why_there_is_none(outbreak, monkeypatch):
    monkeypatch.setattr(curves, "rt_series", _canned_rt)
    text = _text(_open(report.daily_report(actor=_superuser(), day=DAY)))
    assert "1.23" in text and "0.80–1.70" in text
    monkeypatch.setattr(
        curves, "rt_series", lambda f: {"windows": [], "last": None, "reason": "too few local cases"}
    )
    text = _text(_open(report.daily_report(actor=_superuser(), day=DAY)))
    assert "too few local cases" in text


def test_a_user_sees_their_district_and_a_unit_narrows_it(outbreak, tree, epidemiologist, tmp_path: Path):
    out = tmp_path / "epi.pdf"
    call_command(
        "dashboard_report", "--date", DAY.isoformat(), "--user", "epi", "--out", str(out), "--lang", "en",
        stdout=io.StringIO(),
    )  # fmt: skip
    text = _text(_open(out.read_bytes()))
    assert re.search(rf"New infections on {DAY.isoformat()}\s+3\b", text), text
    assert tree.other_district.name not in text
    call_command(
        "dashboard_report", "--date", DAY.isoformat(), "--unit", tree.other_district.code, "--out", str(out),
        "--lang", "en", stdout=io.StringIO(),
    )  # fmt: skip
    text = _text(_open(out.read_bytes()))
    assert f"Daily epidemic report: {tree.other_district.name}" in text
    assert re.search(rf"New infections on {DAY.isoformat()}\s+1\b", text), text


def test_command_refuses_bad_options_naming_them(outbreak, tree, epidemiologist):
    with pytest.raises(CommandError, match="--date"):
        call_command("dashboard_report", "--date", "2026-13-01")
    with pytest.raises(CommandError, match="--unit"):
        call_command("dashboard_report", "--date", DAY.isoformat(), "--unit", "nope")
    with pytest.raises(CommandError, match="--unit"):  # another district is outside the user's scope
        call_command("dashboard_report", "--unit", tree.other_district.code, "--user", "epi")
    with pytest.raises(CommandError, match="--user"):
        call_command("dashboard_report", "--date", DAY.isoformat(), "--user", "nobody")
    with pytest.raises(CommandError, match="--date"):  # a day still to come
        call_command("dashboard_report", "--date", (timezone.localdate() + timedelta(days=1)).isoformat())


def test_button_returns_the_pdf_inline_scoped_like_the_dashboard(
    outbreak, tree, epidemiologist, client: Client
):
    client.force_login(epidemiologist)
    response = client.get("/dashboard/report/", {"date": DAY.isoformat(), "unit": tree.district.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="report-{DAY}.pdf"'
    document = _open(response.content)
    assert _red_pixels(document[0].render(scale=1).to_pil()) > 200
    assert DAY.isoformat() in _text(document)
    assert (
        client.get(
            "/dashboard/report/", {"date": DAY.isoformat(), "unit": tree.other_district.pk}
        ).status_code
        == 404
    )
    bad = client.get("/dashboard/report/", {"date": "2026-11-31"})
    assert bad.status_code == 422 and bad["Content-Type"].startswith("text/plain")
    assert bad.content.decode().startswith("date:")
    ahead = client.get(
        "/dashboard/report/", {"date": (timezone.localdate() + timedelta(days=400)).isoformat()}
    )
    assert ahead.status_code == 422 and ahead.content.decode().startswith("date:")


def test_button_needs_the_right_to_see_cases(tree, client: Client):
    client.force_login(user_with_role("hotline", tree.district, username="hotline"))
    assert client.get("/dashboard/report/", {"date": DAY.isoformat()}).status_code == 403


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # DejaVu stands in for a CJK font
def test_without_a_cjk_font_the_charts_are_drawn_in_english(outbreak, monkeypatch, caplog, tmp_path: Path):
    drawn: list[dict[str, str]] = []
    epi_chart = report_charts._epi_chart
    monkeypatch.setattr(
        report_charts, "_epi_chart", lambda epi, words: drawn.append(words) or epi_chart(epi, words)
    )
    monkeypatch.setattr(report_charts, "cjk_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger="fangkong.dashboard.report"):
        pdf = report.daily_report(actor=_superuser(), day=DAY, charts_dir=tmp_path)  # zh-hans is active
    assert "No CJK font" in caplog.text
    assert drawn[-1]["confirmed"] == "Confirmed"
    monkeypatch.setattr(report_charts, "cjk_font", lambda: "DejaVu Sans")  # any font: the texts stay Chinese
    report.daily_report(actor=_superuser(), day=DAY)
    assert drawn[-1]["confirmed"] == "确诊"
    assert _open(pdf) and (tmp_path / "districts.png").read_bytes().startswith(b"\x89PNG")
    rows = [{"district": "东区"}, {"district": "Westside"}]
    assert report_charts.district_names(rows, drawable=False) == ["#1", "Westside"]
    assert report_charts.district_names(rows, drawable=True) == ["东区", "Westside"]


def _superuser() -> Any:
    from fangkong.dashboard.management.commands.dashboard_report import WholeTree

    return WholeTree()
