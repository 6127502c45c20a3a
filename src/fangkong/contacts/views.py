"""Staff pages of contacts: the contacts of a case (register, proposals to confirm or dismiss)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fangkong.cases.investigations import parse_local_time
from fangkong.cases.selectors import case_get
from fangkong.common.bounds import ascii_int
from fangkong.common.errors import Conflict, Invalid
from fangkong.common.masking import mask_name
from fangkong.common.pagination import paginate
from fangkong.common.views import csv_download, date_param, int_param, page_action, staff_view
from fangkong.contacts import graph, selectors, services, timeliness
from fangkong.contacts.handoff import person_by_document
from fangkong.contacts.imports import TEMPLATE_HEADER, contact_import_create
from fangkong.contacts.models import Contact, ContactStatus, DiscoveredBy, ExposureType
from fangkong.contacts.selectors import ReviewFilters
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.idnumbers import RESIDENT_ID, normalize_document
from fangkong.people.import_views import import_status_page
from fangkong.people.models import Person
from fangkong.people.selectors import person_list

CONTACTS_PER_PAGE = 100  # a discovery can propose hundreds; ticking all confirms one page


def _find_person(actor: Any, text: str) -> Person:
    """The person the register form names: a record number, a document or a mobile in the actor's
    area; else, for a resident ID, the person anywhere in the city (a hand-off to their home unit)."""
    text = text.strip()
    pk = ascii_int(text)
    found = list(person_list(actor=actor).filter(pk=pk)[:1]) if pk is not None else []
    if not found and text:
        found = list(person_list(actor=actor, q=text).exclude(name__contains=text)[:2])
    if not found and RESIDENT_ID.fullmatch(normalize_document(text)):
        elsewhere = person_by_document(number=text)
        found = [elsewhere] if elsewhere is not None else []
    if len(found) != 1:
        raise Invalid.field("person", _("No person with this number in your area; register them first."))
    return found[0]


TAB_LABELS = {
    "proposed": gettext_lazy("Proposals"),
    "household": gettext_lazy("Household members"),
    "confirmed": gettext_lazy("Confirmed contacts"),
    "companions": gettext_lazy("Spatiotemporal companions"),
    "handed_off": gettext_lazy("Handed off (协查)"),
    "dismissed": gettext_lazy("Dismissed"),
    "all": gettext_lazy("All"),
}
TAB_EMPTY = {
    "proposed": gettext_lazy(
        "No proposals wait for a decision. Find contacts in location data and venue check-ins above, or register one by hand below."
    ),
    "household": gettext_lazy(
        "No household members wait for a decision. They are proposed when a close contact with a registered household is confirmed."
    ),
    "confirmed": gettext_lazy("No confirmed contacts yet."),
    "companions": gettext_lazy(
        "No spatiotemporal companions. They are found in location data, asked to take two tests in three days, and not quarantined."
    ),
    "handed_off": gettext_lazy(
        "No contacts handed off. A contact who lives outside your area is handed to their home unit here."
    ),
    "dismissed": gettext_lazy("No dismissed proposals."),
    "all": gettext_lazy("No contacts registered yet."),
}
SORT_LABELS = {
    "score": gettext_lazy("Score, highest first"),
    "last_exposure": gettext_lazy("Last exposure, latest first"),
    "name": gettext_lazy("Name"),
}


def _address(case_id: int, filters: ReviewFilters, *, page: int = 1, tab: str | None = None) -> str:
    """The review page at this tab, order, filters and page (what a decision comes back to)."""
    params: dict[str, Any] = {"tab": tab or filters.tab}
    for name in ("sort", "found_by", "min_score", "exposure_type", "q"):
        if getattr(filters, name):
            params[name] = getattr(filters, name)
    if page > 1:
        params["page"] = page
    return f"{reverse('contacts:case', args=[case_id])}?{urlencode(params)}"


def _filter_fields(filters: ReviewFilters) -> list[tuple[str, Any]]:
    """The review's tab and filters as form fields (a decision on all matching proposals)."""
    fields = [
        (name, getattr(filters, name)) for name in ("tab", "found_by", "min_score", "exposure_type", "q")
    ]
    return [(name, value) for name, value in fields if value]


