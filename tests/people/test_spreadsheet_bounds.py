"""A crafted spreadsheet cannot stall the worker: the row walk stops at the limit, blank rows
counted, whatever size the workbook declares; a declared size too small loses no row."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from openpyxl import Workbook

from fangkong.people.spreadsheets import SpreadsheetError, read_sheet

COLUMNS = {"name": ("姓名",), "room": ("房号",)}


def _book(rows: dict[int, list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for number, values in rows.items():
        for column, value in enumerate(values, start=1):
            sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _declare(content: bytes, dimension: str) -> bytes:
    """The same workbook with its sheet's declared dimension rewritten."""
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data)
            target.writestr(item, data)
    return out.getvalue()


def test_one_cell_a_million_rows_down_is_refused_at_once():
    content = _book({1: ["姓名", "房号"], 2: ["王一", "101"], 1_000_000: ["远处", "999"]})
    assert len(content) < 10_000
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError, match="1000") as error:
        read_sheet(content=content, file_name="far.xlsx", columns=COLUMNS, required=("name",), max_rows=1000)
    assert time.perf_counter() - started < 5 and error.value.row == 1002


def test_blank_rows_count_against_the_limit_in_a_csv_too():
    content = ("姓名,房号\n" + "\n" * 50 + "王一,101\n").encode()
    with pytest.raises(SpreadsheetError):
        read_sheet(content=content, file_name="gaps.csv", columns=COLUMNS, required=("name",), max_rows=20)
    sheet = read_sheet(
        content=content, file_name="gaps.csv", columns=COLUMNS, required=("name",), max_rows=60
    )
    assert [values["name"] for _row, values in sheet.rows] == ["王一"]


@pytest.mark.parametrize("dimension", ["A1:B1", "A1:XFD1048576"])
def test_the_declared_size_is_not_trusted(dimension):
    content = _declare(
        _book({1: ["姓名", "房号"], **{n: [f"人{n}", str(n)] for n in range(2, 7)}}), dimension
    )
    sheet = read_sheet(content=content, file_name="d.xlsx", columns=COLUMNS, required=("name",), max_rows=100)
    assert [row for row, _values in sheet.rows] == [2, 3, 4, 5, 6]
