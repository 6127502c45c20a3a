"""The pooling advisor: Dorfman's formula, the closed-form optimum, dilution binding, the lab load,
and the seeded simulator against the formula.

The simulator's populations: a realised tests-per-person differs from the formula by chance, with
the standard error ``dorfman_standard_error`` gives (0.52 % of the figure at p = 1 %,
k = 11 over 1,000,000 people; 0.38 % at p = 0.01 %, k = 20). The 1 % target is then only 2–2.6
standard errors, so the tests draw 10,000,000 people (0.16 % and 0.12 %: 1 % is six standard
errors or more). The simulator draws only the infected, so that takes milliseconds.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.engine.pooling import (
    advise,
    dorfman_standard_error,
    dorfman_tests_per_person,
    lab_load,
    optimal_k_closed_form,
    sensitivity,
    simulate,
)

INDEPENDENT = {"within_household_attack": 0.0}


def test_the_formula_gives_one_test_for_a_single_tube_and_dorfmans_values():
    assert dorfman_tests_per_person(k=1, p=0.3) == 1.0
    assert dorfman_tests_per_person(k=1, p=0.0) == 1.0
    assert (
        dorfman_tests_per_person(k=10, p=0.01)
        == pytest.approx(0.1 + 1 - 0.99**10)
        == pytest.approx(0.1956179, abs=1e-7)
    )
    assert dorfman_tests_per_person(k=20, p=0.0) == pytest.approx(0.05)
    assert dorfman_tests_per_person(k=5, p=1.0) == pytest.approx(1.2)


def test_the_closed_form_optimum_is_eleven_at_one_per_cent_and_capped_at_low_prevalence():
    assert optimal_k_closed_form(p=0.01, max_k=1000) == 11
    assert optimal_k_closed_form(p=0.01, max_k=20) == 11
    assert optimal_k_closed_form(p=0.01, max_k=8) == 8
    assert optimal_k_closed_form(p=0.0001, max_k=20) == 20
    assert optimal_k_closed_form(p=0.0001, max_k=1000) == 101  # about 1 + 1/sqrt(p)
    assert optimal_k_closed_form(p=0.5, max_k=20) == 1  # pooling only costs at high prevalence


def test_the_advice_is_the_closed_form_where_dilution_does_not_bind():
    for p in (0.0001, 0.001, 0.01, 0.05, 0.2):
        advice = advise(p=p, max_k=20, min_sensitivity=0.0)
        assert advice.k == optimal_k_closed_form(p=p, max_k=20)
        assert advice.reason != "dilution"
    one = advise(p=0.01, max_k=20)
    assert (one.k, one.reason, one.unconstrained_k) == (11, "optimum", 11)
    assert one.tests_per_person == pytest.approx(0.19557, abs=1e-5)
    assert one.expected_tubes_per_1000 == pytest.approx(195.57, abs=0.01)
    assert one.first_stage_tubes_per_1000 == pytest.approx(1000 / 11)
    assert [c.k for c in one.candidates] == list(range(1, 21))
    low = advise(p=0.0001, max_k=20)
    assert (low.k, low.reason) == (20, "capped") and "largest pool (20)" in low.explanation


def test_the_advice_takes_a_smaller_pool_when_dilution_binds():
    bound = advise(p=0.01, max_k=20, min_sensitivity=0.92)
    assert (bound.k, bound.reason, bound.unconstrained_k) == (8, "dilution", 11)
    assert bound.sensitivity == pytest.approx(0.92) == sensitivity(k=8)
    assert bound.explanation.startswith("dilution binds: 11-in-1")
    assert [c.k for c in bound.candidates if not c.allowed] == list(range(9, 21))
    steeper = advise(
        p=0.0001, max_k=20, loss_per_doubling=0.02
    )  # Yelin et al.'s loss: 0.95 - 0.02·log2 k ≥ 0.9
    assert (steeper.k, steeper.reason) == (5, "dilution")
    nothing_pools = advise(p=0.01, max_k=20, s1=0.89)  # a single tube under the minimum: single tubes
    assert (nothing_pools.k, nothing_pools.reason) == (1, "dilution")


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(0, 1),
    max_k=st.integers(1, 40),
    min_sensitivity=st.floats(0, 1),
    loss=st.floats(0, 0.1),
)
def test_no_allowed_pool_needs_fewer_tests_than_the_advice(p, max_k, min_sensitivity, loss):
    advice = advise(p=p, max_k=max_k, min_sensitivity=min_sensitivity, loss_per_doubling=loss)
    chosen = advice.candidates[advice.k - 1]
    assert chosen.allowed and chosen.k == advice.k
    assert all(c.tests_per_person >= chosen.tests_per_person for c in advice.candidates if c.allowed)
    assert advice.k <= advice.unconstrained_k


def test_the_lab_load_of_a_million_people_at_one_per_cent():
    load = lab_load(people=1_000_000, advice=advise(p=0.01, max_k=20))
    assert load.first_stage_tubes == 90_910  # 90,909 tubes of 11 and one of 1
    assert load.positive_pools == pytest.approx(90_909 * (1 - 0.99**11) + 0.01)
    assert load.retests == pytest.approx(11 * 90_909 * (1 - 0.99**11) + 0.01)
    assert load.total_tests == pytest.approx(195_572, abs=1)
    single = lab_load(people=1000, advice=advise(p=0.5, max_k=20))
    assert (single.first_stage_tubes, single.positive_pools, single.retests) == (1000, 500, 0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: dorfman_tests_per_person(k=0, p=0.1), "k"),
        (lambda: dorfman_tests_per_person(k=2.5, p=0.1), "k"),
        (lambda: dorfman_tests_per_person(k=True, p=0.1), "k"),
        (lambda: dorfman_tests_per_person(k=2, p=-0.1), "p"),
        (lambda: dorfman_tests_per_person(k=2, p=math.nan), "p"),
        (lambda: advise(p=1.5, max_k=20), "p"),
        (lambda: advise(p=0.01, max_k=0), "max_k"),
        (lambda: advise(p=0.01, max_k=20, min_sensitivity=1.2), "min_sensitivity"),
        (lambda: advise(p=0.01, max_k=20, loss_per_doubling=-0.01), "loss_per_doubling"),
        (lambda: optimal_k_closed_form(p=0.01, max_k=-3), "max_k"),
        (lambda: lab_load(people=-1, advice=advise(p=0.01, max_k=20)), "people"),
        (lambda: simulate(people=0, p=0.1, k=5, seed=1), "people"),
        (lambda: simulate(people=10, p=0.1, k=5, seed=-1), "seed"),
        (
            lambda: simulate(people=10, p=0.1, k=5, seed=1, within_household_attack=2),
            "within_household_attack",
        ),
        (lambda: simulate(people=10, p=0.1, k=5, seed=1, household_size_mean=0.5), "household_size_mean"),
    ],
)
def test_bad_arguments_name_themselves(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()


def test_the_simulator_is_deterministic_for_a_seed():
    for attack in (0.0, 0.4):
        first = simulate(people=200_000, p=0.01, k=10, seed=11, within_household_attack=attack)
        assert simulate(people=200_000, p=0.01, k=10, seed=11, within_household_attack=attack) == first
        assert simulate(people=200_000, p=0.01, k=10, seed=12, within_household_attack=attack) != first


@pytest.mark.parametrize(("p", "k"), [(0.01, 11), (0.01, 10), (0.0001, 20)])
def test_the_simulator_is_within_one_per_cent_of_the_formula_for_independent_infection(p, k):
    people = 10_000_000
    formula = dorfman_tests_per_person(k=k, p=p)
    assert dorfman_standard_error(people=people, p=p, k=k) < formula * 0.01 / 6
    result = simulate(people=people, p=p, k=k, seed=2022, **INDEPENDENT)
    assert result.tests_per_person == pytest.approx(formula, rel=0.01)
    assert result.prevalence == pytest.approx(p, rel=0.05)
    assert result.detected == result.infected and result.missed_by_dilution == 0  # a perfect assay


def test_the_simulator_counts_every_tube_and_retest_on_a_tiny_queue():
    everyone = simulate(people=10, p=1.0, k=3, seed=1, **INDEPENDENT)  # tubes of 3, 3, 3, 1
    assert (everyone.tubes, everyone.positive_pools, everyone.tests) == (4, 4, 14)
    nobody = simulate(people=10, p=0.0, k=3, seed=1)
    assert (nobody.infected, nobody.tests) == (0, 4)
    assert simulate(people=10, p=1.0, k=1, seed=1).tests == 10


def test_households_keep_the_prevalence_and_need_fewer_tests_than_the_formula():
    formula = dorfman_tests_per_person(k=11, p=0.01)
    clustered = simulate(people=2_000_000, p=0.01, k=11, seed=3)
    assert clustered.prevalence == pytest.approx(0.01, rel=0.03)
    assert clustered.tests_per_person < formula * 0.9
    independent = simulate(people=2_000_000, p=0.01, k=11, seed=3, **INDEPENDENT)
    assert clustered.tests_per_person < independent.tests_per_person


def test_dilution_misses_about_the_sensitivity_lost_in_the_pool():
    result = simulate(
        people=10_000_000, p=0.001, k=16, seed=5, s1=0.95, loss_per_doubling=0.01, **INDEPENDENT
    )
    # at low prevalence an infected person is nearly always alone in the pool: missed ≈ 0.04
    assert result.missed_by_dilution / result.infected == pytest.approx(0.04, rel=0.15)
    assert result.detected / result.infected == pytest.approx(0.95 - 0.04, abs=0.01)
    assert result.tests_per_person < dorfman_tests_per_person(k=16, p=0.001)  # missed pools: no retests
