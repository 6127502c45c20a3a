"""The bed forecast (engine.beds): the renewal equation by hand, constant incidence at R = 1,
beds from stays, the day a level runs out, and bad input refused by name."""

from __future__ import annotations

import numpy as np
import pytest

from fangkong.engine.beds import Occupancy, Posterior, forecast_beds, project_cases, stay_survival


def test_the_renewal_equation_by_hand():
    # w1 = 0.5, w2 = 0.5; history ... 10, 20; R = 2
    # day 1: 2 * (0.5*20 + 0.5*10) = 30; day 2: 2 * (0.5*30 + 0.5*20) = 50; day 3: 2 * (0.5*50 + 0.5*30) = 80
    cases = project_cases(history=[4, 10, 20], si=[0, 0.5, 0.5], r=[2.0], horizon=3)
    assert cases.tolist() == [[30.0, 50.0, 80.0]]


def test_constant_incidence_at_r_one_stays_constant():
    si = [0.0, 0.1, 0.3, 0.3, 0.2, 0.1]
    cases = project_cases(history=[25] * 10, si=si, r=[1.0, 0.5], horizon=14)
    assert np.allclose(cases[0], 25.0)
    assert cases[1][0] == pytest.approx(12.5) and cases[1][-1] < cases[1][0]  # R = 0.5 dies out


def test_a_short_history_counts_the_missing_days_as_none():
    assert project_cases(history=[10], si=[0, 0.5, 0.5], r=[1.0], horizon=2).tolist() == [
        [5.0, 7.5]
    ]  # 0.5*10; 0.5*5 + 0.5*10


def test_stays_make_a_survival_and_beds_are_its_convolution():
    assert stay_survival([0, 1, 2, 2], days=4).tolist() == [1.0, 0.5, 0.0, 0.0]
    # 10 cases a day at R = 1, all of them (share 1) staying 2 days: S = 1, 1, 0 → 10, 20, 20, ...
    # plus the 4 in beds now, in their first day of a 2-day stay: one more day each (S(1)/S(0) = 1)
    forecast = forecast_beds(
        history=[10] * 7, si=[0, 1.0], posterior=Posterior(shape=1e9, scale=1e-9), shares={"general": 1.0},
        levels={"general": Occupancy(capacity=25, stays=[2, 2], in_bed_days=[0, 0, 0, 0])},
        horizon=4, draws=50, noise=False,
    )  # fmt: skip
    level = forecast.levels["general"]
    assert level.median == pytest.approx((14.0, 20.0, 20.0, 20.0), abs=1e-3)
    assert level.runs_out is None and forecast.cases_median == pytest.approx((10.0,) * 4, abs=1e-3)


def test_a_growing_outbreak_runs_out_of_beds_on_a_day_and_the_bands_widen():
    forecast = forecast_beds(
        history=[5, 6, 8, 9, 12, 14, 17, 20, 24, 29], si=[0, 0.2, 0.4, 0.3, 0.1],
        posterior=Posterior.from_mean_sd(mean=1.4, sd=0.1), shares={"shelter": 0.7, "icu": 0.05},
        levels={"shelter": Occupancy(capacity=400, stays=[8, 10, 12, 14]), "icu": Occupancy(capacity=30, stays=[10, 20])},
        horizon=14, draws=10_000,
    )  # fmt: skip
    shelter = forecast.levels["shelter"]
    assert (
        shelter.runs_out is not None and shelter.at_risk is not None and shelter.at_risk <= shelter.runs_out
    )
    assert shelter.median[shelter.runs_out - 1] > 400 >= shelter.median[shelter.runs_out - 2]
    assert all(lo <= med <= hi for lo, med, hi in zip(shelter.low, shelter.median, shelter.high, strict=True))
    assert shelter.high[-1] - shelter.low[-1] > shelter.high[0] - shelter.low[0]
    assert forecast.levels["icu"].median[-1] < shelter.median[-1]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"history": [1, -1]}, "history"),
        ({"history": [1, float("nan")]}, "history"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": 10**9}, "horizon"),
        ({"draws": 0}, "draws"),
        ({"shares": {"general": 1.5}}, "shares[general]"),
        ({"shares": {"elsewhere": 0.1}}, "shares[elsewhere]"),
        ({"levels": {"general": Occupancy(capacity=-1, stays=[3])}}, "capacity"),
        ({"levels": {"general": Occupancy(capacity=5, stays=[])}}, "stays"),
    ],
)
def test_bad_input_is_refused_by_name(kwargs, name):
    args = {
        "history": [3, 4, 5], "si": [0, 1.0], "posterior": Posterior(shape=4, scale=0.25),
        "shares": {"general": 0.5}, "levels": {"general": Occupancy(capacity=5, stays=[3])}, "draws": 10,
    } | kwargs  # fmt: skip
    with pytest.raises(ValueError, match=name.replace("[", r"\[").replace("]", r"\]")):
        forecast_beds(**args)


def test_a_posterior_needs_positive_numbers():
    with pytest.raises(ValueError, match="shape"):
        Posterior(shape=0, scale=1)
