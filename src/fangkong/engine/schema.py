"""Documented schemas of the engine's Parquet inputs and outputs, and their validation.

Inputs are checked before any work starts: a missing or mistyped column is refused with a
:class:`SchemaError` that names the column and the expected type. Extra columns (such as the
hive partition column ``day``) are ignored. Every file of a dataset is checked (only footers are
read), because one stray file with another schema would otherwise fail half-way through a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "CHECKINS",
    "EXPOSURES",
    "PINGS",
    "STAYS",
    "SUMMARY",
    "SchemaError",
    "check_dataset",
    "check_schema",
    "nulls_possible",
    "parquet_files",
]

UTC_TS = pa.timestamp("us", tz="UTC")

PINGS = pa.schema(
    [
        pa.field("person_id", pa.int64()),
        pa.field("ts", UTC_TS),
        pa.field("lon", pa.float64()),
        pa.field("lat", pa.float64()),
    ]
)
"""Location pings, partitioned hive-style by local ``day=YYYY-MM-DD``."""

CHECKINS = pa.schema(
    [
        pa.field("person_id", pa.int64()),
        pa.field("venue_id", pa.int64()),
        pa.field("check_in", UTC_TS),
        pa.field("check_out", UTC_TS),  # null: the person never checked out
    ]
)
"""Venue QR check-ins (场所码), partitioned by ``day``. A row with a null person, venue or
check-in is dropped and counted by matching (``MatchResult.checkins_dropped``)."""

STAYS = pa.schema(
    [
        pa.field("person_id", pa.int64()),
        pa.field("cell", pa.int64()),
        pa.field("start", UTC_TS),
        pa.field("end", UTC_TS),
        pa.field("pings", pa.int64()),
    ]
)
"""Stays written by a backend, sorted by (cell, start, person_id)."""

EXPOSURES = pa.schema(
    [
        pa.field("person_id", pa.int64()),
        pa.field("case_id", pa.int64()),
        pa.field("where_kind", pa.string()),  # 'cell' or 'venue'
        pa.field("where_id", pa.int64()),
        pa.field("overlap_start", UTC_TS),
        pa.field("overlap_end", UTC_TS),
        pa.field("minutes", pa.float64()),
    ]
)
"""One row per overlapping pair of intervals (a case's stay or visit and another person's)."""

SUMMARY = pa.schema(
    [
        pa.field("person_id", pa.int64()),
        pa.field("case_id", pa.int64()),
        pa.field("exposures", pa.int64()),
        pa.field("cell_exposures", pa.int64()),
        pa.field("venue_exposures", pa.int64()),
        pa.field("total_minutes", pa.float64()),
        pa.field("longest_minutes", pa.float64()),
        pa.field("first_exposure", UTC_TS),
        pa.field("last_exposure", UTC_TS),
    ]
)
"""Per (person, case): counts, summed and longest minutes, first start and last end."""


class SchemaError(ValueError):
    """An input does not have the documented schema; the message names the column."""


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of a dataset: the file itself, or every ``*.parquet`` below a folder.

    Files whose name starts with ``.`` or ``_`` (``_SUCCESS``, ``.crc``) are skipped, as Spark
    and Arrow do.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no such Parquet file or folder: {path}")
    return sorted(
        p
        for p in path.rglob("*.parquet")
        if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )


def check_schema(*, actual: pa.Schema, expected: pa.Schema, what: str) -> None:
    """Refuse ``actual`` unless every column of ``expected`` is there with exactly its type."""
    for field in expected:
        index = actual.get_field_index(field.name)
        if index < 0:
            raise SchemaError(f"{what}: column {field.name!r} is missing (expected {field.type})")
        found = actual.field(index).type
        if not found.equals(field.type):
            raise SchemaError(f"{what}: column {field.name!r} has type {found}, expected {field.type}")


def check_dataset(*, path: Path, expected: pa.Schema, what: str) -> Sequence[Path]:
    """Check the schema of every Parquet file of a dataset and return the files (maybe none)."""
    files = parquet_files(path)
    for file in files:
        check_schema(actual=pq.read_schema(file), expected=expected, what=f"{what} ({file})")
    return files


def nulls_possible(*, files: Sequence[Path], columns: Sequence[str]) -> bool:
    """Whether any of ``columns`` may hold a null in ``files``, from the footers' statistics
    alone: False only when every row group of every file states a null count of 0 for each
    (a file written without statistics may hold nulls)."""
    wanted = set(columns)
    for file in files:
        metadata = pq.read_metadata(file)
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for index in range(row_group.num_columns):
                chunk = row_group.column(index)
                if chunk.path_in_schema not in wanted:
                    continue
                stats = chunk.statistics
                if stats is None or not stats.has_null_count or stats.null_count:
                    return True
    return False
