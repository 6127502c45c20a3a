"""engine.rt against R's EpiEstim 2.2-4 on its own example data (tests/engine/data/, made by
epiestim_reference.R), and on bad input.

Tolerance: every number within 1e-6 absolute or 1e-6 relative to EpiEstim's, whichever is larger
(``pytest.approx(ref, rel=1e-6, abs=1e-6)``): absolute 1e-6 for values up to 1, relative above.
"""

from __future__ import annotations

import csv
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.engine.rt import (
    NoEstimate,
    RtResult,
    SiDistribution,
    discr_si,
    estimate_r,
    overall_infectivity,
    si_from_mean_sd,
)

DATA = Path(__file__).parent / "data"
NUMBERS = (
    ("mean", "mean"),
    ("std", "std"),
    ("quantile_025", "q025"),
    ("median", "median"),
    ("quantile_975", "q975"),
)
NO_CV_LIMIT = 1e6
"""A ``cv_posterior`` so large that no window is dropped for too few cases, to see every number."""


def _close(reference: float) -> object:
    """Equal to EpiEstim's number within 1e-6 absolute or 1e-6 relative, whichever is larger."""
    return pytest.approx(reference, rel=1e-6, abs=1e-6)


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    with (DATA / name).open(newline="") as f:
        return tuple(csv.DictReader(f))


RUNS = {run["run"]: run for run in _rows("epiestim_runs.csv")}


def _series(data: str) -> tuple[list[int], list[int]]:
    rows = _rows(f"incidence_{data}.csv")
    return [int(r["local"]) for r in rows], [int(r["imported"]) for r in rows]


def _si(run: dict[str, str]) -> SiDistribution:
    if run["method"] == "parametric_si":
        return SiDistribution.parametric(mean=float(run["mean_si"]), sd=float(run["std_si"]))
    return SiDistribution.given([float(r["p"]) for r in _rows(run["si_file"])])


def _reference(name: str) -> tuple[dict[str, str], ...]:
    return _rows(f"epiestim_{name}.csv")


def _estimate(name: str, *, cv_posterior: float = 0.3, default_windows: bool = False) -> RtResult:
    run = RUNS[name]
    local, imported = _series(run["data"])
    windows = None if default_windows else [(int(r["t_start"]), int(r["t_end"])) for r in _reference(name)]
    return estimate_r(
        local=local,
        imported=imported,
        si=_si(run),
        windows=windows,
        prior_mean=float(run["mean_prior"]),
        prior_sd=float(run["std_prior"]),
        cv_posterior=cv_posterior,
    )


def test_reference_covers_two_data_sets_two_si_forms_imports_and_custom_windows() -> None:
    runs = RUNS.values()
    assert {r["data"] for r in runs} >= {"flu2009", "flu1918", "sars2003", "flu2009_imported"}
    for data in ("flu2009", "flu1918", "sars2003"):
        assert {r["method"] for r in runs if r["data"] == data} == {"parametric_si", "non_parametric_si"}
    assert any(r["windows"] == "given" for r in runs)
    assert (DATA / "versions.txt").read_text().splitlines()[1] == "EpiEstim 2.2.4"


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_number_matches_epiestim(name: str) -> None:
    run = RUNS[name]
    result = _estimate(name, cv_posterior=NO_CV_LIMIT)
    reference = _reference(name)
    assert [(w.t_start, w.t_end) for w in result.windows] == [
        (int(r["t_start"]), int(r["t_end"])) for r in reference
    ]
    compared = 0
    for window, ref in zip(result.windows, reference, strict=True):
        if ref["mean"] == "":  # EpiEstim: NA
            assert window.reason is NoEstimate.BEFORE_MEAN_SI
            assert window.t_end <= result.si_mean
        elif window.reason is NoEstimate.NO_INFECTIVITY:
            # EpiEstim prints numbers from the prior alone (scale b0) here; we refuse to.
            a0 = (float(run["mean_prior"]) / float(run["std_prior"])) ** 2
            b0 = float(run["std_prior"]) ** 2 / float(run["mean_prior"])
            shape = a0 + window.local_cases
            assert float(ref["mean"]) == pytest.approx(shape * b0, rel=1e-12)
            assert float(ref["std"]) == pytest.approx(math.sqrt(shape) * b0, rel=1e-12)
        else:
            assert window.reason is None
            for ours, theirs in NUMBERS:
                assert getattr(window, ours) == _close(float(ref[theirs])), (window, ours)
                compared += 1
    assert compared >= 15


