"""Staff pages of quarantine: orders (live first), an order with its tests, checks and room."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, page_action, query_string, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, visible
from fangkong.quarantine import monitoring, selectors, services
from fangkong.quarantine.models import OrderStatus, QuarantineOrder, Room, Site

STATUS_FILTERS = {"live", "", *OrderStatus.values}


@staff_view
def order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "live")
    status = status if status in STATUS_FILTERS else "live"
    page = paginate(
        selectors.order_list(actor=request.user, status=status), page=int_param(request, "page", 1) or 1
    )
    return render(
        request,
        "quarantine/orders.html",
        {
            "page": page,
            "query": query_string(request),
            "status": status,
            "statuses": OrderStatus.choices,
            "early": selectors.early_release_proposals(actor=request.user)[:50],
        },
    )


@staff_view
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get(actor=request.user, order_id=order_id)
    sites = visible(request.user, Site.objects.all(), perm=Perm.QUARANTINE_VIEW).prefetch_related("rooms")
    link = request.build_absolute_uri(
        reverse("self-report", args=[monitoring.self_report_token(order=order)])
    )
    return render(
        request,
        "quarantine/order.html",
        {
            "order": order,
            "tests": order.tests.all(),
            "checks": order.checks.all()[:30],
            "rooms": [room for site in sites for room in selectors.free_rooms(site=site)],
            "symptoms": monitoring.SYMPTOMS.items(),
            "self_report_link": link,
            "can_change": can(request.user, Perm.QUARANTINE_CHANGE, order.org_unit)
            or (order.site is not None and can(request.user, Perm.QUARANTINE_CHANGE, order.site.org_unit)),
        },
    )


@require_POST
@staff_view
def order_action(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    order = selectors.order_get(actor=request.user, order_id=order_id)
    p = request.POST
    with page_action(request) as done:
        if action == "check":
            check = monitoring.daily_check_record(
                actor=request.user,
                order=order,
                temperature=p.get("temperature", ""),
                symptoms=p.getlist("symptoms"),
            )
            done.message = _("Health check of %(d)s recorded: %(t)s °C.") % {
                "d": check.date.strftime("%m-%d"),
                "t": check.temperature,
            }
            if monitoring.is_alert(check):
                done.message += " " + _("Fever or symptom: an urgent follow-up is in the grid's work.")
        elif action == "room":
            room_id = int_param(request, "room", 0, source=p) or 0
            room = Room.objects.filter(
                pk=room_id, site__in=visible(request.user, Site.objects.all(), perm=Perm.QUARANTINE_VIEW)
            ).first()
            if room is None:
                raise Invalid.field("room", _("Choose a room."))
            services.order_assign_room(actor=request.user, order=order, room=room)
            done.message = _("Room %(r)s assigned; the transfer is done.") % {"r": room}
        elif action == "release":
            early = p.get("early") == "1"
            services.order_release(actor=request.user, order=order, early=early, reason=p.get("reason", ""))
            done.message = _release_message(order, early=early)
        else:
            raise Invalid.field("action", _("Unknown action."))
    return redirect("quarantine:order", order_id=order.pk)


def _release_message(order: QuarantineOrder, *, early: bool) -> str:
    follow_on = QuarantineOrder.objects.filter(follows=order).first()
    if early or follow_on is None:
        return str(
            _("Order released early; what would have followed it is cancelled.")
            if early
            else _("Order released; the person's quarantine ends here.")
        )
    return _("Order released; %(k)s runs from %(a)s to %(b)s.") % {
        "k": follow_on.get_kind_display(),
        "a": follow_on.day_one.strftime("%m-%d"),
        "b": follow_on.last_day.strftime("%m-%d"),
    }


@require_POST
@staff_view
def test_result(request: HttpRequest, test_id: int) -> HttpResponse:
    test = selectors.test_get(actor=request.user, test_id=test_id)
    with page_action(request):
        services.lab_result_record(
            actor=request.user, appointment=test, result=request.POST.get("result", "")
        )
    return redirect("quarantine:order", order_id=test.order_id)


@staff_view
def occupancy(request: HttpRequest) -> HttpResponse:
    return render(
        request, "quarantine/occupancy.html", {"rows": selectors.site_occupancy(actor=request.user)}
    )
