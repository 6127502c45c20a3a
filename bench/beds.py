"""The bed forecast (engine.beds) over 10,000 draws, against a plain Python loop, draw by draw.

    .venv/bin/python bench/beds.py [--draws 10000] [--horizon 14] [--peer-draws 500]

Data: 30 days of a growing outbreak (about 300 cases a day at the end), the serial interval of
``china-9`` (mean 3.0, sd 1.5 days, as ``engine.rt`` discretises it), R ~ gamma(mean 1.3, sd 0.1),
three levels (shelter 70 %, general 20 %, intensive care 4 % of new cases) with observed stays
and patients in beds now. Prints the seconds of ``forecast_beds`` (best of three), its median
need and the day each level runs out, then the peer: the same renewal equation and the same
stay convolution written as loops in plain Python over ``--peer-draws`` draws, extrapolated to
``--draws``, with the ratio. Target (issue 17): 10,000 draws ≤ 1 s. The load average is printed
with every figure: re-run when it is above the machine's cores.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from fangkong.engine.beds import Occupancy, Posterior, forecast_beds, stay_survival
from fangkong.engine.rt import discr_si


def load() -> str:
    return f"  [load {os.getloadavg()[0]:.2f}]"


def peer(*, history, si, posterior, shares, levels, horizon, draws):  # type: ignore[no-untyped-def]
    """The obvious loop: for each draw, R, the days one by one, each level's beds one by one."""
    rng = random.Random(1)
    survival = {name: list(stay_survival(level.stays, days=horizon)) for name, level in levels.items()}
    needs: dict[str, list[list[float]]] = {name: [] for name in levels}
    for _ in range(draws):
        r = rng.gammavariate(posterior.shape, posterior.scale)
        series = list(history)
        for _day in range(horizon):
            lam = sum(si[k] * series[-k] for k in range(1, len(si)) if k <= len(series))
            series.append(float(_poisson(rng, r * lam)))
        new = series[len(history) :]
        for name in levels:
            row = []
            for d in range(horizon):
                row.append(sum(new[s] * shares[name] * survival[name][d - s] for s in range(d + 1)))
            needs[name].append(row)
    return needs


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:  # normal approximation for large means, as a loop written by hand would do
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--peer-draws", type=int, default=500)
    args = parser.parse_args()
    history = [round(20 * 1.1**day) for day in range(30)]
    si = [float(x) for x in discr_si(k=list(range(15)), mu=3.0, sigma=1.5)]
    posterior = Posterior.from_mean_sd(mean=1.3, sd=0.1)
    shares = {"shelter": 0.70, "general": 0.20, "icu": 0.04}
    levels = {
        "shelter": Occupancy(capacity=3000, stays=[7, 8, 9, 10, 10, 11, 12, 14], in_bed_days=[2] * 1200),
        "general": Occupancy(capacity=900, stays=[10, 12, 14, 15, 18, 21], in_bed_days=[3] * 350),
        "icu": Occupancy(capacity=120, stays=[12, 15, 20, 25, 30], in_bed_days=[4] * 60),
    }
    kwargs = {"history": history, "si": si, "posterior": posterior, "shares": shares, "levels": levels}
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        forecast = forecast_beds(**kwargs, horizon=args.horizon, draws=args.draws)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - started)
    print(
        f"forecast_beds: {args.draws:,} draws × {args.horizon} days: {best * 1000:,.0f} ms (best of 3)"
        + load()
    )
    print(
        f"  new cases, median: day 1 {forecast.cases_median[0]:,.0f}, day {args.horizon} {forecast.cases_median[-1]:,.0f}"
    )
    for name, level in forecast.levels.items():
        print(
            f"  {name}: {level.capacity:,} beds; median need day 1 {level.median[0]:,.0f}, day {args.horizon} "
            f"{level.median[-1]:,.0f}; runs out on day {level.runs_out}, at risk from day {level.at_risk}"
        )
    started = time.perf_counter()
    peer(**kwargs, horizon=args.horizon, draws=args.peer_draws)  # type: ignore[arg-type]
    seconds = (time.perf_counter() - started) * args.draws / args.peer_draws
    print(
        f"peer: the plain loop over {args.peer_draws:,} draws, extrapolated to {args.draws:,}: {seconds * 1000:,.0f} ms"
        f" — forecast_beds is {seconds / best:.0f}× faster" + load()
    )
    print(f"target: {args.draws:,} draws ≤ 1 s {'met' if best <= 1 else 'MISSED'} ({best:.3f} s)" + load())


if __name__ == "__main__":
    main()
