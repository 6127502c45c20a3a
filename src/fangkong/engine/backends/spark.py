"""Spark backend: the same rules as DuckDB and the reference, on a Spark cluster or ``local[*]``.

Only Spark's built-in column functions are used (no Python UDF), so executors run no Python;
the driver checks the input schemas (``schema.check_dataset``: Parquet footers) and collects
the raw exposure pairs as Arrow for ``matching.finish``. Paths are the driver's local paths,
handed to Spark as ``file://`` URIs: on a cluster, a filesystem mounted at the same place on
every node (see ``docs/engine.md``).

- Cells: ``floor((lon - lon0) * kx)`` on Spark doubles, the grid constants passed as double
  literals (never SQL text, where ``114.06`` is a DECIMAL): the very cell of ``engine.cells``.
- Stays: one window per person ordered by (ts, cell) over the distinct usable pings; a new stay
  starts at the first ping, at a change of cell, and after a gap longer than the maximum.
  Written sorted by (cell, start, person_id): as one file (``single_file=True``, the layout of
  ``engine.stays``: Spark's part files are merged in order on the driver) or as Spark's folder of
  part files, globally sorted in file-name order.
- Matching: timestamps are compared as microseconds (``unix_micros``). The cases' stays and
  visits touching the range are collected, clipped, and broadcast; the others' are read only in
  the cells and venues they touched (Parquet statistics skip the rest). An open check-out closes
  at the earlier of ``check_in + dwell`` and the first local midnight after the check-in, taken
  from ``matching.local_midnights_us`` (a short array literal, searched per row).
- Input: files are read with ``recursiveFileLookup`` (no partition discovery: a ``key=value``
  folder is never a column); check-ins with a null person, venue or check-in are no visits, and
  are counted (one more job, only when the footers say a file may hold a null).
"""

from __future__ import annotations

import os
import shutil
import time as clock
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, Observation, SparkSession, Window
from pyspark.sql import functions as F

from fangkong.engine.backends.spark_session import build_session, spark_uri
from fangkong.engine.cells import CellGrid
from fangkong.engine.matching import MatchResult, RawPairs, check_range, finish, local_midnights_us
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import CHECKINS, PINGS, STAYS, check_dataset, nulls_possible, parquet_files
from fangkong.engine.stays import ROW_GROUP_ROWS, StaysSummary, gap_limit_us

__all__ = ["SparkBackend", "build_session"]

US_PER_DAY = 86_400_000_000
PINGS_DDL = "person_id BIGINT, ts TIMESTAMP, lon DOUBLE, lat DOUBLE"
STAYS_DDL = "person_id BIGINT, cell BIGINT, start TIMESTAMP, `end` TIMESTAMP, pings BIGINT"
CHECKINS_DDL = "person_id BIGINT, venue_id BIGINT, check_in TIMESTAMP, check_out TIMESTAMP"
CASE_INTERVALS = pa.schema(
    [
        pa.field("case_id", pa.int64()),
        pa.field("where_kind", pa.string()),
        pa.field("where_id", pa.int64()),
        pa.field("a0", pa.int64()),
        pa.field("a1", pa.int64()),
    ]
)
PAIRS = pa.schema(
    [
        pa.field("person_id", pa.int64()),
        pa.field("case_id", pa.int64()),
        pa.field("where_kind", pa.string()),
        pa.field("where_id", pa.int64()),
        pa.field("os", pa.int64()),
        pa.field("oe", pa.int64()),
    ]
)
UNUSABLE_CHECKIN_COLUMNS = ("person_id", "venue_id", "check_in")
# Parquet row groups are cut by size in Spark's writer, not by rows: about ROW_GROUP_ROWS stays.
ROW_GROUP_BYTES = ROW_GROUP_ROWS * 40


