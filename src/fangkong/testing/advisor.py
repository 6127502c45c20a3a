"""The bridge from mass testing to the engine's pooling advisor: the prevalence the latest round
suggests, and the advice for the protocol's largest pool."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from fangkong.common.protocol import active_profile
from fangkong.engine.pooling import Advice, LabLoad, advise, lab_load
from fangkong.testing.models import Round, Tube, TubeKind, TubeResultValue


@dataclass(frozen=True)
class Estimate:
    """The prevalence a round's resulted pooled tubes suggest: with a share ``f`` of positive pools
    of mean size ``k``, ``p = 1 - (1 - f)^(1/k)`` (independent infection)."""

    p: float | None
    pools: int
    positive: int
    mean_size: float


def prevalence_estimate(*, the_round: Round) -> Estimate:
    tubes = Tube.objects.filter(round=the_round, kind=TubeKind.POOL, members_count__gt=1).exclude(result="")
    row = tubes.aggregate(
        pools=Count("id"),
        positive=Count("id", filter=Q(result=TubeResultValue.POSITIVE)),
        size=Avg("members_count"),
    )
    pools, positive, size = row["pools"] or 0, row["positive"] or 0, float(row["size"] or 0)
    if not pools:
        return Estimate(None, 0, 0, 0.0)
    share = positive / pools
    return Estimate(1 - (1 - share) ** (1 / size), pools, positive, size)


def advice_for(*, p: float, people: int) -> tuple[Advice, LabLoad]:
    """The advice under the protocol's largest pool, and the load it puts on the labs."""
    advice = advise(p=p, max_k=active_profile().testing.max_pool)
    return advice, lab_load(people=people, advice=advice)


def parse_prevalence(text: str) -> float | None:
    """A prevalence typed as a per cent ("0.05" is 0.05 %); None when it is not one."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        return None
    return value / 100 if 0 <= value <= 100 else None
