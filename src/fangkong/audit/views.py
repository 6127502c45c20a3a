"""The audit page: admins and commanders, filterable, within scope."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangkong.audit.selectors import AuditFilters, audit_action_names, audit_event_list
from fangkong.common.errors import Forbidden
from fangkong.common.pagination import paginate
from fangkong.common.views import date_param, int_param, query_string, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can


@staff_view
def event_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Perm.AUDIT_VIEW):
        raise Forbidden("audit")
    g = request.GET
    filters = AuditFilters(
        action=g.get("action", ""),
        actor=g.get("actor", "").strip(),
        target_type=g.get("target_type", ""),
        target_id=g.get("target_id", "").strip(),
        since=date_param(request, "since"),
        until=date_param(request, "until"),
    )
    page = paginate(
        audit_event_list(actor=request.user, filters=filters), page=int_param(request, "page", 1) or 1
    )
    return render(
        request,
        "audit/list.html",
        {
            "page": page,
            "query": query_string(request),
            "filters": filters,
            "actions": audit_action_names(actor=request.user),
        },
    )
