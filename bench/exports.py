"""Exports at scale: 200,000 cases as CSV and Excel through the real view, against a naive peer.

    .venv/bin/python bench/exports.py [--cases 200000] [--residents 2000] [--no-tracemalloc] [--no-pandas]

The database is ``DATABASE_URL`` when set, else SQLite in ``FANGKONG_VAR_DIR`` when set (both are
kept, and the cases in them reused next time), else a fresh SQLite file in a temporary directory.
It is migrated, given the demo city (``--residents``) and filled up to ``--cases`` cases by
``_epidemic_data.epidemic_fill``.

Then, as the demo commander (the whole city in scope), each export is read to its end through
Django's test ``Client`` and the full middleware stack, while a thread samples the process's
resident memory (``VmRSS``) every 5 ms:

1. CSV, masked (``StreamingHttpResponse``, rows read 2,000 at a time);
2. CSV, in full (the same, plus decrypting every ID number and phone; audited);
3. Excel, masked: asked, written as the worker writes it (openpyxl write-only, into a file under
   ``var/exports``), then downloaded (``FileResponse``);
4. the peer, CSV: ``list()`` of the cases (model instances with their person, grid and
   district), the same columns written by ``csv.writer`` into one string;
5. the peer, Excel: the same list into a pandas ``DataFrame``, then ``to_excel`` in memory.

Each prints rows/s, the peak RSS above the RSS before it, and (in a second run, as tracemalloc
slows Python down) the peak of Python allocations. The streamed runs go first: memory the
peers take is not all given back to the system and would raise the later baselines. The CSV of
the peer must be byte for byte the streamed CSV.
"""

from __future__ import annotations

import argparse
import csv
import gc
import hashlib
import io
import os
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PeakRss:
    """The highest VmRSS seen while the block runs (sampled every 5 ms in a thread)."""

    def __enter__(self) -> PeakRss:
        self.before = self.peak = rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_kib())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib())


def measure(name: str, run: Callable[[], tuple[int, int]], *, rows: int, trace: bool) -> dict[str, Any]:
    """Time ``run`` (which returns rows and bytes produced) under the RSS sampler, then run it
    again under tracemalloc for the peak of Python allocations."""
    gc.collect()
    with PeakRss() as rss:
        started = time.perf_counter()
        got, size = run()
        seconds = time.perf_counter() - started
    assert got == rows, f"{name}: {got} rows, expected {rows}"
    traced = None
    if trace:
        gc.collect()
        tracemalloc.start()
        run()
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    result = {
        "name": name,
        "rate": rows / seconds,
        "seconds": seconds,
        "rss": (rss.peak - rss.before) / 1024,
        "rss_peak": rss.peak / 1024,
        "traced": traced / 2**20 if traced is not None else None,
        "bytes": size,
    }
    traced_text = f"{result['traced']:7.1f} MiB" if traced is not None else "      —"
    print(
        f"{name:<34} {result['rate']:>9,.0f} rows/s {seconds:7.2f} s   RSS +{result['rss']:7.1f} MiB "
        f"(peak {result['rss_peak']:6.0f} MiB)   tracemalloc peak {traced_text}   {size / 2**20:6.1f} MiB out",
        flush=True,
    )
    return result


