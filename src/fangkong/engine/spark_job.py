"""The co-location engine as a Spark job: stays and/or matching over Parquet paths.

Run it with ``spark-submit`` in client deploy mode (the engine shipped with ``--py-files``; the
driver needs pyarrow >= 18 and numpy; see ``docs/engine.md``)::

    spark-submit --master spark://host:7077 --total-executor-cores 8 \\
        --py-files build/fangkong-engine.zip src/fangkong/engine/spark_job.py \\
        stays --folder --pings /data/mobility/pings --out /data/mobility/derived/stays
    spark-submit --master spark://host:7077 --total-executor-cores 8 \\
        --py-files build/fangkong-engine.zip src/fangkong/engine/spark_job.py \\
        match --stays /data/mobility/derived/stays --checkins /data/mobility/checkins \\
        --cases 101,102 --start 2024-03-01T00:00+08:00 --end 2024-03-15T00:00+08:00 \\
        --out /data/mobility/results/run-42

or without spark-submit, on this machine: ``python -m fangkong.engine.spark_job --master
'local[*]' stays ...``. ``both`` runs stays then matching. Matching writes ``exposures.parquet``
and ``summary.parquet`` (``schema.EXPOSURES``/``SUMMARY``) and ``result.json`` into ``--out``;
every command prints one JSON line with what it did on stdout.

Errors go to stderr: exit status 2 for bad arguments or input (a schema error names the
column), 1 for anything else. The arguments (times with their offset, the range, the case ids,
the input paths) are checked before any Spark session starts. Under ``spark-submit`` the
driver's own stderr is merged into stdout by Spark (``PythonRunner``), so an error is written
through the driver JVM's ``System.err`` instead, and stdout holds the JSON line alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors go where the job's errors go (:func:`_error`)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.format_usage()}{self.prog}: error: {message}\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            _error(message)
        sys.exit(status)


def _moment(text: str) -> datetime:
    """An ISO 8601 date and time with its UTC offset (a naive time would be read in UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date and time: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no offset: give one, e.g. {text}+08:00")
    return moment


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spark_job", description=__doc__.splitlines()[0])
    parser.add_argument("--master", help="Spark master when not started by spark-submit, e.g. 'local[*]'")
    parser.add_argument("--shuffle-partitions", type=int, help="spark.sql.shuffle.partitions")
    defaults = ColocationParams()
    rules = _Parser(add_help=False)
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
        command.add_argument("--start", type=_moment, required=True, help="ISO, with offset")
        command.add_argument("--end", type=_moment, required=True, help="ISO, with offset")
        command.add_argument("--out", type=Path, required=True, help="folder for the results")
    return parser


class BadInput(Exception):
    """An argument or an input the job refuses (exit status 2)."""


def _cases(args: argparse.Namespace) -> list[int]:
    """The case ids of ``--cases`` and ``--cases-file``; refuses anything but integers."""
    text = str(args.cases).replace(",", " ")
    if args.cases_file is not None:
        try:
            text += " " + Path(args.cases_file).read_text()
        except OSError as error:
            raise BadInput(f"--cases-file: {error}") from None
    try:
        return [int(word) for word in text.split()]
    except ValueError as error:
        raise BadInput(f"case ids must be integers: {error}") from None


def _checked(args: argparse.Namespace) -> tuple[ColocationParams, list[int]]:
    """Check what argparse does not, without Spark (so that a typo costs no session): the
    thresholds and the time zone, the input paths, the end not before the start, the case ids.
    Returns the thresholds and the case ids."""
    try:
        params = ColocationParams(**{name: getattr(args, name) for name in PARAM_FLAGS})
        ZoneInfo(params.timezone)
    except (ValueError, ZoneInfoNotFoundError) as error:
        raise BadInput(f"{error}") from None
    if args.command in ("stays", "both") and not args.pings.exists():
        raise BadInput(f"--pings: no such file or folder: {args.pings}")
    if args.command == "stays":
        return params, []
    if args.command == "match" and not args.stays.exists():
        raise BadInput(f"--stays: no such file or folder: {args.stays}")
    if not args.checkins.exists():
        raise BadInput(f"--checkins: no such file or folder: {args.checkins}")
    if args.end < args.start:
        raise BadInput(f"--end {args.end.isoformat()} is before --start {args.start.isoformat()}")
    return params, _cases(args)


def _error(message: str) -> None:
    """Write an error line to stderr: the driver JVM's under spark-submit (which merges the
    Python driver's own stderr into stdout), else this process's."""
    if "PYSPARK_GATEWAY_PORT" in os.environ:
        try:
            from pyspark.java_gateway import launch_gateway

            # with the variable set, this connects to spark-submit's JVM (it starts nothing)
            gateway = launch_gateway()  # type: ignore[no-untyped-call]
            err = gateway.jvm.java.lang.System.err
            err.print(message)
            err.flush()
            return
        except Exception:  # noqa: S110 - the gateway is gone: this process's stderr will do
            pass
    sys.stderr.write(message)
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None, *, session: SparkSession | None = None) -> int:
    """Run one command; with no ``session``, build one (and stop it at the end). The report
    (one JSON line) goes to stdout, an error to stderr (see the module)."""
    parser = _parser()
    args = parser.parse_args(argv)  # argparse refuses malformed values (status 2, stderr)
    try:
        params, cases = _checked(args)
    except BadInput as error:
        _error(f"spark_job: error: {error}\n")
        return 2
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
            report["match"] = _match(backend, args=args, cases=cases, params=params)
    except (SchemaError, ValueError, FileNotFoundError) as error:
        _error(f"spark_job: error: {error}\n")
        return 2
    except Exception:
        _error(f"spark_job: failed:\n{traceback.format_exc()}")
        return 1
    finally:
        if session is None:
            spark.stop()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


def _match(
    backend: SparkBackend, *, args: argparse.Namespace, cases: list[int], params: ColocationParams
) -> dict[str, object]:
    """Run matching, write its tables and ``result.json`` into ``args.out``; what it found."""
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
        "checkins_dropped": result.checkins_dropped,
        "start": args.start.isoformat(),
        "end": args.end.isoformat(),
        "out": str(out),
    }
    (out / "result.json").write_text(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
    return found


if __name__ == "__main__":
    sys.exit(main())