@pytest.mark.parametrize("name", sorted(RUNS))
def test_si_distribution_and_its_moments_match_epiestim(name: str) -> None:
    run = RUNS[name]
    result = _estimate(name)
    reference = [float(r["p"]) for r in _rows(f"epiestim_{name}_si.csv")]
    assert len(result.si_distr) == len(reference)
    np.testing.assert_allclose(result.si_distr, reference, rtol=1e-6, atol=1e-12)
    assert result.si_mean == _close(float(run["si_moment_mean"]))
    assert result.si_sd == _close(float(run["si_moment_std"]))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_default_cv_rule_drops_thin_windows_and_keeps_the_rest_exact(name: str) -> None:
    run = RUNS[name]
    a_prior = (float(run["mean_prior"]) / float(run["std_prior"])) ** 2
    min_cases = math.ceil(1 / 0.3**2 - a_prior)
    strict, loose = _estimate(name), _estimate(name, cv_posterior=NO_CV_LIMIT)
    for window, full in zip(strict.windows, loose.windows, strict=True):
        if full.reason is None and window.local_cases < min_cases:
            assert window.reason is NoEstimate.TOO_FEW_CASES
        else:
            assert window == full


@pytest.mark.parametrize("name", sorted(n for n, r in RUNS.items() if r["windows"] == "weekly"))
def test_default_windows_are_epiestims_weekly_sliding_windows(name: str) -> None:
    assert _estimate(name, default_windows=True) == _estimate(name)


def test_discr_si_matches_epiestim() -> None:
    for row in _rows("discr_si.csv"):
        value = discr_si(k=int(row["k"]), mu=float(row["mu"]), sigma=float(row["sigma"]))
        assert value.shape == (1,)
        assert float(value[0]) == pytest.approx(float(row["p"]), rel=1e-6, abs=1e-12), row
    whole = discr_si(k=np.arange(21), mu=2.6, sigma=1.5)
    assert whole[0] == 0 and whole.sum() == pytest.approx(1, abs=1e-5)
    np.testing.assert_array_equal(si_from_mean_sd(mean=2.6, sd=1.5, length=21).distribution(days=99), whole)
    np.testing.assert_array_equal(si_from_mean_sd(mean=2.6, sd=1.5).distribution(days=21), whole)
    assert si_from_mean_sd(mean=2.6, sd=1.5) == SiDistribution.parametric(mean=2.6, sd=1.5)


def test_day_one_local_cases_count_as_imported_as_in_epiestim() -> None:
    cases = [int(r["I"]) for r in _rows("incidence_flu2009.csv")]
    result = estimate_r(local=cases, si=SiDistribution.parametric(mean=2.6, sd=1.5))
    assert result.local[0] == 0 and result.imported[0] == cases[0] == 1
    assert result.notes == ("the 1 local case(s) of day 1 are counted as imported (day 1 has no past)",)
    assert result.windows == _estimate("flu2009_parametric", default_windows=True).windows


def test_imported_cases_infect_but_are_not_infected() -> None:
    local, imported = _series("flu2009_imported")
    si = SiDistribution.parametric(mean=2.6, sd=1.5)
    with_imports = estimate_r(local=local, imported=imported, si=si)
    all_local = estimate_r(local=[x + y for x, y in zip(local, imported, strict=True)], si=si)
    for a, b in zip(with_imports.windows, all_local.windows, strict=True):
        assert a.infectivity == b.infectivity
        assert a.local_cases <= b.local_cases
    assert any(
        a.local_cases < b.local_cases for a, b in zip(with_imports.windows, all_local.windows, strict=True)
    )


def test_overall_infectivity_is_the_weighted_past() -> None:
    lam = overall_infectivity(total=[2, 3, 0, 1], si_distr=[0.0, 0.5, 0.5])
    np.testing.assert_allclose(lam, [0.0, 1.0, 2.5, 1.5])


# --- bad input: no estimate with the reason, never a number that looks valid


FLU = SiDistribution.parametric(mean=2.6, sd=1.5)


def _no_numbers(result: RtResult, reason: NoEstimate) -> list[tuple[int, int]]:
    spans = []
    for w in result.windows:
        if w.reason is reason:
            assert (w.mean, w.std, w.quantile_025, w.median, w.quantile_975) == (None,) * 5
            spans.append((w.t_start, w.t_end))
    return spans


def test_zeros_at_the_start_give_no_estimate_until_someone_can_infect() -> None:
    result = estimate_r(local=[0] * 10 + [5, 12, 15, 20, 25, 30, 32, 30, 28], si=FLU)
    # (5, 11) holds day 11's 5 cases, but nobody before them: EpiEstim would say R = 30.
    assert _no_numbers(result, NoEstimate.NO_INFECTIVITY) == [(2, 8), (3, 9), (4, 10), (5, 11)]
    assert all(w.reason is None and w.mean is not None for w in result.windows[4:])


def test_a_gap_gives_no_estimate_over_the_gap() -> None:
    local = [3, 8, 12, 15, 14, 12, 10, 9, 8] + [0] * 10 + [6, 9, 12, 15, 14, 13, 12]
    result = estimate_r(local=local, si=FLU)
    dropped = _no_numbers(result, NoEstimate.TOO_FEW_CASES)
    assert (11, 17) in dropped and (12, 18) in dropped
    assert all(w.reason is None for w in result.windows[:3])
    loose = estimate_r(local=local, si=FLU, cv_posterior=NO_CV_LIMIT)
    assert loose.windows[9].mean is not None  # what EpiEstim would print for (11, 17)


