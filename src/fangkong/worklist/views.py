"""Staff pages of the worklist: my work (the queue of my roles, overdue first), an item, its actions.

Every action on the list comes back to the list as it was: the filters, the sort and the page
travel in ``back`` (the list's query string) and the redirect restores them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fangkong.common.bounds import ascii_int
from fangkong.common.errors import Conflict, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, query_string, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.worklist import selectors, services
from fangkong.worklist.models import Status


def _back(source: Any) -> str:
    """The list's query string sent back with an action, re-encoded (never a URL of its own)."""
    return QueryDict(str(source.get("back", ""))[:1000]).urlencode()


def _to_list(back: str) -> HttpResponse:
    return redirect(reverse("worklist:mine") + (f"?{back}" if back else ""))


@staff_view
def my_work(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    filters = selectors.queue_filters(
        actor=actor,
        kind=request.GET.get("kind", ""),
        unit_id=int_param(request, "unit"),
        due=request.GET.get("due", ""),
        assigned=request.GET.get("assigned", "") or ("me" if request.GET.get("mine") == "1" else ""),
        q=request.GET.get("q", ""),
        sort=request.GET.get("sort", ""),
        status=request.GET.get("status", "open"),
    )
    page = paginate(
        selectors.work_queue(actor=actor, filters=filters), page=int_param(request, "page", 1) or 1
    )
    counts = selectors.work_queue_counts(actor=actor, filters=filters)
    picker = selectors.unit_picker(actor=actor, unit=filters.unit)
    rollup = (
        selectors.overdue_rollup(actor=actor, filters=filters, units=picker.choices) if picker.current else []
    )
    return render(
        request,
        "worklist/mine.html",
        {
            "page": page,
            "query": query_string(request),
            "without_kind": query_string(request, drop=("page", "kind")),
            "without_unit": query_string(request, drop=("page", "unit")),
            "back": request.GET.urlencode(),
            "filters": filters,
            "counts": counts,
            "total": sum(c.total for c in counts),
            "overdue": sum(c.overdue for c in counts),
            "picker": picker,
            "rollup": [r for r in rollup if r["total"]],
            "statuses": Status.choices,
            "sorts": [
                ("", _("Overdue first")),
                ("due", _("Due soonest")),
                ("-due", _("Due latest")),
                ("kind", _("By kind")),
                ("unit", _("By unit")),
            ],
            "can_change": can(actor, Perm.WORK_CHANGE),
            "urgent": selectors.urgent_open(actor=actor)[:10],
        },
    )


@staff_view
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.work_item_get(actor=request.user, item_id=item_id)
    can_change = can(request.user, Perm.WORK_CHANGE, item.org_unit)
    return render(
        request,
        "worklist/detail.html",
        {
            "item": item,
            "back": _back(request.GET),
            "can_change": can_change,
            "colleagues": selectors.colleagues_for(item=item) if can_change and item.is_open else [],
        },
    )


@require_POST
@staff_view
def item_action(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    """Take, assign, complete or cancel one item; the message names the item and what happened."""
    actor: Any = request.user
    item = selectors.work_item_get(actor=actor, item_id=item_id)
    title = {"title": item.title}
    try:
        if action == "complete":
            services.work_item_complete(actor=actor, item=item, note=request.POST.get("note", "")[:500])
            done = _("“%(title)s” is done.") % title
        elif action == "take":
            services.work_item_assign(actor=actor, item=item, assignee=actor)
            done = _("“%(title)s” is yours now.") % title
        elif action == "assign":
            name = request.POST.get("assignee", "").strip()
            assignee = services.user_by_username(name) if name else None
            services.work_item_assign(actor=actor, item=item, assignee=assignee)
            done = (
                _("“%(title)s” is given to %(user)s.") % {**title, "user": assignee.get_username()}
                if assignee
                else _("“%(title)s” is back in the queue, with nobody on it.") % title
            )
        elif action == "note":
            services.work_item_note(actor=actor, item=item, note=request.POST.get("note", "")[:500])
            done = _("Note added to “%(title)s”.") % title
        elif action == "cancel":
            services.work_item_cancel(actor=actor, item=item, reason=request.POST.get("reason", "")[:500])
            done = _("“%(title)s” is cancelled.") % title
        else:
            raise Invalid.field("action", _("Unknown action."))
    except (Invalid, Conflict) as error:
        messages.error(request, error.text())
    else:
        messages.success(request, done)
    back = _back(request.POST)
    if request.POST.get("to") == "list":
        return _to_list(back)
    url = reverse("worklist:item", kwargs={"item_id": item.pk})
    return redirect(f"{url}?{urlencode({'back': back})}" if back else url)


@require_POST
@staff_view
def complete_many(request: HttpRequest) -> HttpResponse:
    """Complete the ticked items with one note; the message counts what was done and what was
    refused (outside the actor's scope, or closed already), never leaving a refusal unsaid."""
    actor: Any = request.user
    back = _back(request.POST)
    ids = [n for v in request.POST.getlist("item")[:500] if (n := ascii_int(v)) is not None]
    if not ids:
        messages.error(request, _("Tick the work items to complete first."))
        return _to_list(back)
    visible = selectors.work_items_visible(actor=actor, ids=ids)
    result = services.work_items_complete(actor=actor, items=visible, note=request.POST.get("note", "")[:500])
    outside = len(set(ids)) - len(visible) + result.not_allowed
    done = len(result.done)
    text = ngettext("%(n)d work item marked done.", "%(n)d work items marked done.", done) % {"n": done}
    refusals = []
    if outside:
        refusals.append(
            ngettext("%(n)d refused: outside your scope.", "%(n)d refused: outside your scope.", outside)
            % {"n": outside}
        )
    if result.already_closed:
        refusals.append(
            ngettext(
                "%(n)d refused: already closed.", "%(n)d refused: already closed.", result.already_closed
            )
            % {"n": result.already_closed}
        )
    if refusals:
        (messages.warning if done else messages.error)(request, " ".join([text, *refusals]))
    else:
        messages.success(request, text)
    return _to_list(back)
