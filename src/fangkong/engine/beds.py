"""The bed forecast: new cases for the next days from the renewal equation, split into the beds
they need, against the beds there are.

Rules:
- Cases. Day by day over the horizon, the expected new cases are ``R * lambda_t`` with
  ``lambda_t = sum_{k>=1} w_k * I_{t-k}``: the serial interval ``w`` (as ``engine.rt`` uses it) over
  the observed daily cases, then over the projected ones (the renewal equation, Cori et al. 2013).
- Uncertainty. Each draw takes one R from the Rt posterior (a gamma of ``shape`` and ``scale``,
  the last window of ``engine.rt``), held for the whole horizon, and with ``noise`` (the default)
  the day's cases are a Poisson draw around the expectation, feeding the next days. Without noise
  and with a fixed R, the projection is the renewal equation's mean path: at R = 1 over a
  constant incidence, a serial interval summing to 1 keeps the incidence constant.
- Beds. A share of each day's new cases needs a bed of each level (the observed severity mix:
  e.g. a shelter bed for the mild, a designated hospital's general bed for the moderate, an
  intensive-care bed for the severe and critical); shares are fractions of all cases, summing to
  at most 1 (the rest need none). A patient admitted on day s is in a bed on day s + j with the
  probability ``S(j)`` that their stay lasts more than j days (``S(0) = 1``), from the observed
  lengths of stay of that level. The patients in beds now stay on by the same law, given the days
  they have already stayed: ``S(a + j) / S(a)``.
- Shortage. A level runs out on the first day its median need exceeds its beds in service; it is
  at risk from the first day its upper bound (97.5 %) does.
- Refused with ``ValueError`` naming the argument: a negative or non-finite count, a horizon
  outside 1..365, draws outside 1..100,000, a share outside [0, 1] or shares over 1, a length of
  stay that is negative or empty, a negative capacity, a posterior shape or scale <= 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "BedForecast",
    "LevelForecast",
    "Occupancy",
    "Posterior",
    "forecast_beds",
    "project_cases",
    "stay_survival",
]

FloatArray = npt.NDArray[np.float64]
MAX_HORIZON = 365
MAX_DRAWS = 100_000
BANDS = (2.5, 50.0, 97.5)


@dataclass(frozen=True, slots=True)
class Posterior:
    """R's posterior over the last window: a gamma of ``shape`` and ``scale`` (mean shape*scale)."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        for name in ("shape", "scale"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be a number above 0, got {value!r}")

    @classmethod
    def from_mean_sd(cls, *, mean: float, sd: float) -> Posterior:
        """The gamma of this mean and sd (as ``engine.rt`` reports a window)."""
        if not (mean > 0 and sd > 0):
            raise ValueError(f"mean, sd: must be above 0, got {mean!r}, {sd!r}")
        return cls(shape=(mean / sd) ** 2, scale=sd**2 / mean)


@dataclass(frozen=True, slots=True)
class Occupancy:
    """One level's beds: ``capacity`` in service, the stays observed there (days, of discharged
    patients) and, for each patient in a bed now, the days they have already stayed."""

    capacity: int
    stays: Sequence[int]
    in_bed_days: Sequence[int] = ()


@dataclass(frozen=True, slots=True)
class LevelForecast:
    """Beds needed per day of the horizon (day 1 is tomorrow): mean and the 2.5/50/97.5 % bands of
    the draws; ``runs_out`` / ``at_risk``: the first day (1-based) the median / upper band exceeds
    ``capacity``, None when it never does."""

    capacity: int
    mean: tuple[float, ...]
    low: tuple[float, ...]
    median: tuple[float, ...]
    high: tuple[float, ...]
    runs_out: int | None
    at_risk: int | None


@dataclass(frozen=True, slots=True)
class BedForecast:
    """New cases per day of the horizon (mean and bands) and each level's beds."""

    horizon: int
    draws: int
    cases_mean: tuple[float, ...]
    cases_low: tuple[float, ...]
    cases_median: tuple[float, ...]
    cases_high: tuple[float, ...]
    levels: dict[str, LevelForecast]


def _counts(name: str, values: Sequence[float]) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name}: must be a list of counts, none negative or missing")
    return array


def _whole(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}: must be a whole number from {low} to {high}, got {value!r}")
    return value


def project_cases(
    *, history: Sequence[float], si: Sequence[float], r: npt.ArrayLike, horizon: int,
    noise: bool = False, seed: int | None = None,
) -> FloatArray:  # fmt: skip
    """New cases on each of the next ``horizon`` days, one row per value of ``r`` (one draw each):
    the renewal equation over ``history`` (daily cases, oldest first) and ``si`` (``si[k]``: the
    probability of a serial interval of k days, ``si[0]`` unused); with ``noise``, Poisson draws."""
    past = _counts("history", history)
    w = _counts("si", si)
    rs = np.atleast_1d(np.asarray(r, dtype=np.float64))
    if rs.ndim != 1 or not np.all(np.isfinite(rs)) or np.any(rs < 0):
        raise ValueError("r: must be one or more numbers, none negative")
    _whole("horizon", horizon, 1, MAX_HORIZON)
    rng = np.random.default_rng(seed)
    k = len(w) - 1  # the longest serial interval with a weight
    weights = w[1:][::-1]  # w_k .. w_1, against the last k days, oldest first
    series = np.zeros((len(rs), k + horizon), dtype=np.float64)
    tail = past[-k:] if k else past[:0]
    series[:, k - len(tail) : k] = tail
    for day in range(horizon):
        expected = rs * (series[:, day : day + k] @ weights) if k else np.zeros(len(rs))
        series[:, k + day] = rng.poisson(expected) if noise else expected
    projected: FloatArray = series[:, k:]
    return projected


