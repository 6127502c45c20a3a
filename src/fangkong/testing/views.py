"""Staff pages of mass testing outside the site and the lab: a recall (the grid worker's item)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangkong.common.views import staff_view
from fangkong.testing import selectors
from fangkong.testing.models import RecallStatus
from fangkong.testing.services import may_sample


@staff_view
def recall_detail(request: HttpRequest, recall_id: int) -> HttpResponse:
    """Who to isolate in place and re-sample, by when, from which tube; and where it stands."""
    recall = selectors.recall_get(actor=request.user, recall_id=recall_id)
    return render(
        request,
        "testing/recall.html",
        {
            "recall": recall,
            "can_sample": recall.status == RecallStatus.WAITING
            and may_sample(request.user, recall.pool.site, kind="resample"),  # type: ignore[arg-type]
        },
    )
