"""The Spark session the engine runs on: local (tests, one machine) or a cluster's (spark-submit)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pyspark.sql import SparkSession


def build_session(
    *,
    master: str | None = "local[*]",
    temp_directory: Path | None = None,
    shuffle_partitions: int | None = None,
    driver_memory: str | None = None,
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session set up for the engine (or the active one, if a session already runs).

    ``master=None`` leaves the master to ``spark-submit``. Always: UTC session time zone,
    microsecond Parquet timestamps, no UI, Arrow on, no Hive (in-memory catalogue). For a
    ``local`` master also: scratch and warehouse under ``temp_directory`` (default
    ``$TMPDIR/fangkong-spark``), loopback only, ``shuffle_partitions`` (default 4) partitions.
    ``config``: more Spark settings, applied last.
    """
    builder = SparkSession.builder.appName("fangkong-engine")
    settings: dict[str, str] = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.catalogImplementation": "in-memory",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if master is not None:
        builder = builder.master(master)
    if driver_memory is not None:
        settings["spark.driver.memory"] = driver_memory
    if master is not None and master.startswith("local"):
        scratch = temp_directory or Path(tempfile.gettempdir()) / "fangkong-spark"
        (scratch / "local").mkdir(parents=True, exist_ok=True)
        settings.update(
            {
                "spark.local.dir": str(scratch / "local"),
                "spark.sql.warehouse.dir": spark_uri(scratch / "warehouse"),
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.sql.shuffle.partitions": str(shuffle_partitions or 4),
            }
        )
    elif shuffle_partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spark_uri(path: Path, *, read: bool = False) -> str:
    """A local path as the ``file://`` URI that Hadoop takes, so that a cluster whose default
    filesystem is HDFS still reads the shared mount: not percent-encoded (Hadoop would look for
    ``day%3D...``), and for reading with glob characters escaped (Spark globs what it reads)."""
    uri = "file://" + str(path.resolve())
    return re.sub(r"([\[\]{}*?\\])", r"\\\1", uri) if read else uri
