"""The pooling advisor: Dorfman's formula, the closed-form optimum, dilution binding, the lab load,
and the seeded simulator against the formula."""

from __future__ import annotations

import pytest

from fangkong.engine.pooling import (
    advise,
    dorfman_tests_per_person,
    lab_load,
    optimal_k_closed_form,
    sensitivity,
    simulate,
)


def test_the_formula_and_its_optimum():
    assert dorfman_tests_per_person(k=1, p=0.3) == 1.0
    assert dorfman_tests_per_person(k=10, p=0.01) == pytest.approx(0.1956179, abs=1e-6)
    assert dorfman_tests_per_person(k=20, p=0.0) == pytest.approx(0.05)
    assert optimal_k_closed_form(p=0.01, max_k=200) == 11
    assert optimal_k_closed_form(p=0.01, max_k=20) == 11
    assert optimal_k_closed_form(p=0.0001, max_k=20) == 20
    assert optimal_k_closed_form(p=0.5, max_k=20) == 1  # pooling only costs at high prevalence


def test_the_advice_is_the_optimum_unless_the_protocol_or_dilution_binds():
    assert (advise(p=0.01, max_k=20).k, advise(p=0.01, max_k=20).reason) == (11, "optimum")
    assert (advise(p=0.0001, max_k=20).k, advise(p=0.0001, max_k=20).reason) == (20, "capped")
    bound = advise(p=0.01, max_k=20, min_sensitivity=0.92)
    assert (bound.k, bound.reason) == (8, "dilution") and bound.sensitivity == pytest.approx(0.92)
    assert sensitivity(k=8) == pytest.approx(0.92)
    assert all(not c.allowed for c in bound.candidates if c.k > 8)
    load = lab_load(people=1_000_000, advice=advise(p=0.01, max_k=20))
    assert load.first_stage_tubes == 90_910 and load.total_tests == pytest.approx(
        1_000_000 * 0.1956, rel=0.01
    )


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match=r"^k "):
        dorfman_tests_per_person(k=0, p=0.1)
    with pytest.raises(ValueError, match=r"^p "):
        advise(p=1.5, max_k=20)
    with pytest.raises(ValueError, match=r"^people "):
        simulate(people=0, p=0.1, k=5, seed=1)


@pytest.mark.parametrize(("p", "k"), [(0.01, 11), (0.0001, 20)])
def test_the_simulator_agrees_with_the_formula_for_independent_infection(p, k):
    people = 400_000 if p >= 0.01 else 2_000_000
    result = simulate(people=people, p=p, k=k, seed=7)
    assert result.tests_per_person == pytest.approx(dorfman_tests_per_person(k=k, p=p), rel=0.01)
    assert simulate(people=people, p=p, k=k, seed=7) == result  # seeded


def test_households_infected_together_need_fewer_tests():
    independent = simulate(people=200_000, p=0.01, k=10, seed=3)
    clustered = simulate(people=200_000, p=0.01, k=10, seed=3, clustered=True)
    assert clustered.tests_per_person < independent.tests_per_person
