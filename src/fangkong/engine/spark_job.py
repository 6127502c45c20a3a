"""The co-location engine as a Spark job: stays and/or matching over Parquet paths.

Run it with ``spark-submit`` (the package shipped with ``--py-files``; see ``docs/engine.md``)::

    spark-submit --master yarn --py-files fangkong.zip src/fangkong/engine/spark_job.py \\
        stays --pings /data/mobility/pings --out /data/mobility/derived/stays
    spark-submit --master yarn --py-files fangkong.zip src/fangkong/engine/spark_job.py \\
        match --stays /data/mobility/derived/stays --checkins /data/mobility/checkins \\
        --cases 101,102 --start 2024-03-01T00:00+08:00 --end 2024-03-15T00:00+08:00 \\
        --out /data/mobility/results/run-42

or without spark-submit, on this machine: ``python -m fangkong.engine.spark_job --master
'local[*]' stays ...``. ``both`` runs stays then matching. Matching writes ``exposures.parquet``
and ``summary.parquet`` (``schema.EXPOSURES``/``SUMMARY``) and ``result.json`` into ``--out``;
every command prints one JSON line with what it did. Exit status 2 for bad arguments or input
(a schema error names the column).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from fangkong.engine.backends.spark import SparkBackend
from fangkong.engine.backends.spark_session import build_session
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import SchemaError

__all__ = ["main"]

PARAM_FLAGS = {
    "cell_size_m": "--cell-size-m",
    "min_costay_minutes": "--min-costay-minutes",
    "max_gap_minutes": "--max-gap-minutes",
    "venue_default_dwell_minutes": "--venue-dwell-minutes",
    "timezone": "--timezone",
    "projection_lon": "--projection-lon",
    "projection_lat": "--projection-lat",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spark_job", description=__doc__.splitlines()[0])
    parser.add_argument("--master", help="Spark master when not started by spark-submit, e.g. 'local[*]'")
    parser.add_argument("--shuffle-partitions", type=int, help="spark.sql.shuffle.partitions")
    defaults = ColocationParams()
    rules = argparse.ArgumentParser(add_help=False)
    for field in fields(ColocationParams):
        default = getattr(defaults, field.name)
        rules.add_argument(
            PARAM_FLAGS[field.name],
            dest=field.name,
            type=type(default),
            default=default,
            help=f"default {default}",
        )
    commands = parser.add_subparsers(dest="command", required=True)
    stays = commands.add_parser("stays", parents=[rules], help="pings to stays")
    match = commands.add_parser("match", parents=[rules], help="exposures of cases")
    both = commands.add_parser("both", parents=[rules], help="stays, then matching on them")
    for command in (stays, both):
        command.add_argument("--pings", type=Path, required=True, help="pings dataset (file or folder)")
        command.add_argument(
            "--folder",
            action="store_true",
            help="write the stays as Spark's folder of part files (default: one file)",
        )
    stays.add_argument("--out", type=Path, required=True, help="stays to write")
    both.add_argument("--stays", type=Path, required=True, help="stays to write, then read")
    match.add_argument("--stays", type=Path, required=True, help="stays (file or folder)")
    for command in (match, both):
        command.add_argument("--checkins", type=Path, required=True, help="check-ins dataset")
        command.add_argument("--cases", default="", help="case person ids, comma-separated")
        command.add_argument("--cases-file", type=Path, help="a file of case person ids, one a line")
        command.add_argument("--start", type=datetime.fromisoformat, required=True, help="ISO, with offset")
        command.add_argument("--end", type=datetime.fromisoformat, required=True, help="ISO, with offset")
        command.add_argument("--out", type=Path, required=True, help="folder for the results")
    return parser


def _cases(args: argparse.Namespace) -> list[int]:
    text = str(args.cases).replace(",", " ")
    if args.cases_file is not None:
        text += " " + Path(args.cases_file).read_text()
    return [int(word) for word in text.split()]


def main(argv: Sequence[str] | None = None, *, session: SparkSession | None = None) -> int:
    """Run one command; with no ``session``, build one (and stop it at the end)."""
    parser = _parser()
    args = parser.parse_args(argv)
    params = ColocationParams(**{name: getattr(args, name) for name in PARAM_FLAGS})
    spark = session or build_session(master=args.master, shuffle_partitions=args.shuffle_partitions)
    backend = SparkBackend(session=spark, single_file=not getattr(args, "folder", False))
    report: dict[str, object] = {"command": args.command, "spark": spark.version}
    try:
        if args.command in ("stays", "both"):
            out = args.out if args.command == "stays" else args.stays
            done = backend.stays(pings=args.pings, out=out, params=params)
            report["stays"] = {
                "path": str(done.path),
                "pings": done.pings,
                "dropped": done.dropped,
                "stays": done.stays,
                "people": done.people,
                "seconds": round(done.seconds, 3),
            }
        if args.command in ("match", "both"):
            report["match"] = _match(backend, args=args, params=params)
    except (SchemaError, ValueError, FileNotFoundError) as error:
        parser.exit(2, f"spark_job: error: {error}\n")
    finally:
        if session is None:
            spark.stop()
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _match(backend: SparkBackend, *, args: argparse.Namespace, params: ColocationParams) -> dict[str, object]:
    """Run matching, write its tables and ``result.json`` into ``args.out``; what it found."""
    cases = _cases(args)
    result = backend.match(
        stays=args.stays, checkins=args.checkins, cases=cases, start=args.start, end=args.end, params=params
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(result.exposures, out / "exposures.parquet")
    pq.write_table(result.summary, out / "summary.parquet")
    found: dict[str, object] = {
        "cases": len(set(cases)),
        "exposures": result.exposures.num_rows,
        "contacts": result.summary.num_rows,
        "cases_without_data": list(result.cases_without_data),
        "start": args.start.isoformat(),
        "end": args.end.isoformat(),
        "out": str(out),
    }
    (out / "result.json").write_text(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
    return found


if __name__ == "__main__":
    sys.exit(main())
