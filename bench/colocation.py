"""Co-location discovery at scale: the fangkong DuckDB backend against naive peers (issue 5).

    .venv/bin/python bench/colocation.py                   # 1 M people x 1 day, 100 k x 14 days
    .venv/bin/python bench/colocation.py --quick           # 20 k x 1 day, 5 k x 2 days, no Spark
    .venv/bin/python bench/colocation.py --people 1000000 --days 1 --long-people 0 --no-spark

Data: seeded synthetic cities (``engine.synth.synth_city``) under ``var/bench/colocation/``,
generated once and reused while their manifest matches (people, days, seed, first day); a
different size goes to another folder. The stays of each dataset are computed once by the
DuckDB backend and reused while the dataset, the parameters and the stays encoding match: their
time is printed as a preparation figure, apart from the matching it serves.

For each dataset, in one run, on the same files and the same cases (drawn with a seed among the
people who have stays in the range; the 10 are the first of the 100, which are the first of the
1,000), over the whole range of the dataset:

1. fangkong DuckDB backend, ``match`` for 10, 100 and 1,000 cases (``--cases``), ``--repeat``
   times each; the median is the figure, the ratios use it. Its cost follows the cases' cells:
   the line says how many of the stays file's row groups hold one of their cells.
2. naive pandas: the same rule in pandas from the raw pings, the obvious whole-population way
   (all pings in one DataFrame, stays by sort/shift/cumsum/groupby, the cases' stays merged with
   everyone's on the cell, then filtered). The issue's wording, a merge of pings "on cell and
   time bucket", is a different rule (buckets cut overlaps at their edges) whose counts could
   never agree exactly, so the peer merges stays on the cell instead.
3. plain DuckDB SQL: the same rule as one SQL query over the raw pings and check-ins, written
   the obvious way (stays by window functions, then the self-join of the stays on the cell).
4. the Spark backend (``engine.backends.spark``, ``local[N]``), with its own stays (timed as
   its preparation, cached like DuckDB's) when it can be imported; ``--no-spark`` leaves it
   out, and so does ``--quick`` unless ``--spark`` is given (its JVM alone starts in ~20 s).

Peers 2–4 run for ``--peer-cases`` cases (100) in a child process each, so that one past its
limits (``--peer-timeout`` seconds, ``--peer-memory`` GB resident, its whole process tree) is
stopped without taking the bench down; what happened is printed instead of a time. The memory
limit is lowered to what the machine has available, less 1.5 GB, when that is less.

Printed per run: wall seconds, CPU seconds, pings of the dataset covered per second (dataset
pings ÷ wall seconds: every run answers the question over the whole dataset), the peak resident
memory above the run's start (sampled every 10 ms from /proc, process tree included: DuckDB,
Arrow and the JVM allocate outside Python), exposure rows and (person, case) pairs, and the
ratio of the run's time to the fangkong DuckDB backend's for the same cases. Then AGREE or
DISAGREE: every peer must find the same exposure rows (cell and venue), (person, case) pairs,
summed overlap and cases without data. The exit status is 1 on DISAGREE. Also printed: the
load average (others share the machine) and the targets of issue 5 (100 cases against 1 M
people x 1 day under 2 s, at least 10x faster than the naive pandas peer).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _colocation_peers import (
    PeakMemory,
    available_bytes,
    cpu_seconds,
    fingerprint_of,
    pandas_peer,
    rss_bytes,
    sql_peer,
    timed,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "colocation"
FIRST_DAY = date(2024, 3, 4)  # a Monday; fixed so that the files do not depend on the run date
SEED = 2022
AGREE_KEYS = ("rows", "cell_rows", "venue_rows", "pairs", "overlap_us", "cases_without_data")


@dataclasses.dataclass
class Dataset:
    people: int
    days: int
    path: Path
    pings: int = 0
    checkins: int = 0
    stays: int = 0
    stays_seconds: float = 0.0
    synth_seconds: float | None = None
    row_groups: list[tuple[int, int, int]] = dataclasses.field(default_factory=list)  # min, max, rows

    @property
    def label(self) -> str:
        return f"{self.people:,} people x {self.days} day{'s' if self.days > 1 else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--long-people", type=int, default=100_000, help="0: no second dataset")
    parser.add_argument("--long-days", type=int, default=14)
    parser.add_argument("--cases", default="10,100,1000", help="case counts for the fangkong backend")
    parser.add_argument("--peer-cases", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-naive", action="store_true", help="leave out the pandas and SQL peers")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--spark", action="store_true", help="with --quick: include Spark")
    parser.add_argument("--peer-timeout", type=float, default=900.0, help="seconds per peer")
    parser.add_argument("--spark-timeout", type=float, default=3600.0, help="seconds, stays included")
    parser.add_argument("--peer-memory", type=float, default=18.0, help="GB resident per peer")
    parser.add_argument("--duckdb-memory", default="8GB", help="memory_limit of the SQL peer")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run under a minute")
    parser.add_argument("--peer-job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_job:
        return peer_job(Path(args.peer_job))
    if args.quick:
        args.people, args.days, args.long_people, args.long_days = 20_000, 1, 5_000, 2
        args.repeat = 1
        args.no_spark = args.no_spark or not args.spark

    from fangkong.engine.rules import ColocationParams

    params = ColocationParams()
    counts = sorted({int(c) for c in args.cases.split(",") if c.strip()})
    print(f"machine: {os.cpu_count()} cores, {_memory_gb():.0f} GB; {_load()}")
    print(
        f"params: {params.cell_size_m:.0f} m cells, co-stay >= {params.min_costay_minutes:g} min, "
        f"gap > {params.max_gap_minutes:g} min splits, open check-out {params.venue_default_dwell_minutes:g} min; "
        f"DuckDB threads {args.threads}"
    )
    sizes = [(args.people, args.days)]
    if args.long_people > 0:
        sizes.append((args.long_people, args.long_days))
    verdicts: list[bool] = []
    for people, days in sizes:
        dataset = prepare(people=people, days=days, params=params, threads=args.threads)
        verdicts.append(run_dataset(dataset, counts=counts, params=params, args=args))
    return 0 if all(verdicts) else 1


# --- data ----------------------------------------------------------------------------------


def prepare(*, people: int, days: int, params: Any, threads: int) -> Dataset:
    """The dataset (generated when missing or different) and its DuckDB stays (computed once)."""
    from fangkong.engine.backends.duckdb import STAYS_PARQUET, DuckDBBackend
    from fangkong.engine.synth import synth_city

    path = DATA / f"p{people}-d{days}-s{SEED}"
    want = {"people": people, "days": days, "seed": SEED, "start": FIRST_DAY.isoformat()}
    manifest = _read_json(path / "manifest.json")
    dataset = Dataset(people=people, days=days, path=path)
    if manifest is None or any(manifest.get(k) != v for k, v in want.items()):
        if path.exists():
            shutil.rmtree(path)
        print(f"generating {dataset.label} into {path.relative_to(ROOT)} ...", flush=True)
        summary = synth_city(people=people, days=days, out=path, seed=SEED, start=FIRST_DAY)
        dataset.synth_seconds = summary.seconds
        manifest = _read_json(path / "manifest.json")
        assert manifest is not None
    dataset.pings, dataset.checkins = int(manifest["pings"]), int(manifest["checkins"])

    stays = path / "stays" / "duckdb.parquet"
    key = {"dataset": manifest, "params": dataclasses.asdict(params), "encoding": STAYS_PARQUET}
    done = _read_json(path / "stays" / "duckdb.json")
    if done is None or done.get("key") != key or not stays.exists():
        print(f"computing the stays of {dataset.label} with DuckDB ...", flush=True)
        backend = DuckDBBackend(threads=threads, temp_directory=DATA / "tmp")
        summary = backend.stays(pings=path / "pings", out=stays, params=params)
        done = {"key": key, "stays": summary.stays, "seconds": round(summary.seconds, 2), "load": _load()}
        (path / "stays" / "duckdb.json").write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")
    dataset.stays, dataset.stays_seconds = int(done["stays"]), float(done["seconds"])

    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(stays).metadata
    cell = metadata.schema.to_arrow_schema().get_field_index("cell")
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        stats = group.column(cell).statistics
        dataset.row_groups.append((int(stats.min), int(stats.max), group.num_rows))
    synth = f"generated in {dataset.synth_seconds:.1f} s" if dataset.synth_seconds else "reused"
    print(
        f"\n== {dataset.label}: {dataset.pings:,} pings, {dataset.checkins:,} check-ins ({synth}); "
        f"{dataset.stays:,} stays in {len(dataset.row_groups)} row groups, computed once by DuckDB in "
        f"{dataset.stays_seconds:.1f} s ({done.get('load', '')})"
    )
    return dataset


def window(dataset: Dataset) -> tuple[datetime, datetime]:
    """The whole dataset: its first local midnight to the last."""
    zone = ZoneInfo("Asia/Shanghai")
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=zone)
    return start, datetime.combine(FIRST_DAY + timedelta(days=dataset.days), start.timetz())


def pick_cases(dataset: Dataset, count: int) -> list[int]:
    """``count`` people with stays, drawn with a fixed seed (prefixes of one draw nest)."""
    import duckdb

    con = duckdb.connect()
    people = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT person_id FROM read_parquet($f) ORDER BY 1",
            {"f": str(dataset.path / "stays" / "duckdb.parquet")},
        ).fetchall()
    ]
    con.close()
    return random.Random(SEED).sample(people, min(count, len(people)))


def groups_read(dataset: Dataset, cases: list[int]) -> tuple[int, int]:
    """Row groups (and their stays) whose cell statistics hold a cell of the cases."""
    import duckdb

    con = duckdb.connect()
    cells = sorted(
        r[0]
        for r in con.execute(
            "SELECT DISTINCT cell FROM read_parquet($f) WHERE list_contains($c, person_id)",
            {"f": str(dataset.path / "stays" / "duckdb.parquet"), "c": cases},
        ).fetchall()
    )
    con.close()
    import bisect

    hit = rows = 0
    for low, high, count in dataset.row_groups:
        i = bisect.bisect_left(cells, low)
        if i < len(cells) and cells[i] <= high:
            hit += 1
            rows += count
    return hit, rows


# --- runs ----------------------------------------------------------------------------------


def run_dataset(dataset: Dataset, *, counts: list[int], params: Any, args: argparse.Namespace) -> bool:
    from fangkong.engine.backends.duckdb import DuckDBBackend

    start, end = window(dataset)
    drawn = pick_cases(dataset, max([*counts, args.peer_cases]))
    backend = DuckDBBackend(threads=args.threads)
    rows: list[dict[str, Any]] = []
    fangkong: dict[int, dict[str, Any]] = {}
    for count in counts:
        cases = drawn[:count]
        runs = []
        for _ in range(max(1, args.repeat)):
            runs.append(
                timed(
                    lambda cases=cases: backend.match(
                        stays=dataset.path / "stays" / "duckdb.parquet",
                        checkins=dataset.path / "checkins",
                        cases=cases,
                        start=start,
                        end=end,
                        params=params,
                    )
                )
            )
        seconds = statistics.median(r.seconds for r in runs)
        hit, covered = groups_read(dataset, cases)
        row = {
            "run": "fangkong DuckDB",
            "cases": len(cases),
            "seconds": seconds,
            "cpu": statistics.median(r.cpu for r in runs),
            "peak": max(r.peak for r in runs),
            "fingerprint": fingerprint_of(runs[-1].value, cases),
            "note": (
                f"runs {', '.join(f'{r.seconds:.2f}' for r in runs)} s; row groups read {hit}/"
                f"{len(dataset.row_groups)} ({covered:,} stays)"
            ),
        }
        fangkong[len(cases)] = row
        rows.append(row)
        _print_row(dataset, row, None)

    peer_cases = drawn[: args.peer_cases]
    if len(peer_cases) not in fangkong:
        row = {"run": "fangkong DuckDB", "cases": len(peer_cases)}
        result = timed(
            lambda: backend.match(
                stays=dataset.path / "stays" / "duckdb.parquet",
                checkins=dataset.path / "checkins",
                cases=peer_cases,
                start=start,
                end=end,
                params=params,
            )
        )
        row.update(
            seconds=result.seconds,
            cpu=result.cpu,
            peak=result.peak,
            note="",
            fingerprint=fingerprint_of(result.value, peer_cases),
        )
        fangkong[len(peer_cases)] = row
        rows.append(row)
        _print_row(dataset, row, None)
    base = fangkong[len(peer_cases)]

    job = {
        "dataset": str(dataset.path),
        "cases": peer_cases,
        "start_us": _micros(start),
        "end_us": _micros(end),
        "params": dataclasses.asdict(params),
        "threads": args.threads,
        "memory_limit": args.duckdb_memory,
        "temp_directory": str(DATA / "tmp"),
    }
    peers: list[tuple[str, str, float]] = []
    if not args.no_naive:
        peers += [
            ("naive pandas", "pandas", args.peer_timeout),
            ("plain DuckDB SQL", "sql", args.peer_timeout),
        ]
    if args.no_spark:
        print("Spark backend: left out (--no-spark, or --quick without --spark)")
    else:
        reason = _spark_missing()
        if reason:
            print(f"Spark backend: skipped, {reason}")
        else:
            peers.append(("Spark backend", "spark", args.spark_timeout))
    for label, kind, timeout in peers:
        row = run_peer(label, kind, job, timeout=timeout, memory_gb=args.peer_memory)
        rows.append(row)
        _print_row(dataset, row, base)

    agree = True
    for row in rows:
        if row["run"] == "fangkong DuckDB" or "fingerprint" not in row:
            continue
        same = all(row["fingerprint"][k] == base["fingerprint"][k] for k in AGREE_KEYS)
        agree &= same
        print(
            f"{'AGREE' if same else 'DISAGREE'}: {row['run']} vs fangkong DuckDB, {len(peer_cases)} cases: "
            + "; ".join(f"{k} {row['fingerprint'][k]:,} vs {base['fingerprint'][k]:,}" for k in AGREE_KEYS)
        )
    _print_targets(dataset, fangkong, rows, len(peer_cases))
    print(_load())
    return agree


def run_peer(
    label: str, kind: str, job: dict[str, Any], *, timeout: float, memory_gb: float
) -> dict[str, Any]:
    """One peer in a child process, stopped past ``timeout`` or ``memory_gb`` (whole tree)."""
    row: dict[str, Any] = {"run": label, "cases": len(job["cases"])}
    memory_gb = min(memory_gb, available_bytes() / 1e9 - 1.5)
    with tempfile.TemporaryDirectory(prefix="colocation-") as folder:
        spec = Path(folder) / "job.json"
        out = Path(folder) / "result.json"
        spec.write_text(json.dumps({**job, "peer": kind, "out": str(out)}), encoding="utf-8")
        print(f"{label}: running (limits {timeout:.0f} s, {memory_gb:g} GB) ...", flush=True)
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--peer-job", str(spec)],
            start_new_session=True,
        )
        began = time.perf_counter()
        highest = 0
        stopped = ""
        while child.poll() is None:
            time.sleep(0.2)
            highest = max(highest, rss_bytes(child.pid))
            elapsed = time.perf_counter() - began
            if highest > memory_gb * 1e9:
                stopped = f"stopped: {highest / 1e9:.1f} GB resident after {elapsed:.0f} s"
            elif elapsed > timeout:
                stopped = f"stopped: still running after {elapsed:.0f} s ({highest / 1e9:.1f} GB at most)"
            if stopped:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                break
        if stopped:
            row["note"] = stopped
            row["seconds"] = time.perf_counter() - began
            row["stopped"] = True
        elif child.returncode != 0 or not out.exists():
            row["note"] = f"failed (exit {child.returncode})"
            row["stopped"] = True
        else:
            row.update(json.loads(out.read_text(encoding="utf-8")))
    return row


def peer_job(spec_path: Path) -> int:
    """In the child: run one peer, measure it, write the result as JSON."""
    from fangkong.engine.rules import ColocationParams

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    params = ColocationParams(**spec["params"])
    dataset, cases = Path(spec["dataset"]), spec["cases"]
    result: dict[str, Any] = {}
    if spec["peer"] == "pandas":
        run = timed(
            lambda: pandas_peer(
                dataset=dataset, cases=cases, start_us=spec["start_us"], end_us=spec["end_us"], params=params
            )
        )
        result["fingerprint"] = run.value
        result["note"] = "from the raw pings"
    elif spec["peer"] == "sql":
        run = timed(
            lambda: sql_peer(
                dataset=dataset,
                cases=cases,
                start_us=spec["start_us"],
                end_us=spec["end_us"],
                params=params,
                threads=spec["threads"],
                memory_limit=spec["memory_limit"],
                temp_directory=Path(spec["temp_directory"]),
            )
        )
        result["fingerprint"] = run.value
        result["note"] = f"from the raw pings; memory_limit {spec['memory_limit']}"
    else:
        run, note = _spark_job(spec, params)
        result["fingerprint"] = fingerprint_of(run.value, cases)
        result["note"] = note
    result.update(seconds=run.seconds, cpu=run.cpu, peak=run.peak)
    Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


def _spark_job(spec: dict[str, Any], params: Any) -> tuple[Any, str]:
    """Spark's own stays (cached like DuckDB's), then its match, timed warm (second call)."""
    from fangkong.engine.backends.spark import SparkBackend

    dataset = Path(spec["dataset"])
    start = datetime.fromtimestamp(spec["start_us"] / 1e6, tz=ZoneInfo("UTC"))
    end = datetime.fromtimestamp(spec["end_us"] / 1e6, tz=ZoneInfo("UTC"))
    wanted = {
        "master": f"local[{spec['threads']}]",
        "temp_directory": Path(spec["temp_directory"]) / "spark",
        "driver_memory": "6g",
    }
    accepted = inspect.signature(SparkBackend).parameters
    backend = SparkBackend(**{k: v for k, v in wanted.items() if k in accepted})
    began = time.perf_counter()
    if hasattr(backend, "session"):
        _ = backend.session
    session_s = time.perf_counter() - began
    stays = dataset / "stays" / "spark.parquet"
    key = {"dataset": _read_json(dataset / "manifest.json"), "params": spec["params"]}
    done = _read_json(dataset / "stays" / "spark.json")
    if done is None or done.get("key") != key or not stays.exists():
        with PeakMemory() as memory:
            cpu = cpu_seconds()
            summary = backend.stays(pings=dataset / "pings", out=stays, params=params)
            done = {
                "key": key,
                "stays": summary.stays,
                "seconds": round(summary.seconds, 2),
                "peak": memory.peak,
                "cpu": round(cpu_seconds() - cpu, 2),
            }
        (dataset / "stays" / "spark.json").write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")
        how = "computed now"
    else:
        how = "reused"

    def match() -> Any:
        return backend.match(
            stays=stays,
            checkins=dataset / "checkins",
            cases=spec["cases"],
            start=start,
            end=end,
            params=params,
        )

    first = timed(match)
    warm = timed(match)
    if hasattr(backend, "stop"):
        backend.stop()
    note = (
        f"session {session_s:.1f} s; own stays {done['stays']:,} in {done['seconds']:.1f} s ({how}); "
        f"first match {first.seconds:.2f} s, figure = second"
    )
    return warm, note


# --- output --------------------------------------------------------------------------------


def _print_row(dataset: Dataset, row: dict[str, Any], base: dict[str, Any] | None) -> None:
    if row.get("stopped") and "fingerprint" not in row:
        print(f"  {row['run']:<18} {row['cases']:>5} cases: {row['note']}", flush=True)
        return
    f = row["fingerprint"]
    ratio = f"  {row['seconds'] / base['seconds']:,.1f}x fangkong" if base else ""
    print(
        f"  {row['run']:<18} {row['cases']:>5} cases: {row['seconds']:8.2f} s (cpu {row['cpu']:.2f} s)  "
        f"{dataset.pings / row['seconds']:>13,.0f} pings/s  peak {row['peak'] / 2**20:8,.0f} MiB  "
        f"{f['rows']:>11,} rows  {f['pairs']:>10,} pairs{ratio}  [{row.get('note', '')}]",
        flush=True,
    )


def _print_targets(
    dataset: Dataset, fangkong: dict[int, dict[str, Any]], rows: list[dict[str, Any]], peer_cases: int
) -> None:
    base = fangkong[peer_cases]
    scaling = ", ".join(f"{n:,} cases {r['seconds']:.2f} s" for n, r in sorted(fangkong.items()))
    print(f"scaling with cases (fangkong DuckDB): {scaling}")
    naive = next((r for r in rows if r["run"] == "naive pandas"), None)
    if naive is None:
        versus = "naive pandas not run"
    elif "fingerprint" not in naive:
        versus = f"naive pandas {naive['note']}: more than {naive['seconds'] / base['seconds']:,.0f}x"
    else:
        ratio = naive["seconds"] / base["seconds"]
        with_stays = naive["seconds"] / (base["seconds"] + dataset.stays_seconds)
        versus = (
            f"{ratio:,.0f}x faster than naive pandas ({'met' if ratio >= 10 else 'NOT met'}: >= 10x); "
            f"{with_stays:,.1f}x counting the stays preparation too"
        )
    if (dataset.people, dataset.days, peer_cases) == (1_000_000, 1, 100):
        target = "met" if base["seconds"] < 2 else "NOT met"
        print(f"targets, 100 cases on {dataset.label}: {base['seconds']:.2f} s ({target}: < 2 s); {versus}")
    else:
        versus = versus.replace(" (met: >= 10x)", "").replace(" (NOT met: >= 10x)", "")
        print(
            f"{peer_cases} cases on {dataset.label}: {base['seconds']:.2f} s; {versus} (targets: 1 M x 1 day)"
        )


def _spark_missing() -> str:
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime"
    try:
        import fangkong.engine.backends.spark  # noqa: F401
    except ImportError as error:
        return f"fangkong.engine.backends.spark cannot be imported ({error})"
    return ""


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _micros(moment: datetime) -> int:
    from fangkong.engine.matching import micros

    return micros(moment)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _memory_gb() -> float:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        return int(meminfo.readline().split()[1]) / 2**20


if __name__ == "__main__":
    sys.exit(main())
