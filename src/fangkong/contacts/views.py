"""Staff pages of contacts: the contacts of a case (register, proposals to confirm or dismiss)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.cases.investigations import parse_local_time
from fangkong.cases.selectors import case_get
from fangkong.common.errors import Conflict, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import csv_download, date_param, int_param, page_action, query_string, staff_view
from fangkong.contacts import graph, selectors, services, timeliness
from fangkong.contacts.imports import TEMPLATE_HEADER, contact_import_create
from fangkong.contacts.models import ContactStatus, ExposureType
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.import_views import import_status_page
from fangkong.people.selectors import person_list

CONTACTS_PER_PAGE = 100  # a discovery can propose hundreds; ticking all confirms one page


def _find_person(actor: Any, text: str) -> Any:
    text = text.strip()
    found = (
        list(person_list(actor=actor).filter(pk=int(text))[:1]) if text.isdigit() and len(text) <= 10 else []
    )
    if not found and text:
        found = list(person_list(actor=actor, q=text).exclude(name__contains=text)[:2])
    if len(found) != 1:
        raise Invalid.field("person", _("No person with this number in your area; register them first."))
    return found[0]


def _page(
    request: HttpRequest, case_id: int, *, errors: dict[str, list[str]] | None = None, status: int = 200
) -> HttpResponse:
    case = case_get(actor=request.user, case_id=case_id)
    shown = request.GET.get("status", "")
    shown = shown if shown in ContactStatus.values else ""
    contacts = selectors.contact_list(actor=request.user, case_id=case.pk, status=shown)
    counts = selectors.contact_counts(actor=request.user, case_id=case.pk)
    return render(
        request,
        "contacts/case_contacts.html",
        {
            "case": case,
            "page": paginate(contacts, page=int_param(request, "page", 1) or 1, size=CONTACTS_PER_PAGE),
            "query": query_string(request),
            "shown": shown,
            "tabs": [("", _("All"), sum(counts.values()))]
            + [(value, label, counts.get(value, 0)) for value, label in ContactStatus.choices],
            "exposure_types": ExposureType.choices,
            "errors": errors or {},
            "typed": request.POST if errors else {},
            "can_change": can(request.user, Perm.CASES_CHANGE, case.org_unit),
            "runs": selectors.discovery_run_list(actor=request.user, case_id=case.pk)[:5],
            "proposed_count": counts.get(ContactStatus.PROPOSED, 0),
        },
        status=status,
    )


@staff_view
def case_contacts(request: HttpRequest, case_id: int) -> HttpResponse:
    if request.method != "POST":
        return _page(request, case_id)
    case = case_get(actor=request.user, case_id=case_id)
    p = request.POST
    try:
        person = _find_person(request.user, p.get("person", ""))
        first = parse_local_time(p.get("first_exposure", ""), field="first_exposure")
        last = parse_local_time(p.get("last_exposure", ""), field="last_exposure")
        contact = services.contact_register(
            actor=request.user,
            case=case,
            person=person,
            exposure_type=p.get("exposure_type", ""),
            first_exposure=first,
            last_exposure=last,
            note=p.get("note", ""),
        )
    except Invalid as error:
        return _page(request, case_id, errors=error.errors, status=422)
    except Conflict as error:
        return _page(request, case_id, errors={"person": [error.message]}, status=409)
    messages.success(
        request, _("Close contact registered; quarantine orders made for %(p)s.") % {"p": contact.person}
    )
    return redirect("contacts:case", case_id=case.pk)


@require_POST
@staff_view
def contact_decide(request: HttpRequest, contact_id: int, decision: str) -> HttpResponse:
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    with page_action(request):
        if decision == "confirm":
            services.contact_confirm(actor=request.user, contact=contact)
        elif decision == "dismiss":
            services.contact_dismiss(
                actor=request.user, contact=contact, reason=request.POST.get("reason", "")
            )
        else:
            raise Invalid.field("decision", _("Unknown decision."))
    return redirect("contacts:case", case_id=contact.source_case_id)


@require_POST
@staff_view
def contacts_identified(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get(actor=request.user, case_id=case_id)
    with page_action(request):
        services.case_contacts_identified(actor=request.user, case=case)
    return redirect("contacts:case", case_id=case.pk)


@staff_view
def timeliness_page(request: HttpRequest) -> HttpResponse:
    """Per district: median hours from confirmation to each step and the share within the
    protocol's hours for the step."""
    today = timezone.localdate()
    since = date_param(request, "since") or today - timedelta(days=30)
    until = date_param(request, "until") or today
    times = timeliness.case_times(actor=request.user, since=since, until=until)
    return render(
        request,
        "contacts/timeliness.html",
        {
            "rows": timeliness.district_rows(times),
            "cases": sorted(times, key=lambda t: t.confirmed_at, reverse=True)[:200],
            "since": since,
            "until": until,
            "stages": timeliness.STAGES,
            "hours": {
                stage: int(limit.total_seconds() // 3600)
                for stage, limit in timeliness.stage_limits().items()
            },
        },
    )


@staff_view
def cluster_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get(actor=request.user, case_id=case_id)
    return render(request, "contacts/cluster.html", {"case": case})


@staff_view
def cluster_data(request: HttpRequest, case_id: int) -> JsonResponse:
    case = case_get(actor=request.user, case_id=case_id)
    return JsonResponse(graph.cluster_graph(actor=request.user, case=case))


@require_POST
@staff_view
def contact_import_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get(actor=request.user, case_id=case_id)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise Invalid.field("file", _("Choose a file."))
        job = contact_import_create(
            actor=request.user, case=case, file_name=upload.name or "", content=upload.read()
        )
    except Invalid as error:
        messages.error(request, error.text())
        return redirect("contacts:case", case_id=case.pk)
    return redirect("contacts:import", contact_import_id=job.pk)


@staff_view
def contact_import_detail(request: HttpRequest, contact_import_id: int) -> HttpResponse:
    job = selectors.contact_import_get(actor=request.user, import_id=contact_import_id)
    poll_url = reverse("contacts:import", args=[job.pk])
    return import_status_page(request, job, poll_url=poll_url, page="contacts/import.html")


@staff_view
def contact_import_template(request: HttpRequest) -> HttpResponse:
    return csv_download(filename="contacts-import-template.csv", header=TEMPLATE_HEADER)