def stay_survival(stays: Sequence[int], *, days: int) -> FloatArray:
    """``S(j)`` for j = 0..days-1: the share of the observed stays longer than j days (a stay of 0
    days still holds a bed on the day of admission: ``S(0)`` is 1)."""
    observed = _counts("stays", stays)
    if not len(observed):
        raise ValueError("stays: at least one observed length of stay is needed")
    j = np.arange(days, dtype=np.float64)
    survival: FloatArray = (observed[None, :] > j[:, None]).mean(axis=1)
    survival[0] = 1.0
    return survival


def _still_in_bed(level: Occupancy, *, days: int) -> FloatArray:
    """Expected patients of today still in a bed on each day 1..days."""
    if not len(level.in_bed_days):
        return np.zeros(days, dtype=np.float64)
    ages = _counts("in_bed_days", level.in_bed_days).astype(np.int64)
    longest = int(ages.max()) + days + 1
    s = stay_survival(level.stays, days=longest)
    s_a = s[ages]
    keep = s_a > 0  # a stay already longer than any observed: assume it ends tomorrow at the latest
    ahead = s[ages[keep][:, None] + np.arange(1, days + 1)[None, :]] / s_a[keep][:, None]
    expected: FloatArray = ahead.sum(axis=0)
    return expected


def _bands(values: FloatArray) -> tuple[tuple[float, ...], ...]:
    mean = values.mean(axis=0)
    low, median, high = np.percentile(values, BANDS, axis=0)
    return tuple(tuple(round(float(x), 2) for x in row) for row in (mean, low, median, high))


def _first_over(row: Sequence[float], capacity: int) -> int | None:
    return next((day for day, value in enumerate(row, start=1) if value > capacity), None)


def forecast_beds(
    *, history: Sequence[float], si: Sequence[float], posterior: Posterior, shares: Mapping[str, float],
    levels: Mapping[str, Occupancy], horizon: int = 14, draws: int = 10_000, noise: bool = True,
    seed: int | None = 2022,
) -> BedForecast:  # fmt: skip
    """The forecast of new cases and of the beds each level needs over ``horizon`` days, from
    ``draws`` draws of R (see the module's rules); ``shares[level]`` is the share of new cases that
    level takes, ``levels[level]`` its beds and stays."""
    _whole("draws", draws, 1, MAX_DRAWS)
    _whole("horizon", horizon, 1, MAX_HORIZON)
    for name, share in shares.items():
        if not (isinstance(share, int | float) and 0 <= share <= 1):
            raise ValueError(f"shares[{name}]: must be between 0 and 1, got {share!r}")
        if name not in levels:
            raise ValueError(f"shares[{name}]: no such level among the beds")
    if math.fsum(shares.values()) > 1 + 1e-9:
        raise ValueError("shares: the shares of the levels sum to more than 1")
    for name, level in levels.items():
        if isinstance(level.capacity, bool) or not isinstance(level.capacity, int) or level.capacity < 0:
            raise ValueError(f"levels[{name}].capacity: must be a whole number, 0 or more")
    rng = np.random.default_rng(seed)
    r = rng.gamma(posterior.shape, posterior.scale, size=draws)
    cases = project_cases(  # the case noise from a stream of its own, not the one R was drawn from
        history=history, si=si, r=r, horizon=horizon, noise=noise, seed=None if seed is None else seed + 1
    )
    cases_bands = _bands(cases)
    out: dict[str, LevelForecast] = {}
    for name, level in levels.items():
        survival = stay_survival(level.stays, days=horizon)
        admitted = cases * float(shares.get(name, 0.0))
        # beds[d] = sum over s <= d of admitted[s] * S(d - s): a convolution along the horizon
        need = np.zeros_like(admitted)
        for lag in range(horizon):
            need[:, lag:] += admitted[:, : horizon - lag] * survival[lag]
        need += _still_in_bed(level, days=horizon)[None, :]
        mean, low, median, high = _bands(need)
        out[name] = LevelForecast(
            capacity=level.capacity,
            mean=mean,
            low=low,
            median=median,
            high=high,
            runs_out=_first_over(median, level.capacity),
            at_risk=_first_over(high, level.capacity),
        )
    return BedForecast(
        horizon=horizon,
        draws=draws,
        cases_mean=cases_bands[0],
        cases_low=cases_bands[1],
        cases_median=cases_bands[2],
        cases_high=cases_bands[3],
        levels=out,
    )