def main(var_dir: str) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--residents", type=int, default=2_000)
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--no-pandas", action="store_true", help="skip the slowest run, the peer's Excel")
    args = parser.parse_args()
    os.environ["FANGKONG_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django

    django.setup()

    import pandas as pd
    from _epidemic_data import epidemic_fill
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from fangkong.audit.models import AuditEvent
    from fangkong.cases.models import Case
    from fangkong.dashboard.export_files import export_file_build
    from fangkong.dashboard.exports import CASES, ExportJob, export_headers, row_maker
    from fangkong.dashboard.models import ExportFile
    from fangkong.demo.load import demo_load

    database = settings.DATABASES["default"]
    print(f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}", flush=True)
    call_command("migrate", verbosity=0)
    demo_load(residents=args.residents)
    have = Case.objects.count()
    if have < args.cases:
        started = time.perf_counter()
        filled = epidemic_fill(cases=args.cases - have, contacts=0, seed=have + 1)
        print(f"epidemic_fill: {filled} in {time.perf_counter() - started:.1f} s", flush=True)
    rows = Case.objects.count()
    print(f"cases: {rows:,} (the export holds them all)", flush=True)

    commander = get_user_model().objects.get(username="commander")
    client = Client()
    client.force_login(commander)

    def view(fmt: str, **params: str) -> Callable[[], tuple[int, int]]:
        def run() -> tuple[int, int]:
            response = client.post(f"/dashboard/exports/cases.{fmt}", params)
            if fmt == "xlsx":  # asked, written (here, as the worker would), then downloaded
                assert response.status_code == 302, response.status_code
                file = ExportFile.objects.latest("pk")
                export_file_build(file_id=file.pk)
                response = client.get(f"/dashboard/exports/files/{file.pk}/download")
            assert response.status_code == 200, response.status_code
            size = lines = 0
            for chunk in response.streaming_content:
                size += len(chunk)
                lines += chunk.count(b"\n")
            response.close()
            written = (
                AuditEvent.objects.filter(action__startswith="dashboard.export").latest("id").after["rows"]
            )
            if fmt == "csv":
                assert lines - 1 == written, (lines, written)
            return written, size

        return run

    job = ExportJob(kind=CASES, fmt="csv")

    def naive_rows() -> tuple[list[str], list[list[Any]]]:
        """Every case as a model instance first, then the same row function on each."""
        from fangkong.cases.selectors import CaseFilters, case_list
        from fangkong.dashboard.exports import _fields

        cases = list(case_list(actor=commander, filters=CaseFilters()).order_by(*CASES.order))
        row = row_maker(job, excel=False)
        keys = _fields(CASES.columns, full=False)
        return export_headers(job), [row({key: _follow(case, key) for key in keys}) for case in cases]

    def naive_csv() -> tuple[int, int]:
        headers, table = naive_rows()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows(table)
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        naive_csv.digest = hashlib.sha256(data).hexdigest()  # type: ignore[attr-defined]
        return len(table), len(data)

    def naive_xlsx() -> tuple[int, int]:
        headers, table = naive_rows()
        out = io.BytesIO()
        pd.DataFrame(table, columns=headers).to_excel(out, index=False, engine="openpyxl")
        return len(table), len(out.getvalue())

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    for fmt in ("csv", "xlsx"):  # the first request of a process loads code and catalogues: not ours
        view(fmt, since=tomorrow)()
    trace = not args.no_tracemalloc
    print(flush=True)
    streamed = measure("view CSV, masked (streamed)", view("csv"), rows=rows, trace=trace)
    measure("view CSV, full (decrypts; audited)", view("csv", full="1"), rows=rows, trace=trace)
    excel = measure("view Excel, masked (write-only)", view("xlsx"), rows=rows, trace=trace)
    response = client.post("/dashboard/exports/cases.csv")
    streamed_digest = hashlib.sha256(b"".join(response.streaming_content)).hexdigest()
    peer = measure("peer CSV: list(), then csv.writer", naive_csv, rows=rows, trace=trace)
    pairs = [(streamed, peer)]
    if not args.no_pandas:
        pairs.append((excel, measure("peer Excel: list(), then pandas", naive_xlsx, rows=rows, trace=trace)))
    assert naive_csv.digest == streamed_digest, "the peer's CSV is not the view's"  # type: ignore[attr-defined]
    print()
    for ours, theirs in pairs:
        mem = "—" if not trace else f"{theirs['traced'] / ours['traced']:,.1f}×"
        print(
            f"{ours['name']} vs {theirs['name']}: {ours['rate'] / theirs['rate']:.2f}× the rate, "
            f"{theirs['rss'] / max(ours['rss'], 0.1):,.1f}× less RSS growth, {mem} less traced memory"
        )
    return 0


def _follow(obj: Any, key: str) -> Any:
    for name in key.split("__"):
        obj = getattr(obj, name)
    return obj


if __name__ == "__main__":
    given = os.environ.get("FANGKONG_VAR_DIR")
    scratch = given or tempfile.mkdtemp(prefix="fangkong-bench-")
    try:
        sys.exit(main(scratch))
    finally:
        if not given:
            shutil.rmtree(scratch, ignore_errors=True)
