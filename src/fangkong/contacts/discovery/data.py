"""The location data of a discovery run: thresholds, engine, stays kept current, evidence rows.

The dataset (``FANGKONG_MOBILITY_DIR``) holds ``pings/`` and ``checkins/`` (Parquet partitioned
by local day) and ``venues.parquet``; ``person_id`` in the files is the register's person number.
Derived stays live in ``derived/stays.parquet`` with a stamp of what they were built from.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

from fangkong.common.protocol import active_profile
from fangkong.contacts.discovery.places import cell_places, venue_names
from fangkong.contacts.models import Contact, ContactEvidence, ContactKind, DiscoveryRun, WhereKind
from fangkong.engine.matching import Backend, MatchResult
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import parquet_files

STAYS_COUNTS = "stays.counts.json"
"""Beside the stays: what their build read and left out (``StaysSummary``'s counts)."""
EVIDENCE_PER_CONTACT = 20
"""The longest overlaps kept as evidence for one proposed contact (the counts cover them all)."""
EVIDENCE_PER_COMPANION = 3
"""The longest overlaps kept for a companion: nobody reviews them, the text says where and when."""


def mobility_dir() -> Path:
    """Where the location data lives (``FANGKONG_MOBILITY_DIR``)."""
    return Path(settings.FANGKONG_MOBILITY_DIR)


def colocation_params() -> ColocationParams:
    """The active profile's thresholds as the engine's parameters."""
    profile = active_profile()
    rule = profile.colocation
    return ColocationParams(
        cell_size_m=float(rule.cell_size_m),
        min_costay_minutes=float(rule.min_costay_minutes),
        max_gap_minutes=float(rule.max_gap_minutes),
        venue_default_dwell_minutes=float(rule.venue_default_dwell_minutes),
        timezone=profile.timezone,
    )


def colocation_backend() -> Backend:
    """The engine named by ``FANGKONG_COLOCATION_BACKEND`` (``duckdb`` or ``spark``)."""
    name = settings.FANGKONG_COLOCATION_BACKEND
    if name == "spark":
        from fangkong.engine.backends.spark import SparkBackend

        spark: Backend = SparkBackend()
        return spark
    if name != "duckdb":
        raise ValueError(f"FANGKONG_COLOCATION_BACKEND must be duckdb or spark, not {name!r}")
    from fangkong.engine.backends.duckdb import DuckDBBackend

    return DuckDBBackend()


def _stamp(*, pings: Path, params: ColocationParams) -> str:
    """What the stays depend on: every pings file (name, size, time) and the cell thresholds."""
    digest = hashlib.sha256()
    for file in parquet_files(pings):
        stat = file.stat()
        digest.update(f"{file.relative_to(pings)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    digest.update(
        json.dumps(
            [params.cell_size_m, params.max_gap_minutes, params.projection_lon, params.projection_lat]
        ).encode()
    )
    return digest.hexdigest()


def stays_current(*, dataset: Path, params: ColocationParams, backend: Backend) -> Path:
    """The stays of the dataset, rebuilt (under a file lock, one builder at a time) when the
    pings or the thresholds changed since they were built; written aside and moved into place,
    so a reader never sees half a file. What the build counted is kept beside them
    (:func:`pings_dropped`); the stamp is written last, so an interrupted build is redone."""
    derived = dataset / "derived"
    derived.mkdir(parents=True, exist_ok=True)
    stays, stamp_file, counts = derived / "stays.parquet", derived / "stays.stamp", derived / STAYS_COUNTS
    with open(derived / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = _stamp(pings=dataset / "pings", params=params)
        if stays.exists() and counts.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
            return stays
        building = derived / f"stays.{os.getpid()}.parquet"
        built = backend.stays(pings=dataset / "pings", out=building, params=params)
        os.replace(building, stays)
        counts.write_text(json.dumps({"pings": built.pings, "dropped": built.dropped}) + "\n")
        stamp_file.write_text(stamp)
    return stays


def pings_dropped(*, dataset: Path) -> int:
    """The pings the current stays left out (no person, time or usable coordinates)."""
    counted: dict[str, int] = json.loads((dataset / "derived" / STAYS_COUNTS).read_text())
    return int(counted["dropped"])


def exposures_by_person(result: MatchResult) -> dict[int, list[dict[str, Any]]]:
    """The exposure rows of a run, by the person (number in the data) who shared them."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for row in result.exposures.to_pylist():
        rows.setdefault(row["person_id"], []).append(row)
    return rows


def evidence_rows(
    *,
    run: DiscoveryRun,
    exposures: Mapping[int, list[dict[str, Any]]],
    contacts: Mapping[int, Contact],
    dataset: Path,
    params: ColocationParams,
) -> Iterator[ContactEvidence]:
    """The longest overlaps of every contact written by the run (``EVIDENCE_PER_CONTACT`` of a
    proposal, ``EVIDENCE_PER_COMPANION`` of a companion), each with a place name (``places``):
    a venue's name, or the community and grid of a cell."""
    kept: dict[int, list[dict[str, Any]]] = {}
    for person_id, contact in contacts.items():
        rows = sorted(exposures.get(person_id, ()), key=lambda r: (-r["minutes"], r["overlap_start"]))
        kept[person_id] = rows[
            : EVIDENCE_PER_COMPANION if contact.kind == ContactKind.COMPANION else EVIDENCE_PER_CONTACT
        ]
    shown = [row for rows in kept.values() for row in rows]
    venues = venue_names(
        dataset=dataset, venue_ids={r["where_id"] for r in shown if r["where_kind"] == "venue"}
    )
    cells = cell_places(cells={r["where_id"] for r in shown if r["where_kind"] != "venue"}, params=params)
    for person_id, rows in kept.items():
        for row in rows:
            is_venue = row["where_kind"] == "venue"
            place = venues.get(row["where_id"], f"#{row['where_id']}") if is_venue else cells[row["where_id"]]
            yield ContactEvidence(
                contact=contacts[person_id],
                run=run,
                where_kind=WhereKind.VENUE if is_venue else WhereKind.CELL,
                where_id=row["where_id"],
                place=place[:120],
                start=row["overlap_start"],
                end=row["overlap_end"],
                minutes=row["minutes"],
            )
