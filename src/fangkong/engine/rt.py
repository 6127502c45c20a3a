"""The time-varying reproduction number R_t by the method of Cori et al. (2013), computed exactly
as R's EpiEstim 2.2-4 computes it (``estimate_R`` with ``parametric_si`` or ``non_parametric_si``),
and refusing to give a number where EpiEstim gives one that only looks valid.

Rules (EpiEstim's, checked against its own output in ``tests/engine/data/``):
- Days are numbered 1..T as in EpiEstim. Cases on day 1 have no past, so all of them count as
  imported: local cases given for day 1 are moved to ``imported`` (EpiEstim warns and does so).
- Serial interval (SI): either a distribution ``w_0, w_1, ...`` over 0, 1, ... days, with
  ``w_0 == 0``, no negative value and a sum within 0.01 of 1 (it is used as given, not
  renormalised); or a mean and sd (``si_from_mean_sd``), discretised by ``discr_si`` over 0..T-1
  days: a gamma of mean ``mean - 1`` and sd ``sd`` shifted by one day, not renormalised either
  (over a short series it may sum to less than 1: that leaves the infectivity alone, which never
  looks further back than the series, but lowers the SI mean; the result says so in ``notes``).
- Overall infectivity on day t: ``lambda_t = sum_{k=0}^{t-1} w_k * (local + imported)_{t-k}``.
- Prior on R: gamma with mean ``prior_mean`` and sd ``prior_sd`` (default 5 and 5), i.e. shape
  ``a0 = (mean/sd)^2`` and scale ``b0 = sd^2/mean``. Posterior for a window [t_start, t_end]
  (both included): shape ``a0 + sum local_t`` (imported cases infect but are not infected
  locally), scale ``1 / (1/b0 + sum lambda_t)``. Reported: mean ``a*b``, sd ``sqrt(a)*b``,
  the 2.5 %, 50 % and 97.5 % quantiles (R's ``qgamma``).
- Windows: by default weekly and sliding, t_start = 2..T-6 and t_end = t_start + 6.
- No estimate (all numbers ``None``, ``reason`` says why), checked in this order:
  1. the window starts on day 1 (it has no past; EpiEstim refuses such a window outright);
  2. ``t_end`` is not after the mean of the SI distribution used (EpiEstim gives NA);
  3. the overall infectivity over the window is 0: no earlier case could have infected anyone in
     it, so the posterior scale is the prior's (EpiEstim prints ``(a0 + cases) * b0``, e.g. the
     prior mean 5 when the window has no case, or 30 for 5 cases with nobody before them);
  4. too few local cases in the window for the posterior coefficient of variation to be at most
     ``cv_posterior``: fewer than ``ceiling(1/cv_posterior^2 - a0)`` (11 by default). EpiEstim
     only warns, and only about the first window, and counts imported cases too (they do not
     narrow the posterior); here every window is checked, on local cases. It is the rule
     that catches zeros at the start, gaps and thin tails. Pass a larger ``cv_posterior`` to see
     the numbers EpiEstim prints for such windows.
- Refused with ``ValueError`` naming the argument: negative, non-integer or missing (NaN) counts
  (EpiEstim silently reads NA as 0), series of different lengths or shorter than 2 days, fewer
  than 8 days without explicit windows, windows outside 1..T or ending before they start, a bad SI
  distribution, a parametric SI with mean <= 1 or sd <= 0, a prior or ``cv_posterior`` <= 0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.special import gammainc, gammaincinv

__all__ = [
    "NoEstimate",
    "RtResult",
    "RtWindow",
    "SiDistribution",
    "discr_si",
    "estimate_r",
    "overall_infectivity",
    "si_from_mean_sd",
]

FloatArray = npt.NDArray[np.float64]

SI_SUM_TOLERANCE = 0.01
"""A given SI distribution must sum to 1 within this (EpiEstim's ``check_si_distr``)."""


class NoEstimate(StrEnum):
    """Why a window has no estimate."""

    STARTS_ON_DAY_1 = "the window starts on day 1, which has no earlier days (its cases count as imported)"
    BEFORE_MEAN_SI = "the window ends before the mean serial interval: too early to estimate"
    NO_INFECTIVITY = (
        "no earlier case could have infected anyone in the window (overall infectivity 0): "
        "a number would rest on the prior alone"
    )
    TOO_FEW_CASES = (
        "too few local cases in the window: the posterior coefficient of variation is above cv_posterior"
    )


@dataclass(frozen=True, slots=True)
class SiDistribution:
    """A serial interval: ``parametric(mean=, sd=)`` (or ``si_from_mean_sd``) or ``given(pmf)``;
    checked however it is built. ``length`` (parametric only): discretise over 0..length-1 days
    instead of over the series (EpiEstim's way, the default)."""

    mean: float | None = None
    sd: float | None = None
    pmf: tuple[float, ...] | None = None
    length: int | None = None

    def __post_init__(self) -> None:
        if self.pmf is None:
            if self.mean is None or self.sd is None:
                raise ValueError("si: give either mean and sd, or pmf")
            _check_above("mean", self.mean, 1)
            _check_above("sd", self.sd, 0)
            if self.length is not None and not (isinstance(self.length, int) and self.length >= 2):
                raise ValueError(f"length: must be a whole number of days, 2 or more, got {self.length!r}")
            return
        if self.mean is not None or self.sd is not None or self.length is not None:
            raise ValueError("si: give either mean and sd, or pmf, not both")
        values = self.pmf
        if not values:
            raise ValueError("pmf: the serial interval distribution is empty")
        if not all(isinstance(p, float) and math.isfinite(p) for p in values):
            raise ValueError("pmf: the serial interval distribution has a missing or infinite value")
        if values[0] != 0:
            raise ValueError(f"pmf: pmf[0] must be 0 (a serial interval of 0 days), got {values[0]}")
        if any(p < 0 for p in values):
            raise ValueError("pmf: the serial interval distribution has a negative value")
        if abs(math.fsum(values) - 1.0) > SI_SUM_TOLERANCE:
            raise ValueError(f"pmf: the serial interval distribution must sum to 1, got {math.fsum(values)}")

    @classmethod
    def parametric(cls, *, mean: float, sd: float, length: int | None = None) -> SiDistribution:
        """Mean and sd in days (mean > 1, sd > 0), discretised by ``discr_si`` over 0..T-1 for a
        series of T days (EpiEstim's ``parametric_si``), or over 0..length-1 when given."""
        return cls(mean=float(mean), sd=float(sd), length=length)

    @classmethod
    def given(cls, pmf: Sequence[float]) -> SiDistribution:
        """Probabilities of a serial interval of 0, 1, 2, ... days: pmf[0] == 0, none negative, sum
        within 0.01 of 1 (EpiEstim's ``check_si_distr``); used as given, not renormalised."""
        return cls(pmf=tuple(float(p) for p in pmf))

    def distribution(self, *, days: int) -> FloatArray:
        """The probabilities of 0, 1, ... days used for a series of ``days`` days (not padded)."""
        if self.pmf is not None:
            return np.asarray(self.pmf, dtype=np.float64)
        assert self.mean is not None and self.sd is not None  # __post_init__ checks it
        n = self.length if self.length is not None else days
        return discr_si(k=np.arange(n, dtype=np.float64), mu=self.mean, sigma=self.sd)


@dataclass(frozen=True, slots=True)
class RtWindow:
    """One window [t_start, t_end] (days 1..T, both included). The numbers are all ``None`` when
    ``reason`` is set, and all set otherwise. ``local_cases`` and ``infectivity`` (sum of
    lambda_t) are the data behind the posterior, for showing why."""

    t_start: int
    t_end: int
    local_cases: int
    infectivity: float
    mean: float | None
    std: float | None
    quantile_025: float | None
    median: float | None
    quantile_975: float | None
    reason: NoEstimate | None


@dataclass(frozen=True, slots=True)
class RtResult:
    """Per-window estimates, with the series and SI distribution as used (day 1 all imported; the
    SI padded with zeros to T+1 values, as EpiEstim's ``si_distr``) and its mean and sd."""

    windows: tuple[RtWindow, ...]
    local: tuple[int, ...]
    imported: tuple[int, ...]
    si_distr: tuple[float, ...]
    si_mean: float
    si_sd: float
    notes: tuple[str, ...]


def _check_above(name: str, value: float, bound: float) -> None:
    if isinstance(value, bool) or not (
        isinstance(value, numbers.Real) and math.isfinite(value) and value > bound
    ):
        raise ValueError(f"{name}: must be a number more than {bound:g}, got {value!r}")


def _gamma_cdf(x: FloatArray, shape: float, scale: float) -> FloatArray:
    """R's ``pgamma(x, shape, scale=scale)``: 0 for x <= 0."""
    result: FloatArray = np.where(x > 0, gammainc(shape, np.maximum(x, 0.0) / scale), 0.0)
    return result


def discr_si(*, k: npt.ArrayLike, mu: float, sigma: float) -> FloatArray:
    """EpiEstim's ``discr_si(k, mu, sigma)``: probability of a serial interval of k days when it is
    a gamma of mean ``mu - 1`` and sd ``sigma`` shifted by 1 day, discretised by EpiEstim's
    formula (Cori et al. 2013, web appendix 11), negatives from rounding set to 0.
    Requires mu > 1, sigma > 0 (EpiEstim allows sigma = 0 here and then fails) and k >= 0."""
    _check_above("mu", mu, 1)
    _check_above("sigma", sigma, 0)
    ks = np.atleast_1d(np.asarray(k, dtype=np.float64))
    if np.any(ks < 0) or not np.all(np.isfinite(ks)):
        raise ValueError("k: all values must be 0 or more")
    a = ((mu - 1.0) / sigma) ** 2
    b = sigma**2 / (mu - 1.0)
    res = (
        ks * _gamma_cdf(ks, a, b)
        + (ks - 2) * _gamma_cdf(ks - 2, a, b)
        - 2 * (ks - 1) * _gamma_cdf(ks - 1, a, b)
    )
    res = res + a * b * (
        2 * _gamma_cdf(ks - 1, a + 1, b) - _gamma_cdf(ks - 2, a + 1, b) - _gamma_cdf(ks, a + 1, b)
    )
    out: FloatArray = np.maximum(res, 0.0)
    return out


def si_from_mean_sd(*, mean: float, sd: float, length: int | None = None) -> SiDistribution:
    """The serial interval ``estimate_R`` builds for ``parametric_si`` from a mean and sd (days):
    ``discr_si`` over 0..T-1 for a series of T days, not renormalised; over 0..length-1 when
    ``length`` is given. Same as ``SiDistribution.parametric``."""
    return SiDistribution.parametric(mean=mean, sd=sd, length=length)


def overall_infectivity(*, total: Sequence[int], si_distr: Sequence[float]) -> FloatArray:
    """lambda_t for t = 1..T (index 0 is day 1, where EpiEstim has NA: here 0), from the daily
    local + imported cases and the SI distribution (missing tail values count as 0)."""
    cases = np.asarray(total, dtype=np.float64)
    n = len(cases)
    w = np.zeros(n, dtype=np.float64)
    m = min(n, len(si_distr))
    w[:m] = np.asarray(si_distr, dtype=np.float64)[:m]
    lam = np.zeros(n, dtype=np.float64)
    for t in range(1, n):
        lam[t] = float(np.dot(w[1 : t + 1], cases[t - 1 :: -1]))
    return lam


def _counts(name: str, values: Sequence[int]) -> list[int]:
    counts: list[int] = []
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name}: day {i + 1} is not a number: {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name}: day {i + 1} is missing or infinite ({value!r})")
        if value < 0 or value != math.floor(value):
            raise ValueError(f"{name}: day {i + 1} must be a whole number of cases, 0 or more, got {value!r}")
        counts.append(int(value))
    return counts


