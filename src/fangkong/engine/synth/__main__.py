"""Command line: ``python -m fangkong.engine.synth --people N --days D --out DIR [--seed S]``.

Prints progress to stderr and the summary (JSON) to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path

from fangkong.engine.synth.generate import synth_city


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, generate the city, print the summary; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fangkong.engine.synth", description=__doc__)
    parser.add_argument("--people", type=int, required=True, help="residents to simulate")
    parser.add_argument("--days", type=int, default=1, help="local days to simulate (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="dataset directory to create")
    parser.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    parser.add_argument("--start", type=date.fromisoformat, default=None, help="first local day, YYYY-MM-DD")
    parser.add_argument("--chunk", type=int, default=50_000, help="people per chunk (memory bound)")
    args = parser.parse_args(argv)

    def progress(done: int, total: int) -> None:
        print(
            f"\r{done:,}/{total:,} person-days ({100 * done / total:.0f}%)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    try:
        summary = synth_city(
            people=args.people,
            days=args.days,
            out=args.out,
            seed=args.seed,
            start=args.start,
            chunk=args.chunk,
            progress=progress,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    print(json.dumps(asdict(summary)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
