"""The pooling advisor: its choice, Dorfman's formula and the seeded simulator over 1,000,000 people.

    .venv/bin/python bench/pooling.py [--people 1000000] [--max-k 20] [--seed 2022]

For each prevalence: the advised pool size and why; the formula's tests per person; the
simulator's with independent infection (the formula's assumption), its relative difference and
that difference in standard errors (the chance spread of a population of that size); the
simulator with infection clustered in households (Omicron's attack rate); the expected missed by
dilution under the advisor's model; the seconds of each (the best of three runs). Two peers run in the same process on the
same people: a plain Python loop drawing person by person, and numpy drawing one number per person
(the simulator draws only the infected, as geometric gaps, so that ratio is the algorithm's).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from fangkong.engine.pooling import (
    LOSS_PER_DOUBLING,
    S1,
    advise,
    dorfman_standard_error,
    dorfman_tests_per_person,
    simulate,
)

PREVALENCES = (0.0001, 0.001, 0.01, 0.05)
REPEAT = 3  # each timing is the best of three runs
T = TypeVar("T")


def load() -> str:
    return f"  [load {os.getloadavg()[0]:.2f}]"


def plain_loop(*, people: int, p: float, k: int, seed: int) -> float:
    """Independent infection, one person at a time in plain Python: tests per person."""
    draw = random.Random(seed).random
    tests = 0
    for start in range(0, people, k):
        size = min(k, people - start)
        positive = False
        for _ in range(size):
            if draw() < p:
                positive = True
        tests += 1 + (size if positive and k > 1 else 0)
    return tests / people


def numpy_per_person(*, people: int, p: float, k: int, seed: int) -> float:
    """Independent infection, one uniform number per person in numpy: tests per person."""
    infected = np.random.default_rng(seed).random(people) < p
    tubes = -(-people // k)
    padded = np.zeros(tubes * k, dtype=bool)
    padded[:people] = infected
    sizes = np.full(tubes, k)
    sizes[-1] = people - k * (tubes - 1)
    positive = padded.reshape(tubes, k).any(axis=1)
    return (people if k == 1 else tubes + int(sizes[positive].sum())) / people


def timed(call: Callable[..., T], /, **kwargs: Any) -> tuple[T, float]:
    """The call's result and its best time of ``REPEAT`` (the same seed: the same result)."""
    best = float("inf")
    result: T | None = None
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = call(**kwargs)
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return result, best


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--max-k", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args()
    people, seed = args.people, args.seed
    simulate(people=1000, p=0.01, k=10, seed=seed)  # numpy's first calls, outside the timings
    print(f"{people:,} people, protocol's largest pool {args.max_k}, seed {seed}{load()}")
    for p in PREVALENCES:
        advice = advise(p=p, max_k=args.max_k)
        k = advice.k
        formula = dorfman_tests_per_person(k=k, p=p)
        error = dorfman_standard_error(people=people, p=p, k=k)
        print(
            f"p = {p:.2%}: {k}-in-1 ({advice.reason}: {advice.explanation}), sensitivity {advice.sensitivity:.3f}{load()}"
        )
        independent, took = timed(simulate, people=people, p=p, k=k, seed=seed, within_household_attack=0.0)
        difference = independent.tests_per_person - formula
        print(
            f"  formula {formula:.5f} tests/person; simulated, independent {independent.tests_per_person:.5f} "
            f"({difference / formula:+.2%}, {difference / error:+.1f} standard errors of {error / formula:.2%}) "
            f"in {took * 1000:.2f} ms{load()}"
        )
        clustered, took_c = timed(simulate, people=people, p=p, k=k, seed=seed)
        print(
            f"  simulated, households infected together: {clustered.tests_per_person:.5f} tests/person "
            f"({clustered.tests_per_person / formula - 1:+.1%} against the formula), prevalence "
            f"{clustered.prevalence:.4%}, {clustered.positive_pools:,} positive pools, in {took_c * 1000:.1f} ms{load()}"
        )
        diluted = simulate(
            people=people,
            p=p,
            k=k,
            seed=seed,
            s1=S1,
            loss_per_doubling=LOSS_PER_DOUBLING,
            within_household_attack=0.0,
        )
        print(
            f"  with the dilution model (s1 {S1}, {LOSS_PER_DOUBLING} lost per doubling): {diluted.infected:,} infected, "
            f"{diluted.detected:,} found, {diluted.missed_by_dilution:,} missed by dilution{load()}"
        )
        loop, took_loop = timed(plain_loop, people=people, p=p, k=k, seed=seed)
        per_person, took_np = timed(numpy_per_person, people=people, p=p, k=k, seed=seed)
        print(
            f"  peers: plain loop {loop:.5f} in {took_loop:.2f} s ({took_loop / took:,.0f}× the simulator); "
            f"numpy per person {per_person:.5f} in {took_np * 1000:.1f} ms ({took_np / took:,.1f}×){load()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