def _check_windows(windows: Sequence[tuple[int, int]], days: int) -> list[tuple[int, int]]:
    checked: list[tuple[int, int]] = []
    for window in windows:
        try:
            start, end = window
        except (TypeError, ValueError):
            raise ValueError(
                f"windows: each window must be a (t_start, t_end) pair, got {window!r}"
            ) from None
        if not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in (start, end)):
            raise ValueError(f"windows: days must be whole numbers, got ({start!r}, {end!r})")
        if not 1 <= start <= end <= days:
            raise ValueError(f"windows: ({start}, {end}) is not a window of days 1..{days} with start <= end")
        checked.append((int(start), int(end)))
    return checked


def _quantile(p: float, shape: float, scale: float) -> float:
    return float(gammaincinv(shape, p)) * scale


def estimate_r(
    *,
    local: Sequence[int],
    imported: Sequence[int] | None = None,
    si: SiDistribution,
    windows: Sequence[tuple[int, int]] | None = None,
    prior_mean: float = 5.0,
    prior_sd: float = 5.0,
    cv_posterior: float = 0.3,
) -> RtResult:
    """R_t per window by EpiEstim's rules (see the module docstring). ``local`` and ``imported``
    are daily case counts, day 1 first; ``windows`` are (t_start, t_end) in days 1..T."""
    loc = _counts("local", local)
    imp = _counts("imported", imported) if imported is not None else [0] * len(loc)
    if len(imp) != len(loc):
        raise ValueError(f"imported: {len(imp)} days, but local has {len(loc)}")
    days = len(loc)
    if days < 2:
        raise ValueError(f"local: at least 2 days are needed, got {days}")
    _check_above("prior_mean", prior_mean, 0)
    _check_above("prior_sd", prior_sd, 0)
    _check_above("cv_posterior", cv_posterior, 0)
    if windows is None:
        if days < 8:
            raise ValueError(f"local: weekly windows need at least 8 days, got {days}; give windows")
        spans = [(start, start + 6) for start in range(2, days - 5)]
    else:
        spans = _check_windows(windows, days)

    notes: list[str] = []
    if loc[0] > 0:
        notes.append(f"the {loc[0]} local case(s) of day 1 are counted as imported (day 1 has no past)")
        imp[0] += loc[0]
        loc[0] = 0

    w = si.distribution(days=days)
    if si.pmf is None and w.sum() < 1.0 - SI_SUM_TOLERANCE:
        notes.append(
            f"the serial interval discretised over {len(w)} days sums to {w.sum():.4f}, not 1, and is "
            "not renormalised (as in EpiEstim): si_mean is that of the cut distribution"
            + (", and infectivity misses the longer intervals" if len(w) < days else "")
        )
    if len(w) < days + 1:
        w = np.concatenate([w, np.zeros(days + 1 - len(w))])
    lags = np.arange(len(w), dtype=np.float64)
    si_mean = float(np.sum(w * lags))
    si_sd = math.sqrt(max(float(np.sum(w * lags**2)) - si_mean**2, 0.0))

    lam = overall_infectivity(total=[x + y for x, y in zip(loc, imp, strict=True)], si_distr=w.tolist())
    a_prior = (prior_mean / prior_sd) ** 2
    b_prior = prior_sd**2 / prior_mean
    min_cases = math.ceil(1.0 / cv_posterior**2 - a_prior)

    rows: list[RtWindow] = []
    for start, end in spans:
        cases = sum(loc[start - 1 : end])
        infectivity = float(np.sum(lam[start - 1 : end]))
        reason: NoEstimate | None = None
        if start < 2:
            reason = NoEstimate.STARTS_ON_DAY_1
        elif not end > si_mean:
            reason = NoEstimate.BEFORE_MEAN_SI
        elif infectivity == 0:
            reason = NoEstimate.NO_INFECTIVITY
        elif cases < min_cases:
            reason = NoEstimate.TOO_FEW_CASES
        if reason is not None:
            rows.append(RtWindow(start, end, cases, infectivity, None, None, None, None, None, reason))
            continue
        shape = a_prior + cases
        scale = 1.0 / (1.0 / b_prior + infectivity)
        rows.append(
            RtWindow(
                t_start=start,
                t_end=end,
                local_cases=cases,
                infectivity=infectivity,
                mean=shape * scale,
                std=math.sqrt(shape) * scale,
                quantile_025=_quantile(0.025, shape, scale),
                median=_quantile(0.5, shape, scale),
                quantile_975=_quantile(0.975, shape, scale),
                reason=None,
            )
        )
    return RtResult(
        windows=tuple(rows),
        local=tuple(loc),
        imported=tuple(imp),
        si_distr=tuple(float(p) for p in w),
        si_mean=si_mean,
        si_sd=si_sd,
        notes=tuple(notes),
    )
