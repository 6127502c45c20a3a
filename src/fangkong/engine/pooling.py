"""The pooling advisor (混采方案): how many swabs to put in one tube at a given prevalence.

Pure Python (numpy for the simulator); no Django, nothing of the rest of fangkong.

Dorfman's two-stage pooling (Dorfman, Ann Math Stat 1943): ``k`` swabs in one tube; a positive
tube has every member re-tested alone. With independent infection at prevalence ``p`` and a
perfect assay the expected tests per person are ``1/k + 1 - (1-p)^k`` (``k = 1``: one test each).

Dilution: pooling ``k`` swabs dilutes each one ``k`` times, which delays the PCR signal by about
``log2(k)`` cycles (Ct); published SARS-CoV-2 pooling studies report that shift (Yelin et al.,
Clin Infect Dis 2020; Lohse et al., Lancet Infect Dis 2020). A positive whose single-tube Ct lies
within ``log2(k)`` cycles of the assay's limit is then missed. The model here is linear in the
doublings: ``sensitivity(k) = s1 - loss_per_doubling * log2(k)``, with ``s1`` a single tube's
sensitivity. ``loss_per_doubling`` is an assumption to replace with the lab's validation data:
the default 0.01 keeps a 20-in-1 pool (the largest the protocol allows) at 0.907; Yelin et al.'s
estimate of about 10 % false negatives in pools of 32 (five doublings) is nearer 0.02.

The advisor takes the ``k`` in ``1..max_k`` with the fewest expected tests per person among
those whose pooled sensitivity is at least ``min_sensitivity``; a single tube (``k = 1``) is
always allowed, being what a pool is measured against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

S1 = 0.95  # a single tube's sensitivity (RT-PCR on a nasopharyngeal swab, typical)
LOSS_PER_DOUBLING = 0.01  # sensitivity lost per doubling of the pool (about one Ct cycle)
MIN_SENSITIVITY = 0.90
HOUSEHOLD_SIZE_MEAN = 2.6  # China's 2020 census: 2.62 people per family household
WITHIN_HOUSEHOLD_ATTACK = (
    0.4  # Omicron's household secondary attack rate, 42.7 % (Madewell et al., JAMA Netw Open 2022)
)

Reason = Literal["optimum", "capped", "dilution"]
Positions = npt.NDArray[np.int64]


def _integer(name: str, value: object, *, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an integer of at least {least}, got {value!r}")


def _share(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie between 0 and 1, got {value!r}")


def dorfman_tests_per_person(*, k: int, p: float) -> float:
    """Expected tests per person with pools of ``k`` at prevalence ``p``: ``1/k + 1 - (1-p)^k``.

    A single tube (``k = 1``) is one test per person, never re-tested."""
    _integer("k", k, least=1)
    _share("p", p)
    if k == 1:
        return 1.0
    return 1.0 / k + 1.0 - (1.0 - p) ** k


def sensitivity(*, k: int, s1: float = S1, loss_per_doubling: float = LOSS_PER_DOUBLING) -> float:
    """A pool of ``k``'s sensitivity: ``s1 - loss_per_doubling * log2(k)``, never below 0."""
    _integer("k", k, least=1)
    _share("s1", s1)
    _share("loss_per_doubling", loss_per_doubling)
    return max(0.0, s1 - loss_per_doubling * math.log2(k))


def optimal_k_closed_form(*, p: float, max_k: int) -> int:
    """The ``k`` in ``1..max_k`` with the fewest expected tests per person, dilution ignored.

    Ties go to the smaller pool. Near ``1 + 1/sqrt(p)`` at low prevalence; 1 above p ≈ 0.31."""
    _integer("max_k", max_k, least=1)
    _share("p", p)
    return min(range(1, max_k + 1), key=lambda k: (dorfman_tests_per_person(k=k, p=p), k))


