"""The recall chain of a round's positive pools, timed: pool result → members re-sampled →
single results → case (what the round page shows for each pool).

Rules: a member counts as re-sampled when their single tube is scanned (the recall item is done
then), as resulted when that tube's result is in, and the pool as within the protocol when every
member was re-sampled by the recall's due time (``recall_hours`` after the pool's result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from django.db.models import QuerySet

from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.testing.models import Recall, Round, Tube, TubeKind, TubeResultValue


@dataclass
class PoolChain:
    tube: Tube
    members: int = 0
    resampled: int = 0
    resulted: int = 0
    cases: list[str] = field(default_factory=list)
    last_resampled: datetime | None = None
    late: int = 0  # re-sampled after the due time, or still waiting past it

    @property
    def hours_to_resample(self) -> float | None:
        """Hours from the pool's result to the last member re-sampled (None until all are)."""
        if self.tube.result_at is None or self.last_resampled is None or self.resampled < self.members:
            return None
        return (self.last_resampled - self.tube.result_at).total_seconds() / 3600


def positive_pools(*, actor: Any, the_round: Round) -> QuerySet[Tube]:
    tubes = Tube.objects.filter(round=the_round, result=TubeResultValue.POSITIVE).exclude(
        kind=TubeKind.RESAMPLE
    )
    return visible(actor, tubes, perm=Perm.TESTING_VIEW).select_related("site").order_by("result_at", "id")


def recall_chain(*, actor: Any, the_round: Round, now: datetime) -> list[PoolChain]:
    """Each positive pool of the round in the actor's area with its chain (two queries)."""
    chains = {t.pk: PoolChain(tube=t) for t in positive_pools(actor=actor, the_round=the_round)}
    recalls = Recall.objects.filter(pool_id__in=list(chains)).select_related("case").order_by("id")
    for recall in recalls:
        chain = chains[recall.pool_id]
        chain.members += 1
        if recall.resampled_at is not None:
            chain.resampled += 1
            chain.last_resampled = max(filter(None, [chain.last_resampled, recall.resampled_at]))
        if recall.resulted_at is not None:
            chain.resulted += 1
        if recall.case is not None:
            chain.cases.append(recall.case.number)
        if (recall.resampled_at or now) > recall.due_at:
            chain.late += 1
    return list(chains.values())


def chain_summary(chains: list[PoolChain]) -> dict[str, Any]:
    """Median hours to re-sample a whole pool, and the share of members re-sampled in time."""
    hours = [h for h in (c.hours_to_resample for c in chains) if h is not None]
    members = sum(c.members for c in chains)
    return {
        "pools": len(chains),
        "median_hours": median(hours) if hours else None,
        "in_time": 100.0 * (members - sum(c.late for c in chains)) / members if members else None,
        "cases": sum(len(c.cases) for c in chains),
    }
