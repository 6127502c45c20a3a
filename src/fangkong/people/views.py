"""Staff pages of the people registry: list and search, detail, register, edit, reveal, merge."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Forbidden, Invalid, NotFound
from fangkong.common.pagination import paginate
from fangkong.common.views import add_errors, int_param, query_string, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.orgs.selectors import grids_for, org_unit_list
from fangkong.people import selectors, services
from fangkong.people.forms import PersonForm
from fangkong.people.models import Person
from fangkong.people.services import DuplicatePerson


@staff_view
def person_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    unit_id = int_param(request, "org_unit")
    qs = selectors.person_list(actor=request.user, q=q, org_unit_id=unit_id)
    page = paginate(qs, page=int_param(request, "page", 1) or 1)
    units = org_unit_list(actor=request.user, perm=Perm.PEOPLE_VIEW).exclude(level="grid")[:300]
    template = "people/_rows.html" if request.headers.get("HX-Request") else "people/list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "query": query_string(request),
            "q": q,
            "org_unit": unit_id,
            "units": units,
            "can_create": can(request.user, Perm.PEOPLE_CHANGE),
        },
    )


@staff_view
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.person_get(actor=request.user, person_id=person_id)
    household = person.household
    members = (
        selectors.household_members(actor=request.user, household=household).exclude(pk=person.pk)
        if household is not None
        else []
    )
    user = request.user
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "members": members,
            "can_change": can(user, Perm.PEOPLE_CHANGE, person.org_unit),
            "can_reveal": can(user, Perm.PEOPLE_REVEAL, person.org_unit),
            "can_merge": can(user, Perm.PEOPLE_MERGE, person.org_unit),
        },
    )


def _initial(person: Person) -> dict[str, object]:
    household = person.household
    return {
        "name": person.name,
        "id_type": person.id_type,
        "org_unit": person.org_unit_id,
        "sex": person.sex,
        "birth_date": person.birth_date,
        "building": household.building if household else "",
        "unit": household.unit if household else "",
        "room": household.room if household else "",
    }


def _save(request: HttpRequest, form: PersonForm, person: Person | None) -> Person | None:
    """Call the service; put its errors on the form. Returns the person when stored."""
    if not form.is_valid():
        return None
    try:
        if person is None:
            return services.person_create(actor=request.user, data=form.person_data())
        return services.person_update(actor=request.user, person=person, data=form.person_data())
    except DuplicatePerson as error:
        add_errors(form, error.errors)
        form.existing = error.existing if error.visible_to_actor else None  # type: ignore[attr-defined]
    except Invalid as error:
        add_errors(form, error.errors)
    return None


@staff_view
def person_create(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Perm.PEOPLE_CHANGE):
        raise Forbidden("people.change")
    grids = grids_for(actor=request.user, perm=Perm.PEOPLE_CHANGE)
    typed = request.GET.get("id_number", "").replace("\x00", "")[:40]  # on-the-spot registration
    form = PersonForm(request.POST or None, grids=grids, initial={"id_number": typed} if typed else None)
    back = request.POST.get("next") or request.GET.get("next", "")
    back = (
        back
        if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
        else ""
    )
    if request.method == "POST" and (person := _save(request, form, None)):
        messages.success(request, _("Registered %(p)s.") % {"p": person})
        return redirect(back) if back else redirect("people:detail", person_id=person.pk)
    return render(request, "people/form.html", {"form": form, "person": None, "next": back})


@staff_view
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.person_get(actor=request.user, person_id=person_id, perm=Perm.PEOPLE_CHANGE)
    grids = grids_for(actor=request.user, perm=Perm.PEOPLE_CHANGE)
    form = PersonForm(request.POST or None, grids=grids, initial=_initial(person), editing=True)
    if request.method == "POST" and _save(request, form, person):
        messages.success(request, _("Saved."))
        return redirect("people:detail", person_id=person.pk)
    return render(request, "people/form.html", {"form": form, "person": person})


@require_POST
@staff_view
def person_reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    """The full value of one field, as an htmx fragment; audited by the service."""
    person = selectors.person_get(actor=request.user, person_id=person_id)
    field = request.POST.get("field", "")
    try:
        value = services.person_reveal(actor=request.user, person=person, field=field)
    except Invalid as error:
        return HttpResponse(error.message, status=422)
    return render(request, "people/_revealed.html", {"value": value, "field": field})


@require_POST
@staff_view
def person_merge(request: HttpRequest, person_id: int) -> HttpResponse:
    """Fold the record found by the document number typed in the form into this person."""
    keep = selectors.person_get(actor=request.user, person_id=person_id, perm=Perm.PEOPLE_MERGE)
    drop_id = int_param(request, "drop_id", source=request.POST)
    try:
        if drop_id is None:
            raise Invalid.field("drop_id", _("Give the number of the record to merge."))
        try:
            drop = selectors.person_get(actor=request.user, person_id=drop_id, perm=Perm.PEOPLE_MERGE)
        except NotFound:
            raise Invalid.field("drop_id", _("No record %(d)s in your area.") % {"d": drop_id}) from None
        services.person_merge(actor=request.user, keep=keep, drop=drop)
    except Invalid as error:
        messages.error(request, error.text())
    else:
        messages.success(request, _("Record %(d)s merged into this person.") % {"d": drop_id})
    return redirect("people:detail", person_id=keep.pk)