class SparkBackend:
    """The :class:`~fangkong.engine.matching.Backend` on Spark.

    ``session``: a running session to use (it gets microsecond Parquet timestamps set); without
    one, the first call builds one with :func:`build_session` from ``master``,
    ``temp_directory``, ``shuffle_partitions``, ``driver_memory`` and ``config``, and
    :meth:`stop` ends it.
    ``single_file``: write the stays as one Parquet file (True) or as a folder of part files.
    """

    def __init__(
        self,
        *,
        session: SparkSession | None = None,
        master: str = "local[*]",
        temp_directory: Path | None = None,
        shuffle_partitions: int | None = None,
        driver_memory: str | None = None,
        config: Mapping[str, str] | None = None,
        single_file: bool = True,
    ) -> None:
        self._session = session
        self._owned = False
        self.master = master
        self.temp_directory = temp_directory
        self.shuffle_partitions = shuffle_partitions
        self.driver_memory = driver_memory
        self.config = dict(config or {})
        self.single_file = single_file

    @property
    def session(self) -> SparkSession:
        """The session, built on first use when none was given."""
        if self._session is None:
            self._session = build_session(
                master=self.master,
                temp_directory=self.temp_directory,
                shuffle_partitions=self.shuffle_partitions,
                driver_memory=self.driver_memory,
                config=self.config,
            )
            self._owned = True
        self._session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        return self._session

    def stop(self) -> None:
        """Stop the session if this backend built it (a given session is the caller's)."""
        if self._session is not None and self._owned:
            self._session.stop()
            self._session = None
            self._owned = False

    def _read(self, files: Sequence[Path], ddl: str) -> DataFrame:
        """The Parquet files as one DataFrame with the given columns (an empty one for none).

        ``recursiveFileLookup`` turns Spark's partition discovery off: a ``key=value`` folder
        in a path never becomes a column, nor replaces one (``lat=0``), whatever the paths."""
        spark = self.session
        if not files:
            return spark.createDataFrame([], ddl)
        reader = spark.read.option("recursiveFileLookup", "true").schema(ddl)
        return reader.parquet(*(spark_uri(f, read=True) for f in files))

    def stays(self, *, pings: Path, out: Path, params: ColocationParams) -> StaysSummary:
        """Pings to stays (rule in ``engine.stays``), written to ``out`` sorted by cell.

        Two Spark jobs: the sample of the global sort and the write, whose observed metrics
        give the counts (the pings dropped are the files' rows less the usable ones).
        """
        began = clock.perf_counter()
        files = check_dataset(path=pings, expected=PINGS, what="pings")
        rows = sum(pq.read_metadata(f).num_rows for f in files)
        raw = self._read(files, PINGS_DDL)  # first: column expressions need the session
        usable = (
            F.col("person_id").isNotNull()
            & F.col("ts").isNotNull()
            & F.col("lon").between(-180.0, 180.0)
            & F.col("lat").between(-90.0, 90.0)
            & ~F.isnan("lon")
            & ~F.isnan("lat")
        )
        stays = _stays(
            raw.where(usable),
            grid=CellGrid.from_params(params),
            gap=gap_limit_us(max_gap_minutes=params.max_gap_minutes),
        )
        seen = Observation("stays")
        observed = stays.orderBy("cell", "start", "person_id").observe(
            seen,
            F.count(F.lit(1)).alias("stays"),
            F.coalesce(F.sum("pings"), F.lit(0)).alias("pings"),
            F.coalesce(F.sum("rows"), F.lit(0)).alias("rows"),
            F.coalesce(F.sum("first"), F.lit(0)).alias("people"),
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        target = out.with_name(f".{out.name}.{uuid.uuid4().hex}") if self.single_file else out
        try:
            (
                observed.select(*STAYS.names)
                .write.mode("overwrite")
                .option("compression", "zstd")
                .option("parquet.block.size", str(ROW_GROUP_BYTES))
                .parquet(spark_uri(target))
            )
            counts = {k: int(v) for k, v in seen.get.items()}
            check_dataset(path=target, expected=STAYS, what="stays written by Spark")
            if self.single_file:
                _merge(parts=target, out=out)
        finally:
            if self.single_file:
                shutil.rmtree(target, ignore_errors=True)
        return StaysSummary(
            path=out,
            pings=counts["pings"],
            dropped=rows - counts["rows"],
            stays=counts["stays"],
            people=counts["people"],
            seconds=clock.perf_counter() - began,
        )

    def match(
        self,
        *,
        stays: Path,
        checkins: Path,
        cases: Sequence[int],
        start: datetime,
        end: datetime,
        params: ColocationParams,
    ) -> MatchResult:
        """Exposures of ``cases`` in ``[start, end]`` (rules in ``engine.matching``).

        Two Spark jobs: the cases' stays and visits touching the range are collected (they are
        few), then joined, broadcast, with the others' in the cells and venues they touched.
        """
        s, e = check_range(start=start, end=end)
        stay_files = check_dataset(path=stays, expected=STAYS, what="stays")
        checkin_files = check_dataset(path=checkins, expected=CHECKINS, what="check-ins")
        case_ids = sorted({int(c) for c in cases})
        spark = self.session
        lo, hi = F.lit(s), F.lit(e)
        all_stays = self._read(stay_files, STAYS_DDL).select(
            "person_id",
            F.col("cell").alias("where_id"),
            F.unix_micros("start").alias("i0"),
            F.unix_micros("end").alias("i1"),
        )
        raw_checkins = self._read(checkin_files, CHECKINS_DDL)
        visits = _visits(raw_checkins, s=s, e=e, params=params)
        touching = (F.col("i0") <= hi) & (F.col("i1") >= lo) & F.col("person_id").isin(case_ids)
        mine = (
            all_stays.where(touching)
            .withColumn("where_kind", F.lit("cell"))
            .unionByName(visits.where(touching).withColumn("where_kind", F.lit("venue")))
            .select(
                F.col("person_id").alias("case_id"),
                "where_kind",
                "where_id",
                F.greatest("i0", lo).alias("a0"),
                F.least("i1", hi).alias("a1"),
            )
            .toArrow()
            .cast(CASE_INTERVALS)
        )
        is_cell = pc.equal(mine["where_kind"], "cell")
        cells = pc.unique(mine.filter(is_cell)["where_id"]).to_pylist()
        venues = pc.unique(mine.filter(pc.invert(is_cell))["where_id"]).to_pylist()
        others = all_stays.where(F.col("where_id").isin(cells) & (F.col("i0") < hi) & (F.col("i1") > lo))
        min_costay = max(1, round(params.min_costay_minutes * 60_000_000))
        pairs = _pairs(spark.createDataFrame(mine.filter(is_cell)), others, minimum=min_costay).unionByName(
            _pairs(
                spark.createDataFrame(mine.filter(pc.invert(is_cell))),
                visits.where(F.col("where_id").isin(venues)),
            )
        )
        table = pairs.toArrow().cast(PAIRS)
        dropped = 0
        if nulls_possible(files=checkin_files, columns=UNUSABLE_CHECKIN_COLUMNS):
            dropped = raw_checkins.where(~_usable_checkin()).count()
        return finish(
            pairs=RawPairs(*(table[name].combine_chunks() for name in PAIRS.names)),  # in field order
            cases_without_data=sorted(set(case_ids) - set(mine["case_id"].to_pylist())),
            checkins_dropped=dropped,
        )


def _stays(pings: DataFrame, *, grid: CellGrid, gap: int) -> DataFrame:
    """Usable pings to stays (person_id, cell, start, end, pings) with two more columns for the
    counts: ``rows`` (input rows, duplicates included) and ``first`` (1 on a person's first stay).

    One shuffle, by person: the duplicates' grouping, the window and the stays' grouping all
    keep that partitioning.
    """
    ix = F.floor((F.col("lon") - F.lit(grid.lon0)) * F.lit(grid.kx))
    iy = F.floor((F.col("lat") - F.lit(grid.lat0)) * F.lit(grid.ky))
    located = (
        pings.select(
            "person_id",
            F.unix_micros("ts").alias("t"),
            ((ix + grid.offset) * grid.shift + (iy + grid.offset)).alias("cell"),
        )
        .repartition("person_id")
        .groupBy("person_id", "t", "cell")
        .agg(F.count(F.lit(1)).alias("rows"))
    )
    person = Window.partitionBy("person_id").orderBy("t", "cell")
    previous_cell, previous_t = F.lag("cell").over(person), F.lag("t").over(person)
    first = previous_cell.isNull()
    new_stay = first | (previous_cell != F.col("cell")) | (F.col("t") - previous_t > gap)
    numbered = located.select(
        "*", new_stay.cast("bigint").alias("new_stay"), first.cast("bigint").alias("first")
    ).withColumn(
        "stay_no", F.sum("new_stay").over(person.rowsBetween(Window.unboundedPreceding, Window.currentRow))
    )
    return numbered.groupBy("person_id", "stay_no", "cell").agg(
        F.timestamp_micros(F.min("t")).alias("start"),
        F.timestamp_micros(F.max("t")).alias("end"),
        F.count(F.lit(1)).alias("pings"),
        F.sum("rows").alias("rows"),
        F.max("first").alias("first"),
    )


def _usable_checkin() -> Column:
    """A check-in with a person, a venue and a check-in time (the others are dropped, counted)."""
    return F.col("person_id").isNotNull() & F.col("venue_id").isNotNull() & F.col("check_in").isNotNull()


def _visits(checkins: DataFrame, *, s: int, e: int, params: ColocationParams) -> DataFrame:
    """Usable check-ins that can touch ``[s, e]`` as visits (person_id, where_id: the venue,
    i0, i1) in µs.

    An open check-out ends at ``least(i0 + dwell, next local midnight)``; the first midnight
    after ``i0`` is the least of the midnights ``> i0`` (an open check-in that can reach the range
    started at most 25 hours before it, and the midnights cover three days before).
    """
    midnights = F.array(
        *(F.lit(m) for m in local_midnights_us(start_us=s, end_us=e, timezone=params.timezone))
    )
    dwell = round(params.venue_default_dwell_minutes * 60_000_000)
    i0, out = F.col("i0"), F.col("o")
    next_midnight = F.array_min(F.filter(midnights, lambda m: m > i0))
    raw = checkins.where(_usable_checkin()).select(
        "person_id", "venue_id", F.unix_micros("check_in").alias("i0"), F.unix_micros("check_out").alias("o")
    )
    near = raw.where(
        (i0 <= F.lit(e))
        & (
            (out.isNotNull() & (F.greatest(out, i0) >= F.lit(s)))
            | (out.isNull() & (i0 >= F.lit(s - 2 * US_PER_DAY)))
        )
    )
    closes = F.when(out.isNull(), F.least(i0 + F.lit(dwell), next_midnight)).otherwise(F.greatest(out, i0))
    return near.select("person_id", F.col("venue_id").alias("where_id"), "i0", closes.alias("i1"))


def _pairs(cases: DataFrame, others: DataFrame, *, minimum: int = 1) -> DataFrame:
    """Pairs of a case's clipped interval ``[a0, a1]`` and another person's ``[i0, i1]`` at the
    same place whose overlap lasts at least ``minimum`` µs (and always a positive time)."""
    c, o = F.broadcast(cases).alias("c"), others.alias("o")
    overlap_start = F.greatest(F.col("c.a0"), F.col("o.i0"))
    overlap_end = F.least(F.col("c.a1"), F.col("o.i1"))
    joined = c.join(
        o,
        (F.col("o.where_id") == F.col("c.where_id"))
        & (F.col("o.i0") < F.col("c.a1"))
        & (F.col("o.i1") > F.col("c.a0"))
        & (F.col("o.person_id") != F.col("c.case_id")),
    )
    return joined.where(overlap_end - overlap_start >= F.lit(max(1, minimum))).select(
        F.col("o.person_id").alias("person_id"),
        F.col("c.case_id").alias("case_id"),
        F.col("c.where_kind").alias("where_kind"),
        F.col("c.where_id").alias("where_id"),
        overlap_start.alias("os"),
        overlap_end.alias("oe"),
    )


def _merge(*, parts: Path, out: Path) -> None:
    """Spark's part files (globally sorted in file-name order) into the one file ``out``, in
    row groups of ``ROW_GROUP_ROWS``; written aside, then moved into place."""
    aside = out.with_name(f".{out.name}.{uuid.uuid4().hex}.parquet")
    try:
        with pq.ParquetWriter(aside, STAYS, compression="zstd") as writer:
            pending: list[pa.Table] = []
            for file in parquet_files(parts):
                for batch in pq.ParquetFile(file).iter_batches(batch_size=ROW_GROUP_ROWS):
                    pending.append(pa.Table.from_batches([batch]).select(STAYS.names).cast(STAYS))
                    table = pa.concat_tables(pending)
                    while table.num_rows >= ROW_GROUP_ROWS:
                        writer.write_table(table.slice(0, ROW_GROUP_ROWS))
                        table = table.slice(ROW_GROUP_ROWS)
                    pending = [table]
            rest = pa.concat_tables([STAYS.empty_table(), *pending])
            if rest.num_rows:
                writer.write_table(rest)
        if out.is_dir():
            shutil.rmtree(out)
        os.replace(aside, out)
    finally:
        aside.unlink(missing_ok=True)
