"""The pooling advisor: its choice, Dorfman's formula and the seeded simulator over 1,000,000 people.

    .venv/bin/python bench/pooling.py [--people 1000000] [--max-k 20] [--peer-people 200000]

For each prevalence: the advised pool size and why, the formula's tests per person, the
simulator's (independent infection, and households infected together) and the relative
difference, the simulator's seconds; the peer is a plain Python loop simulating the same thing
(``--peer-people`` people, rate extrapolated), run in the same process.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from fangkong.engine.pooling import advise, dorfman_tests_per_person, simulate


def load() -> str:
    return f"  [load {os.getloadavg()[0]:.2f}]"


def naive(*, people: int, p: float, k: int, seed: int) -> float:
    """The same simulation, one person at a time in plain Python."""
    rng = random.Random(seed)
    tests = 0
    for start in range(0, people, k):
        size = min(k, people - start)
        positive = any(rng.random() < p for _ in range(size))
        tests += 1 + (size if positive and k > 1 else 0)
    return tests / people


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--max-k", type=int, default=20)
    parser.add_argument("--peer-people", type=int, default=200_000)
    args = parser.parse_args()
    for p in (0.0001, 0.001, 0.01, 0.05):
        advice = advise(p=p, max_k=args.max_k)
        formula = dorfman_tests_per_person(k=advice.k, p=p)
        started = time.perf_counter()
        sim = simulate(people=args.people, p=p, k=advice.k, seed=2022)
        took = time.perf_counter() - started
        clustered = simulate(people=args.people, p=p, k=advice.k, seed=2022, clustered=True)
        started = time.perf_counter()
        naive(people=args.peer_people, p=p, k=advice.k, seed=2022)
        peer = (time.perf_counter() - started) * args.people / args.peer_people
        print(
            f"p={p:.4%}: k={advice.k} ({advice.reason}), sensitivity {advice.sensitivity:.3f}; formula "
            f"{formula:.5f} tests/person, simulated {sim.tests_per_person:.5f} "
            f"({(sim.tests_per_person - formula) / formula:+.2%}) over {args.people:,} people in {took:.2f} s; "
            f"households infected together {clustered.tests_per_person:.5f}; peer (plain loop) {peer:.1f} s, "
            f"{peer / took:,.0f}× slower{load()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