@dataclass(frozen=True)
class Candidate:
    """One row of the advisor's table."""

    k: int
    tests_per_person: float
    sensitivity: float
    allowed: bool  # sensitivity at least the minimum (always for k = 1)


@dataclass(frozen=True)
class Advice:
    """The chosen pool size and why, with every candidate for the commander's table.

    ``reason``: "optimum" (the formula's best k), "capped" (a larger pool than the protocol's
    ``max_k`` would need fewer tests) or "dilution" (a larger pool would need fewer tests but
    falls under ``min_sensitivity``)."""

    k: int
    p: float
    tests_per_person: float
    expected_tubes_per_1000: float  # first-stage tubes and single re-tests, per 1,000 people
    first_stage_tubes_per_1000: float
    sensitivity: float
    reason: Reason
    unconstrained_k: int  # the formula's best k within max_k, dilution ignored
    max_k: int
    min_sensitivity: float
    candidates: tuple[Candidate, ...]

    @property
    def explanation(self) -> str:
        """The reason in one sentence."""
        if self.reason == "dilution":
            refused = self.candidates[self.unconstrained_k - 1]
            return (
                f"dilution binds: {self.unconstrained_k}-in-1 would need {refused.tests_per_person:.4f} "
                f"tests per person but its sensitivity {refused.sensitivity:.3f} is under "
                f"{self.min_sensitivity:.3f}"
            )
        if self.reason == "capped":
            return f"the protocol's largest pool ({self.max_k}) binds: larger pools would need fewer tests"
        return f"{self.k}-in-1 is the formula's optimum"


def advise(
    *,
    p: float,
    max_k: int,
    min_sensitivity: float = MIN_SENSITIVITY,
    s1: float = S1,
    loss_per_doubling: float = LOSS_PER_DOUBLING,
) -> Advice:
    """The pool size for prevalence ``p`` under the protocol's largest pool ``max_k``.

    The fewest expected tests per person among the pools of 1..max_k whose sensitivity (the
    module's dilution model) is at least ``min_sensitivity``; ties go to the smaller pool."""
    _integer("max_k", max_k, least=1)
    _share("p", p)
    _share("min_sensitivity", min_sensitivity)
    _share("s1", s1)
    _share("loss_per_doubling", loss_per_doubling)
    candidates = []
    for k in range(1, max_k + 1):
        pooled = sensitivity(k=k, s1=s1, loss_per_doubling=loss_per_doubling)
        candidates.append(
            Candidate(
                k=k,
                tests_per_person=dorfman_tests_per_person(k=k, p=p),
                sensitivity=pooled,
                allowed=k == 1 or pooled >= min_sensitivity - 1e-12,
            )
        )
    best = min((c for c in candidates if c.allowed), key=lambda c: (c.tests_per_person, c.k))
    free = optimal_k_closed_form(p=p, max_k=max_k)
    reason: Reason = "optimum"
    if best.k < free:
        reason = "dilution"
    elif best.k == max_k and dorfman_tests_per_person(k=max_k + 1, p=p) < best.tests_per_person:
        reason = "capped"
    return Advice(
        k=best.k,
        p=p,
        tests_per_person=best.tests_per_person,
        expected_tubes_per_1000=1000.0 * best.tests_per_person,
        first_stage_tubes_per_1000=1000.0 / best.k,
        sensitivity=best.sensitivity,
        reason=reason,
        unconstrained_k=free,
        max_k=max_k,
        min_sensitivity=min_sensitivity,
        candidates=tuple(candidates),
    )


@dataclass(frozen=True)
class LabLoad:
    """What sampling a population under an advice asks of the labs (expected values)."""

    first_stage_tubes: int
    positive_pools: float  # positive first-stage tubes (for k = 1, the positive single tubes)
    retests: float  # second-stage single tubes: every member of a positive pool
    total_tests: float