def test_too_few_cases_and_windows_before_the_mean_si() -> None:
    result = estimate_r(local=[1, 0, 1, 0, 1, 1, 0, 1, 0, 1], si=FLU)
    assert len(_no_numbers(result, NoEstimate.TOO_FEW_CASES)) == len(result.windows) == 3
    sars = SiDistribution.parametric(mean=8.4, sd=3.8)
    early = estimate_r(local=[0] + [5] * 19, imported=[5] + [0] * 19, si=sars)
    assert _no_numbers(early, NoEstimate.BEFORE_MEAN_SI) == [(2, 8)]
    assert early.windows[1].reason is None
    assert len(early.notes) == 1 and "sums to 0.9" in early.notes[0]  # 20 days do not hold the whole SI
    fixed = estimate_r(
        local=[0] + [5] * 19, imported=[5] + [0] * 19, si=si_from_mean_sd(mean=8.4, sd=3.8, length=40)
    )
    assert fixed.notes == () and len(fixed.si_distr) == 40
    assert fixed.windows == early.windows and fixed.si_mean > early.si_mean  # same infectivity
    cut = estimate_r(
        local=[0] + [5] * 19, imported=[5] + [0] * 19, si=si_from_mean_sd(mean=8.4, sd=3.8, length=5)
    )
    assert "misses the longer intervals" in cut.notes[0]


def test_a_window_starting_on_day_one_has_no_estimate() -> None:
    result = estimate_r(local=[5] * 20, si=FLU, windows=[(1, 10), (2, 10)])
    assert _no_numbers(result, NoEstimate.STARTS_ON_DAY_1) == [(1, 10)]
    assert result.windows[1].reason is None


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"local": [1, 2, -1, 3] * 3}, "local"),
        ({"local": [1, 2, 2.5, 3] * 3}, "local"),
        ({"local": [1, 2, math.nan, 3] * 3}, "local"),
        ({"local": [1, 2, True, 3] * 3}, "local"),
        ({"local": [1, 2, 3]}, "local"),  # too short for weekly windows
        ({"imported": [0, -1] + [0] * 10}, "imported"),
        ({"imported": [0] * 3}, "imported"),
        ({"windows": [(0, 5)]}, "windows"),
        ({"windows": [(5, 4)]}, "windows"),
        ({"windows": [(5, 13)]}, "windows"),
        ({"windows": [(2.0, 8)]}, "windows"),
        ({"windows": [(2, 8, 9)]}, "windows"),
        ({"prior_mean": 0}, "prior_mean"),
        ({"prior_sd": -1}, "prior_sd"),
        ({"cv_posterior": 0}, "cv_posterior"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(kwargs: dict[str, object], argument: str) -> None:
    args: dict[str, object] = {"local": [3] * 12, "si": FLU, **kwargs}
    with pytest.raises(ValueError, match=f"^{argument}:"):
        estimate_r(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: SiDistribution.given([0.0, 0.5, 0.4]), "pmf"),  # sums to 0.9
        (lambda: SiDistribution.given([0.1, 0.5, 0.4]), "pmf"),  # si[0] != 0
        (lambda: SiDistribution.given([0.0, 1.2, -0.2]), "pmf"),
        (lambda: SiDistribution.given([0.0, math.nan, 1.0]), "pmf"),
        (lambda: SiDistribution.given([]), "pmf"),
        (lambda: SiDistribution.parametric(mean=1.0, sd=1.0), "mean"),
        (lambda: SiDistribution.parametric(mean=3.0, sd=0.0), "sd"),
        (lambda: SiDistribution(), "si"),
        (lambda: SiDistribution(mean=3.0, sd=1.0, pmf=(0.0, 1.0)), "si"),
        (lambda: SiDistribution.parametric(mean=3.0, sd=1.0, length=1), "length"),
        (lambda: discr_si(k=[0, -1], mu=2.6, sigma=1.5), "k"),
        (lambda: discr_si(k=3, mu=0.5, sigma=1.5), "mu"),
    ],
)
def test_bad_serial_intervals_are_refused(build: object, argument: str) -> None:
    with pytest.raises(ValueError, match=f"^{argument}:"):
        build()  # type: ignore[operator]


def test_a_given_si_within_epiestims_tolerance_is_used_as_given() -> None:
    si = SiDistribution.given([0.0, 0.6, 0.395])
    result = estimate_r(local=[10] * 12, si=si)
    assert result.si_distr[:3] == (0.0, 0.6, 0.395) and len(result.si_distr) == 13


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=8, max_size=40))
def test_every_window_has_either_all_numbers_or_a_reason(cases: list[int]) -> None:
    result = estimate_r(local=cases, si=FLU)
    for w in result.windows:
        numbers = (w.mean, w.std, w.quantile_025, w.median, w.quantile_975)
        if w.reason is None:
            assert all(x is not None and math.isfinite(x) for x in numbers)
            assert w.local_cases >= 11 and w.infectivity > 0
            assert w.quantile_025 < w.median < w.quantile_975  # type: ignore[operator]
        else:
            assert numbers == (None,) * 5
