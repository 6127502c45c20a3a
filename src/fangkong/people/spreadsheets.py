"""Reading a residents spreadsheet (.xlsx or .csv) into rows of text, with row numbers.

Headers may be Chinese or English (``COLUMNS``). Row numbers are the spreadsheet's own: the
header is row 1. Excel stores long numbers as floating point, which rounds an 18-digit ID
number: such a cell is refused with a hint rather than silently corrupted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext as _

from fangkong.people.models import IdType

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "id_type": ("证件类型", "id_type"),
    "id_number": ("证件号码", "身份证号", "身份证号码", "id_number"),
    "phone": ("手机号", "手机号码", "联系电话", "phone"),
    "grid_code": ("网格编码", "grid_code"),
    "building": ("楼栋", "building"),
    "unit": ("单元", "unit"),
    "room": ("房号", "room"),
}
REQUIRED = ("name", "id_number", "grid_code")
TEMPLATE_HEADER = ["姓名", "证件类型", "证件号码", "手机号", "网格编码", "楼栋", "单元", "房号"]
ID_TYPE_SYNONYMS = {
    "": "resident_id",
    "身份证": "resident_id",
    "其他": "other",
    "港澳通行证": "hk_macau_permit",
    "台胞证": "taiwan_permit",
    "外国人永居证": "foreign_permanent",
}
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; ``column`` names the header at fault when there is one."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.message, self.row, self.column = message, row, column


@dataclass(frozen=True)
class Sheet:
    headers: dict[str, str]  # field → header text as written in the file
    rows: list[tuple[int, dict[str, str]]]  # (row number, field → text)
    problems: list[SpreadsheetError]  # cells that cannot be read, each with its row and column


def _cell(value: object, *, field: str, row: int, header: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # a time typed in Excel as a date-time cell
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float) and field == "id_number":
        raise SpreadsheetError(
            _("The ID number is stored as a number, which Excel rounds; format the column as text."),
            row=row,
            column=header,
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _fields(
    header_row: list[object], columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> dict[int, tuple[str, str]]:
    """Column index → (field, header text); unknown or repeated headers are refused."""
    by_header = {h.lower(): field for field, names in columns.items() for h in names}
    found: dict[int, tuple[str, str]] = {}
    for index, raw in enumerate(header_row):
        header = str(raw or "").strip()
        if not header:
            continue
        field = by_header.get(header.lower())
        if field is None:
            raise SpreadsheetError(_("Unknown column “%(h)s”.") % {"h": header}, row=1, column=header)
        if field in {f for f, _h in found.values()}:
            raise SpreadsheetError(_("Column “%(h)s” appears twice.") % {"h": header}, row=1, column=header)
        found[index] = (field, header)
    missing = [columns[f][0] for f in required if f not in {f for f, _h in found.values()}]
    if missing:
        raise SpreadsheetError(
            _("Missing column(s): %(c)s.") % {"c": "、".join(missing)}, row=1, column=missing[0]
        )
    return found


def _raw_rows(content: bytes, file_name: str) -> Iterator[list[object]]:
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise SpreadsheetError(_("This is not a readable .xlsx file.")) from error
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # the declared size is the file's word, not its rows: not trusted
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
        book.close()
        return
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError(_("The CSV file is neither UTF-8 nor GBK text."))
    yield from csv.reader(io.StringIO(text))


def id_type_of(word: str) -> str:
    """The ID type code for what a spreadsheet says: the code, its label in zh-Hans or English,
    or a common short name. Anything else is returned as it is (and refused by validation)."""
    word = word.strip()
    if word in ID_TYPE_SYNONYMS:
        return ID_TYPE_SYNONYMS[word]
    for value, label in IdType.choices:
        with translation.override("en"):
            english = str(label).lower()
        with translation.override("zh-hans"):
            chinese = str(label)
        if word.lower() in {value, english} or word == chinese:
            return value
    return word


def id_type_words() -> list[str]:
    """The zh-Hans labels, for the import page."""
    with translation.override("zh-hans"):
        return [str(label) for _value, label in IdType.choices]


def read_sheet(
    *,
    content: bytes,
    file_name: str,
    columns: dict[str, tuple[str, ...]] | None = None,
    required: tuple[str, ...] | None = None,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> Sheet:
    """All data rows of the first sheet, blank rows skipped; ``columns`` maps each field to the
    headers accepted for it (residents' columns by default). The walk stops after ``max_rows``
    rows, blank ones counted, whatever size the file declares."""
    columns = columns if columns is not None else COLUMNS
    required = required if required is not None else REQUIRED
    if not file_name.lower().endswith((".xlsx", ".csv")):
        raise SpreadsheetError(_("Upload an .xlsx or .csv file."))
    if len(content) > max_bytes:
        raise SpreadsheetError(
            _("The file is larger than %(n)d MB; split it.") % {"n": max_bytes // (1024 * 1024)}
        )
    raw = _raw_rows(content, file_name)
    header_row = next(raw, None)
    if header_row is None:
        raise SpreadsheetError(_("The file is empty."))
    fields = _fields(header_row, columns, required)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[SpreadsheetError] = []
    for number, values in enumerate(raw, start=2):
        if number - 1 > max_rows:  # blank rows count: a cell at row 2,000,000 is not walked to
            raise SpreadsheetError(
                _("More than %(n)d rows, blank ones included; split the file.") % {"n": max_rows}, row=number
            )
        record: dict[str, str] = {}
        for i, (field, header) in fields.items():
            try:
                record[field] = _cell(
                    values[i] if i < len(values) else None, field=field, row=number, header=header
                )
            except SpreadsheetError as problem:
                problems.append(problem)
                record[field] = "?"
        if not any(record.values()):
            continue
        rows.append((number, record))
        if len(rows) > max_rows:
            raise SpreadsheetError(_("More than %(n)d rows; split the file.") % {"n": max_rows})
    if not rows:
        raise SpreadsheetError(_("The file has a header but no rows."))
    return Sheet(headers={field: header for field, header in fields.values()}, rows=rows, problems=problems)