def back_to(request: HttpRequest, case_id: int) -> str:
    """Where a decision sends the reviewer: the page it was made on (``next``, a path on this
    site), else the case's contacts; a page now past the end shows the last one."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target + ("" if "#" in target else "#review")
    return reverse("contacts:case", args=[case_id]) + "#review"


def _default_tab(counts: dict[str, int]) -> str:
    return next((tab for tab in ("proposed", "household") if counts[tab]), "all")


def _page(
    request: HttpRequest, case_id: int, *, errors: dict[str, list[str]] | None = None, status: int = 200
) -> HttpResponse:
    case = case_get(actor=request.user, case_id=case_id)
    counts = selectors.contact_tab_counts(actor=request.user, case_id=case.pk)
    filters = ReviewFilters.parse(request.GET, default_tab=_default_tab(counts))
    contacts = selectors.contact_review_list(actor=request.user, case_id=case.pk, filters=filters)
    page = paginate(contacts, page=int_param(request, "page", 1) or 1, size=CONTACTS_PER_PAGE)
    selectors.people_in_view(actor=request.user, contacts=page.items)
    here = _address(case.pk, filters, page=page.number)
    return render(
        request,
        "contacts/case_contacts.html",
        {
            "case": case,
            "page": page,
            "query": _address(case.pk, filters).split("?", 1)[1] + "&",
            "here": here,
            "filters": filters,
            "tabs": [
                (tab, label, counts[tab], _address(case.pk, filters, tab=tab))
                for tab, label in TAB_LABELS.items()
            ],
            "empty": TAB_EMPTY[filters.tab],
            "sorts": list(SORT_LABELS.items()),
            "found_by_choices": DiscoveredBy.choices,
            "exposure_types": ExposureType.choices,
            "has_proposals": any(c.status == ContactStatus.PROPOSED for c in page.items),
            "errors": errors or {},
            "typed": request.POST if errors else {},
            "can_change": can(request.user, Perm.CASES_CHANGE, case.org_unit),
            "runs": selectors.discovery_run_list(actor=request.user, case_id=case.pk)[:5],
            "proposed_count": counts["proposed"] + counts["household"],
            "matching_count": contacts.filter(status=ContactStatus.PROPOSED).count(),
            "bulk_limit": services.BULK_LIMIT,
            "filter_fields": _filter_fields(filters),
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
    messages.success(request, _decided_text(contact, registered=True))
    return redirect(back_to(request, case.pk))


def _decided_text(contact: Contact, *, registered: bool = False) -> str:
    """What a decision on one contact did, naming the person (masked) and the effect."""
    name = mask_name(contact.person.name)
    if contact.status == ContactStatus.HANDED_OFF:
        if registered:
            return _(
                "%(p)s registered; the person lives outside your area, so a hand-off (协查) to their home community was requested."
            ) % {"p": name}
        return _("%(p)s lives outside your area: handed off (协查) to their home community.") % {"p": name}
    if contact.status == ContactStatus.DISMISSED:
        return _("Proposal for %(p)s dismissed; no orders were made.") % {"p": name}
    if registered:
        return _("Close contact registered; quarantine orders made for %(p)s.") % {"p": name}
    return _("Contact %(p)s confirmed; quarantine orders made.") % {"p": name}


@require_POST
@staff_view
def contact_decide(request: HttpRequest, contact_id: int, decision: str) -> HttpResponse:
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    with page_action(request) as done:
        if decision == "confirm":
            contact = services.contact_confirm(actor=request.user, contact=contact)
        elif decision == "dismiss":
            contact = services.contact_dismiss(
                actor=request.user, contact=contact, reason=request.POST.get("reason", "")
            )
        else:
            raise Invalid.field("decision", _("Unknown decision."))
        done.message = _decided_text(contact)
    return redirect(back_to(request, contact.source_case_id))


@require_POST
@staff_view
def contacts_identified(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get(actor=request.user, case_id=case_id)
    with page_action(request):
        services.case_contacts_identified(actor=request.user, case=case)
    return redirect(back_to(request, case.pk))


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


def _cluster_words() -> dict[str, Any]:
    """What the graph's script writes, in the reader's language."""
    return {
        "categories": {
            "confirmed": _("Confirmed"),
            "suspected": _("Suspected"),
            "asymptomatic": _("Asymptomatic infection"),
            "excluded": _("Excluded"),
            "contact_close": _("Close contact"),
            "contact_secondary": _("Secondary contact"),
            "contacts": _("Contacts (count)"),
            "proposal": _("Proposed contact, waiting for a decision"),
            "proposals": _("Proposals (count)"),
            "community": _("Community"),
        },
        "levels": {
            "people": _("every person"),
            "cases": _("contacts grouped by case"),
            "communities": _("cases grouped by community"),
        },
        "cases": _("Cases"),
        "contacts": _("Contacts"),
        "proposals": _("Proposals waiting: {n}"),
        "companions": _("Spatiotemporal companions: {n}"),
        "origin": _("the case you came from"),
    }


@staff_view
def cluster_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get(actor=request.user, case_id=case_id)
    origin = int_param(request, "from")
    data_url = reverse("contacts:cluster-data", args=[case.pk]) + (f"?from={origin}" if origin else "")
    return render(
        request, "contacts/cluster.html", {"case": case, "data_url": data_url, "words": _cluster_words()}
    )


@staff_view
def cluster_data(request: HttpRequest, case_id: int) -> JsonResponse:
    """The cluster's graph; ``from`` names the case the reviewer came from (highlighted)."""
    case = case_get(actor=request.user, case_id=case_id)
    return JsonResponse(
        graph.cluster_graph(actor=request.user, case=case, origin_id=int_param(request, "from"))
    )


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
