"""People under quarantine in mass testing: tested through their orders, in single tubes.

Rules:
- a person under a live quarantine order is never pooled with the public: a pooled tube refuses
  them (scanned or uploaded), a single tube takes them;
- the result of their single tube is their order's test of the day they were sampled (the same
  tube, the same result path): a negative clears that day's test; a positive records it, and the
  tube's own rule registers the suspected case, which converts the order;
- coverage counts them as covered (``testing.coverage``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from fangkong.quarantine.lab import results_write, tests_of_swabs
from fangkong.quarantine.models import LIVE_STATUSES, QuarantineOrder, TestAppointment, TestResult
from fangkong.testing.models import Tube, TubeKind, TubeMember, TubeResultValue

AS_TEST_RESULT: dict[str, str] = {
    TubeResultValue.NEGATIVE: TestResult.NEGATIVE,
    TubeResultValue.POSITIVE: TestResult.POSITIVE,
}


def in_quarantine(person_ids: Collection[int]) -> set[int]:
    """Those of ``person_ids`` under a live quarantine order (one query)."""
    if not person_ids:
        return set()
    live = QuarantineOrder.objects.filter(person_id__in=list(person_ids), status__in=LIVE_STATUSES)
    return set(live.values_list("person_id", flat=True))


def order_tests_follow(*, actor: User, tubes: Sequence[Tube]) -> int:
    """The orders' tests that the resulted single tubes stand for take their results (see the
    module); the number of tests resulted. A constant number of queries for any set of tubes."""
    singles = {t.pk: t for t in tubes if t.kind != TubeKind.POOL and t.result in AS_TEST_RESULT}
    if not singles:
        return 0
    swabs = {
        (person, timezone.localdate(at)): singles[tube]
        for tube, person, at in TubeMember.objects.filter(tube__in=list(singles)).values_list(
            "tube_id", "person_id", "scanned_at"
        )
    }
    tests = tests_of_swabs(swabs=list(swabs))
    now = timezone.now()
    by_result: dict[str, list[tuple[TestAppointment, datetime]]] = {}
    for key, test in tests.items():
        tube = swabs[key]
        at = min(tube.result_at or now, now)  # a lab clock a minute fast
        by_result.setdefault(AS_TEST_RESULT[tube.result], []).append((test, at))
    for result, rows in sorted(by_result.items()):
        results_write(actor=actor, rows=rows, result=result)
    return len(tests)
