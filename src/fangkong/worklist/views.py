"""Staff pages of the worklist: my work (overdue first), an item, its actions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, page_action, query_string, staff_view
from fangkong.worklist import selectors, services
from fangkong.worklist.models import Status

FILTERS = {"open", "all", *Status.values}


@staff_view
def my_work(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    status = status if status in FILTERS else "open"
    mine = request.GET.get("mine") == "1"
    qs = selectors.work_item_list(actor=request.user, status=status, mine_only=mine)
    page = paginate(qs, page=int_param(request, "page", 1) or 1)
    return render(
        request,
        "worklist/mine.html",
        {
            "page": page,
            "query": query_string(request),
            "status": status,
            "mine": mine,
            "statuses": Status.choices,
            "overdue": selectors.overdue_count(actor=request.user),
            "urgent": selectors.urgent_open(actor=request.user)[:10],
        },
    )


@staff_view
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.work_item_get(actor=request.user, item_id=item_id)
    return render(request, "worklist/detail.html", {"item": item})


@require_POST
@staff_view
def item_action(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    item = selectors.work_item_get(actor=request.user, item_id=item_id)
    with page_action(request):
        if action == "complete":
            services.work_item_complete(actor=request.user, item=item, note=request.POST.get("note", ""))
        elif action == "take":
            services.work_item_assign(actor=request.user, item=item, assignee=request.user)
        elif action == "cancel":
            services.work_item_cancel(actor=request.user, item=item, reason=request.POST.get("reason", ""))
        else:
            raise Invalid.field("action", _("Unknown action."))
    return redirect("worklist:item", item_id=item.pk)