def lab_load(*, people: int, advice: Advice) -> LabLoad:
    """The expected tubes and tests for sampling ``people`` queued into tubes of ``advice.k``.

    Independent infection and a perfect assay, as the formula; the last tube holds the remainder."""
    _integer("people", people, least=0)
    k, p = advice.k, advice.p
    full, rest = divmod(people, k)
    tubes = full + (rest > 0)
    positive = full * (1.0 - (1.0 - p) ** k) + (1.0 - (1.0 - p) ** rest if rest else 0.0)
    retests = full * k * (1.0 - (1.0 - p) ** k) + rest * (1.0 - (1.0 - p) ** rest) if k > 1 else 0.0
    return LabLoad(
        first_stage_tubes=tubes, positive_pools=positive, retests=retests, total_tests=tubes + retests
    )


def dorfman_standard_error(*, people: int, p: float, k: int) -> float:
    """The standard deviation of the realised tests per person over ``people`` (independent
    infection, perfect assay): each tube of ``n`` adds ``n`` re-tests with probability
    ``1 - (1-p)^n``. What a simulation's difference from the formula is to be measured against."""
    _integer("people", people, least=1)
    _integer("k", k, least=1)
    _share("p", p)
    if k == 1:
        return 0.0
    full, rest = divmod(people, k)
    q, r = 1.0 - (1.0 - p) ** k, 1.0 - (1.0 - p) ** rest
    return math.sqrt(full * k * k * q * (1.0 - q) + rest * rest * r * (1.0 - r)) / people


@dataclass(frozen=True)
class SimulationResult:
    people: int
    infected: int
    tubes: int
    positive_pools: int  # first-stage tubes that tested positive
    tests: int  # first-stage tubes and single re-tests
    detected: int  # infected people found positive in the end
    missed_by_dilution: int  # infected people a single tube would have found, whose pool tested negative

    @property
    def tests_per_person(self) -> float:
        return self.tests / self.people

    @property
    def prevalence(self) -> float:
        return self.infected / self.people


def _bernoulli_positions(rng: np.random.Generator, *, n: int, p: float) -> Positions:
    """The sorted indexes in ``0..n-1`` of ``n`` independent draws of probability ``p``, drawn as
    geometric gaps: the work is in the successes, not in ``n``."""
    if p <= 0.0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    chunk = int(n * p + 6 * math.sqrt(n * p) + 16)
    found: list[Positions] = []
    last = -1
    while last < n:
        positions = last + np.cumsum(rng.geometric(p, size=chunk), dtype=np.int64)
        found.append(positions[positions < n])
        last = int(positions[-1])
    return np.concatenate(found)


def _household_sizes(rng: np.random.Generator, *, people: int, mean: float) -> npt.NDArray[np.int64]:
    """Household sizes ``1 + Poisson(mean - 1)`` summing to ``people`` (the last one cut short).

    At 2.6: 20 % live alone, 32 % in two, 26 % in three, 22 % in four or more (the 2020 census:
    25 %, 30 %, 21 %, 24 %)."""
    sizes: list[npt.NDArray[np.int64]] = []
    total = 0
    while total < people:
        drawn = 1 + rng.poisson(mean - 1.0, size=int((people - total) / mean) + 16).astype(np.int64)
        sizes.append(drawn)
        total += int(drawn.sum())
    flat = np.concatenate(sizes)
    ends = np.cumsum(flat)
    count = int(np.searchsorted(ends, people)) + 1
    flat = flat[:count].copy()
    flat[-1] -= int(ends[count - 1]) - people
    return flat


def _community_rate(*, p: float, attack: float, sizes: npt.NDArray[np.int64]) -> float:
    """The community infection rate ``c`` that gives prevalence ``p`` once households spread it.

    A person of a household of ``n`` is infected from outside with probability ``c``, else by a
    member infected from outside with probability ``attack``:
    ``c + (1 - c) * attack * (1 - (1 - c)^(n - 1))``. Averaged over the people of the drawn
    households this rises with ``c``, so bisection finds ``c`` in ``[0, p]``."""
    counts = np.bincount(sizes)
    n = np.nonzero(counts)[0]
    weight = n * counts[n] / sizes.sum()

    def prevalence(c: float) -> float:
        return float(np.sum(weight * (c + (1.0 - c) * attack * (1.0 - (1.0 - c) ** (n - 1)))))

    low, high = 0.0, p
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if prevalence(middle) < p else (low, middle)
    return (low + high) / 2


