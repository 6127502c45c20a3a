"""The Spark job as an operator runs it (docs/engine.md, "Running it on a cluster").

- ``spark_job`` refuses a bad argument before any Spark session starts, on stderr.
- ``spark-submit`` of the job to a real standalone cluster (a master and one worker on loopback,
  started from the PySpark package's own ``spark-class``) in client deploy mode, with the engine
  shipped as a zip (``--py-files``), agrees exactly with DuckDB; a bad argument is refused with the
  reason on stderr and nothing on stdout. The cluster is stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
import pyspark
import pytest

from fangkong.engine import spark_job
from fangkong.engine.backends.duckdb import DuckDBBackend
from tests.engine.conftest import PARAMS, at, write_checkins, write_pings
from tests.engine.test_stays_matching import crowd, read_stays

SPARK_HOME = Path(pyspark.__file__).parent
SRC = Path(__file__).resolve().parents[2] / "src"
FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"  # short-lived JVMs: start fast, stay small
WINDOW = ["--start", at(1, 14, 20).isoformat(), "--end", at(1, 16).isoformat()]


# --- arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"--start": "2024-03-01T14:20"}, "has no offset"),
        ({"--start": "2024-13-01T14:20+08:00"}, "not an ISO date and time"),
        ({"--end": "2024-03-01T14:00+08:00"}, "is before --start"),
        ({"--cases": "1,x"}, "case ids must be integers"),
        ({"--checkins": "/nonexistent/checkins"}, "--checkins: no such file or folder"),
        ({"--timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"--cell-size-m": "0"}, "cell_size_m must be positive"),
    ],
)
def test_spark_job_refuses_a_bad_argument_before_any_session(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    reason: str,
) -> None:
    def no_session(**_: object) -> None:
        raise AssertionError("a Spark session was started for a bad argument")

    monkeypatch.setattr(spark_job, "build_session", no_session)
    (tmp_path / "stays.parquet").touch()
    (tmp_path / "checkins").mkdir()
    options = {
        "--stays": str(tmp_path / "stays.parquet"),
        "--checkins": str(tmp_path / "checkins"),
        "--cases": "1",
        "--start": at(1, 14, 20).isoformat(),
        "--end": at(1, 16).isoformat(),
        "--out": str(tmp_path / "run"),
    }
    options.update(change)
    args = ["match", *(word for pair in options.items() for word in pair)]
    try:
        status = spark_job.main(args)
    except SystemExit as refused:  # argparse refuses what it parses itself
        status = int(str(refused.code))
    printed = capsys.readouterr()
    assert status == 2
    assert reason in printed.err and printed.out == ""
    assert not (tmp_path / "run").exists()


# --- a standalone cluster ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _environment(root: Path) -> dict[str, str]:
    """What the operator sets (docs/engine.md): SPARK_HOME of the pip-installed PySpark, the
    driver's Python, loopback addresses; and an empty configuration folder of our own."""
    (root / "conf").mkdir(exist_ok=True)
    return {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_CONF_DIR": str(root / "conf"),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(root / "local"),
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_DAEMON_JAVA_OPTS": FAST_JVM,
    }


