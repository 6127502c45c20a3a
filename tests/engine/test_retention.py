"""Location data past the look-back is deleted by day; a search never reaches before it."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fangkong.engine.retention import purge_older_than, search_range

SH = ZoneInfo("Asia/Shanghai")


def _dataset(root: Path, days: list[str]) -> Path:
    for part in ("pings", "checkins"):
        for day in days:
            folder = root / part / f"day={day}"
            folder.mkdir(parents=True)
            (folder / "part-0.parquet").write_bytes(b"x" * 10)
    (root / "venues.parquet").write_bytes(b"v")
    return root


def test_days_before_the_cutoff_go_and_the_rest_stays(tmp_path):
    data = _dataset(tmp_path, ["2022-03-01", "2022-03-02", "2022-03-15", "2022-03-16"])
    summary = purge_older_than(dataset=data, older_than_days=14, today=date(2022, 3, 16))
    assert summary.days_removed == ["2022-03-01"]  # 03-02 is the first day kept (16 - 14)
    assert summary.files_removed == 2 and summary.bytes_removed == 20
    kept = sorted(p.name for p in (data / "pings").iterdir())
    assert kept == ["day=2022-03-02", "day=2022-03-15", "day=2022-03-16"]
    assert (data / "venues.parquet").exists()
    again = purge_older_than(dataset=data, older_than_days=14, today=date(2022, 3, 16))
    assert again.days_removed == [] and again.files_removed == 0


def test_only_a_dataset_is_purged(tmp_path):
    with pytest.raises(ValueError, match="not a mobility dataset"):
        purge_older_than(dataset=tmp_path, older_than_days=14, today=date(2022, 3, 16))


def test_the_command(tmp_path):
    data = _dataset(tmp_path / "d", ["2022-03-01", "2022-03-16"])
    run = subprocess.run(  # noqa: S603 — our own module with fixed arguments
        [
            sys.executable,
            "-m",
            "fangkong.engine.retention",
            "--dataset",
            str(data),
            "--older-than",
            "14",
            "--today",
            "2022-03-16",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0 and '"days_removed": ["2022-03-01"]' in run.stdout


def test_a_range_before_the_lookback_is_clamped_and_says_so():
    now = datetime(2022, 3, 16, 12, 0, tzinfo=SH)
    asked = search_range(
        start=now - timedelta(days=20), end=now + timedelta(days=1), lookback=timedelta(days=14), now=now
    )
    assert (asked.start, asked.end, asked.clamped) == (now - timedelta(days=14), now, True)
    inside = search_range(start=now - timedelta(days=3), end=now, lookback=timedelta(days=14), now=now)
    assert not inside.clamped and inside.start == now - timedelta(days=3)
    with pytest.raises(ValueError, match="empty"):
        search_range(
            start=now - timedelta(days=30), end=now - timedelta(days=20), lookback=timedelta(days=14), now=now
        )
    with pytest.raises(ValueError, match="timezone"):
        search_range(start=datetime(2022, 3, 1), end=now, lookback=timedelta(days=14), now=now)