def _clustered_positions(
    rng: np.random.Generator, *, people: int, p: float, household_size_mean: float, attack: float
) -> Positions:
    """The infected of a queue of households (one generation of spread within each)."""
    sizes = _household_sizes(rng, people=people, mean=household_size_mean)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    community = _bernoulli_positions(rng, n=people, p=_community_rate(p=p, attack=attack, sizes=sizes))
    struck = np.unique(np.searchsorted(starts, community, side="right") - 1)
    struck_sizes = sizes[struck]
    offsets = np.arange(int(struck_sizes.sum())) - np.repeat(
        np.cumsum(struck_sizes) - struck_sizes, struck_sizes
    )
    members = np.repeat(starts[struck], struck_sizes) + offsets
    exposed = members[~np.isin(members, community, assume_unique=True)]
    secondary = exposed[rng.random(exposed.size) < attack]
    return np.union1d(community, secondary)


def simulate(
    *,
    people: int,
    p: float,
    k: int,
    seed: int,
    household_size_mean: float = HOUSEHOLD_SIZE_MEAN,
    within_household_attack: float = WITHIN_HOUSEHOLD_ATTACK,
    s1: float = 1.0,
    loss_per_doubling: float = 0.0,
) -> SimulationResult:
    """Dorfman's tests over ``people`` queued household by household into tubes of ``k``.

    Infection is clustered in households (see ``_community_rate``, calibrated so the expected
    prevalence is ``p``); ``within_household_attack = 0`` is independent infection, the formula's
    assumption. Positives then share tubes, so clustering needs fewer tests than the formula.

    The assay: each infected person has a rank ``u`` (uniform, low for a high viral load); a
    single tube finds them when ``u < s1``, a pool of ``k`` when ``u < sensitivity(k)``. A pool
    tests positive when it finds any member; its members are then re-tested alone. The default
    is a perfect assay, as the formula; ``missed_by_dilution`` counts the infected a single tube
    would have found whose pool tested negative. Seeded: the same arguments give the same result."""
    _integer("people", people, least=1)
    _integer("k", k, least=1)
    _share("p", p)
    _integer("seed", seed, least=0)
    if isinstance(household_size_mean, bool) or not household_size_mean >= 1.0:
        raise ValueError(f"household_size_mean must be at least 1, got {household_size_mean!r}")
    _share("within_household_attack", within_household_attack)
    pooled = sensitivity(k=k, s1=s1, loss_per_doubling=loss_per_doubling)
    rng = np.random.default_rng(seed)
    if within_household_attack == 0.0:
        infected = _bernoulli_positions(rng, n=people, p=p)
    else:
        infected = _clustered_positions(
            rng, people=people, p=p, household_size_mean=household_size_mean, attack=within_household_attack
        )
    rank = rng.random(infected.size)
    tubes = -(-people // k)
    tube = infected // k
    positive = np.zeros(tubes, dtype=bool)
    positive[tube[rank < pooled]] = True
    positive_pools = int(positive.sum())
    alone = rank < s1
    if k == 1:
        tests, detected, missed = people, int(alone.sum()), 0
    else:
        last_size = people - k * (tubes - 1)
        tests = tubes + k * positive_pools - (k - last_size) * int(positive[-1])
        retested = positive[tube]
        detected = int((retested & alone).sum())
        missed = int((~retested & alone).sum())
    return SimulationResult(
        people=people,
        infected=int(infected.size),
        tubes=tubes,
        positive_pools=positive_pools,
        tests=tests,
        detected=detected,
        missed_by_dilution=missed,
    )