@contextmanager
def standalone_cluster(root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A standalone master and one worker (2 cores, 1 GiB) on loopback: yields the master URL
    and the environment to submit with. Both are stopped on the way out, even on failure."""
    env = _environment(root)
    port = _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    daemons: list[subprocess.Popen[bytes]] = []
    logs = {"master": root / "master.log", "worker": root / "worker.log"}
    loopback = ["--host", "127.0.0.1", "--webui-port", "0"]
    worker = ["--cores", "2", "--memory", "1g", "--work-dir", str(root / "work")]
    commands = {
        "master": [spark_class, "org.apache.spark.deploy.master.Master", *loopback, "--port", str(port)],
        "worker": [spark_class, "org.apache.spark.deploy.worker.Worker", master_url, *loopback, *worker],
    }
    try:
        for name, command in commands.items():
            with open(logs[name], "wb") as log:
                daemons.append(
                    subprocess.Popen(  # noqa: S603 - our own command line
                        command,
                        env=env,
                        cwd=root,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            if name == "master":
                _wait_for_port(port, process=daemons[0], log=logs[name])
        yield master_url, env
    finally:
        for daemon in reversed(daemons):  # the worker first: it ends its executors
            if daemon.poll() is None:
                os.killpg(daemon.pid, signal.SIGTERM)
        for daemon in daemons:
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()


def _wait_for_port(port: int, *, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the master accepts connections (a driver that finds none waits 20 s to retry)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Spark master exited:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"the Spark master did not listen within 60 s:\n{log.read_text()[-3000:]}")


def _engine_zip(out: Path) -> Path:
    """The engine as docs/engine.md ships it: ``fangkong/__init__.py`` and ``fangkong/engine``
    in a zip, without bytecode."""
    files = [SRC / "fangkong" / "__init__.py", *sorted((SRC / "fangkong" / "engine").rglob("*.py"))]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            if "__pycache__" not in file.parts:
                archive.write(file, file.relative_to(SRC))
    return out


def _submit(
    args: list[str], *, master: str, env: dict[str, str], root: Path, engine: Path
) -> subprocess.CompletedProcess[str]:
    command = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", master, "--deploy-mode", "client"]
    command += ["--py-files", str(engine), "--total-executor-cores", "2", "--executor-memory", "512m"]
    command += ["--driver-java-options", FAST_JVM, "--conf", f"spark.executor.extraJavaOptions={FAST_JVM}"]
    command += ["--conf", "spark.sql.shuffle.partitions=4", "--conf", "spark.ui.enabled=false"]
    command += [str(SRC / "fangkong" / "engine" / "spark_job.py"), *args]
    return subprocess.run(  # noqa: S603 - our own command line
        command, env=env, cwd=root, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.spark
def test_spark_submit_to_a_standalone_cluster_agrees_with_duckdb(tmp_path: Path) -> None:
    rows, visits = crowd()
    visits += [(3, None, at(1, 14, 30), None), (None, 1, at(1, 14, 30), None)]  # type: ignore[list-item]
    pings, checkins = write_pings(tmp_path, rows), write_checkins(tmp_path, visits)
    engine = _engine_zip(tmp_path / "fangkong.zip")
    both = ["both", "--folder", "--pings", str(pings), "--stays", str(tmp_path / "stays")]
    both += ["--checkins", str(checkins), "--cases", "1,2,77", *WINDOW, "--out", str(tmp_path / "run")]
    bad = ["match", "--stays", str(tmp_path / "stays"), "--checkins", str(checkins), "--cases", "1"]
    bad += ["--start", "2024-03-01T14:20", "--end", at(1, 16).isoformat(), "--out", str(tmp_path / "x")]

    with standalone_cluster(tmp_path) as (master, env):
        done = _submit(both, master=master, env=env, root=tmp_path, engine=engine)
        refused = _submit(bad, master=master, env=env, root=tmp_path, engine=engine)

    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    report = json.loads(done.stdout.strip().splitlines()[-1])
    duckdb = DuckDBBackend(threads=2)
    expected_stays = duckdb.stays(pings=pings, out=tmp_path / "duckdb.parquet", params=PARAMS)
    expected = duckdb.match(
        stays=tmp_path / "duckdb.parquet",
        checkins=checkins,
        cases=[1, 2, 77],
        start=at(1, 14, 20),
        end=at(1, 16),
        params=PARAMS,
    )
    assert read_stays(tmp_path / "stays").equals(read_stays(tmp_path / "duckdb.parquet"))
    counts = ("pings", "dropped", "stays", "people")
    assert [report["stays"][k] for k in counts] == [getattr(expected_stays, k) for k in counts]
    assert expected.exposures.num_rows > 20
    assert pq.read_table(tmp_path / "run" / "exposures.parquet").equals(expected.exposures)
    assert pq.read_table(tmp_path / "run" / "summary.parquet").equals(expected.summary)
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["cases_without_data"] == [77] == list(expected.cases_without_data)
    assert result["checkins_dropped"] == 2 == expected.checkins_dropped

    assert refused.returncode == 2
    assert "has no offset" in refused.stderr and "has no offset" not in refused.stdout
    assert "SparkContext" not in refused.stderr  # refused before any session started
