"""The outbox page: every text message in the viewer's units, and what staff may do with one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import date_param, int_param, page_action, query_string, staff_view
from fangkong.notify import selectors, services
from fangkong.notify.models import Status
from fangkong.notify.phones import sms_number
from fangkong.notify.templates import TEMPLATES


@staff_view
def outbox(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = selectors.OutboxFilters(
        status=g.get("status", "") if g.get("status", "") in Status.values else "",
        template=g.get("template", "") if g.get("template", "") in TEMPLATES else "",
        day=date_param(request, "day"),
        phone=g.get("phone", "").strip(),
    )
    page = paginate(
        selectors.outbox_list(actor=request.user, filters=filters), page=int_param(request, "page", 1) or 1
    )
    return render(
        request,
        "notify/outbox.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Status.choices,
            "templates": [(t.name, t.label) for t in TEMPLATES.values()],
            "phone_invalid": bool(filters.phone) and sms_number(filters.phone) is None,
            "query": query_string(request),
            "Status": Status,
        },
    )


@require_POST
@staff_view
def action(request: HttpRequest, message_id: int, action: str) -> HttpResponse:
    message = selectors.outbox_get(actor=request.user, message_id=message_id)
    with page_action(request, action) as done:
        if action == "retry":
            services.sms_retry(actor=request.user, messages=[message])
            done.message = _("The message to %(phone)s is queued again.") % {"phone": message.phone_masked}
        elif action in {"delivered", "undelivered"}:
            services.sms_outcome_record(
                actor=request.user,
                message=message,
                delivered=action == "delivered",
                note=request.POST.get("note", ""),
            )
            done.message = (
                _("Recorded: the message to %(phone)s was delivered.")
                if action == "delivered"
                else _("Recorded: the message to %(phone)s was not delivered; it may be sent again.")
            ) % {"phone": message.phone_masked}
        else:
            raise Invalid.field("action", _("Unknown action."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("notify:outbox")
