"""The pooling advisor (混采方案): how many swabs to put in one tube at a given prevalence.

Pure Python (numpy for the simulator); no Django, nothing of the rest of fangkong.

Dorfman's two-stage pooling (Dorfman 1943): ``k`` swabs in one tube; a positive tube has every
member re-tested alone. With independent infection at prevalence ``p`` the expected tests per
person are ``1/k + 1 - (1-p)^k`` (``k = 1``: one test each).

Dilution: a pooled tube's sensitivity falls as the pool grows. Pooling ``k`` swabs dilutes the
sample ``k`` times, which delays the PCR signal by about ``log2(k)`` cycles (reported for
SARS-CoV-2 pools, e.g. Yelin et al., Clin Infect Dis 2020; Lohse et al., Lancet Infect Dis 2020).
The model here: ``sensitivity(k) = s1 - loss_per_doubling * log2(k)``, with ``s1`` the single
tube's sensitivity. The advisor takes the ``k`` with the fewest expected tests per person among
those up to the protocol's maximum whose sensitivity stays at or above ``min_sensitivity``.

The simulator draws a population of households, infects whole households' members together
(clustering) or each person independently, queues people by household into tubes of ``k`` as a
sampling site does, and counts Dorfman's tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

S1 = 0.95  # a single tube's sensitivity (RT-PCR on a nasopharyngeal swab, typical)
LOSS_PER_DOUBLING = 0.01  # sensitivity lost per doubling of the pool (about one Ct cycle)
MIN_SENSITIVITY = 0.90


def _check(*, k: int | None = None, p: float | None = None) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be an integer of at least 1, got {k!r}")
    if p is not None and not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie between 0 and 1, got {p!r}")


def dorfman_tests_per_person(*, k: int, p: float) -> float:
    """Expected tests per person with pools of ``k`` at prevalence ``p`` (1 for single tubes)."""
    _check(k=k, p=p)
    if k == 1:
        return 1.0
    return 1.0 / k + 1.0 - (1.0 - p) ** k


def sensitivity(*, k: int, s1: float = S1, loss_per_doubling: float = LOSS_PER_DOUBLING) -> float:
    """A pool of ``k``'s sensitivity under the dilution model of the module."""
    _check(k=k)
    return max(0.0, s1 - loss_per_doubling * math.log2(k))


def optimal_k_closed_form(*, p: float, max_k: int) -> int:
    """The ``k`` in 1..max_k with the fewest expected tests per person, dilution ignored."""
    _check(k=max_k, p=p)
    return min(range(1, max_k + 1), key=lambda k: (dorfman_tests_per_person(k=k, p=p), k))


@dataclass(frozen=True)
class Candidate:
    k: int
    tests_per_person: float
    sensitivity: float
    allowed: bool


@dataclass(frozen=True)
class Advice:
    """The chosen pool size and why, with every candidate for the commander's table."""

    k: int
    p: float
    tests_per_person: float
    sensitivity: float
    tubes_per_1000: float  # first-stage tubes per 1,000 people
    reason: str  # "optimum", "capped" (the protocol's maximum binds), "dilution" (sensitivity binds)
    candidates: tuple[Candidate, ...]


def advise(
    *,
    p: float,
    max_k: int,
    min_sensitivity: float = MIN_SENSITIVITY,
    s1: float = S1,
    loss_per_doubling: float = LOSS_PER_DOUBLING,
) -> Advice:
    """The pool size for prevalence ``p`` under the protocol's maximum ``max_k`` (see the module)."""
    _check(k=max_k, p=p)
    candidates = tuple(
        Candidate(
            k=k,
            tests_per_person=dorfman_tests_per_person(k=k, p=p),
            sensitivity=sensitivity(k=k, s1=s1, loss_per_doubling=loss_per_doubling),
            allowed=k == 1
            or sensitivity(k=k, s1=s1, loss_per_doubling=loss_per_doubling) >= min_sensitivity - 1e-9,
        )
        for k in range(1, max_k + 1)
    )
    best = min((c for c in candidates if c.allowed), key=lambda c: (c.tests_per_person, c.k))
    free = optimal_k_closed_form(p=p, max_k=max_k)
    unbounded = optimal_k_closed_form(p=p, max_k=max(max_k, 200)) if p > 0 else max_k
    if best.k < free:
        reason = "dilution"
    elif free == max_k and unbounded > max_k:
        reason = "capped"
    else:
        reason = "optimum"
    return Advice(
        k=best.k,
        p=p,
        tests_per_person=best.tests_per_person,
        sensitivity=best.sensitivity,
        tubes_per_1000=1000.0 / best.k,
        reason=reason,
        candidates=candidates,
    )


@dataclass(frozen=True)
class LabLoad:
    first_stage_tubes: int
    positive_pools: float
    retests: float
    total_tests: float


def lab_load(*, people: int, advice: Advice) -> LabLoad:
    """The expected tubes and tests for sampling ``people`` with ``advice`` (independent infection)."""
    k, p = advice.k, advice.p
    tubes = math.ceil(people / k)
    positive = tubes * (1.0 - (1.0 - p) ** k) if k > 1 else 0.0
    retests = positive * k
    return LabLoad(
        first_stage_tubes=tubes, positive_pools=positive, retests=retests, total_tests=tubes + retests
    )


@dataclass(frozen=True)
class SimulationResult:
    people: int
    infected: int
    tubes: int
    positive_pools: int
    tests: int

    @property
    def tests_per_person(self) -> float:
        return self.tests / self.people


def simulate(
    *, people: int, p: float, k: int, seed: int, household_size_mean: float = 2.6, clustered: bool = False
) -> SimulationResult:
    """Dorfman's tests over ``people`` queued by household into tubes of ``k``.

    Independent (``clustered=False``): each person is infected with probability ``p``.
    Clustered: a household is infected with probability ``p`` and then all its members are; the
    prevalence stays ``p`` but positives share tubes, so fewer pools turn positive."""
    _check(k=k, p=p)
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people!r}")
    rng = np.random.default_rng(seed)
    if clustered:
        sizes = 1 + rng.poisson(household_size_mean - 1.0, size=people)
        sizes = sizes[np.cumsum(sizes) <= people]
        sizes = np.append(sizes, people - sizes.sum()) if sizes.sum() < people else sizes
        sick_households = rng.random(len(sizes)) < p
        infected = np.repeat(sick_households, sizes)[:people]
    else:
        infected = rng.random(people) < p
    tubes = math.ceil(people / k)
    padded = np.zeros(tubes * k, dtype=bool)
    padded[:people] = infected
    positive_pools = int(padded.reshape(tubes, k).any(axis=1).sum())
    if k == 1:
        tests = people
    else:
        sizes_of_tubes = np.full(tubes, k)
        sizes_of_tubes[-1] = people - k * (tubes - 1)
        positive = padded.reshape(tubes, k).any(axis=1)
        tests = tubes + int(sizes_of_tubes[positive].sum())
    return SimulationResult(
        people=people, infected=int(infected.sum()), tubes=tubes, positive_pools=positive_pools, tests=tests
    )
