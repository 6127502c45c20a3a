"""Staff pages of testing rounds: the list, planning one, its coverage by grid (应检尽检) and each
grid's untested residents with what the grid does about them (visit, home sample, exempt)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fangkong.cases.investigations import parse_local_time
from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.masking import mask_name
from fangkong.common.pagination import Page, paginate
from fangkong.common.protocol import active_profile
from fangkong.common.views import csv_download, int_param, query_string, staff_user, staff_view
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, scope_roots, visible
from fangkong.orgs.selectors import org_unit_get
from fangkong.testing import chain, coverage, selectors, visits
from fangkong.testing.models import AreaLevel, ExemptionReason
from fangkong.testing.services import round_create


@staff_view
def round_list(request: HttpRequest) -> HttpResponse:
    rounds = paginate(
        selectors.round_list(actor=request.user), page=int_param(request, "page", 1) or 1, size=20
    )
    return render(
        request,
        "testing/rounds.html",
        {"page": rounds, "can_plan": can(request.user, Perm.TESTING_MANAGE)},
    )


def _time(text: str, field: str) -> datetime:
    return parse_local_time(text, field=field)


@staff_view
def round_new(request: HttpRequest) -> HttpResponse:
    """Plan a round: its name, window, validity, and a level for each community, proposed from the
    published risk areas (the rest of the actor's area is tested at the widest pool)."""
    roots = scope_roots(request.user, Perm.TESTING_MANAGE)
    if not roots:
        raise Forbidden(_("Your role may not plan testing rounds."))
    root = roots[0]
    communities = list(
        visible(request.user, OrgUnit.objects.filter(level=Level.COMMUNITY), perm=Perm.TESTING_MANAGE)
        .select_related("parent")
        .order_by("path")
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        p = request.POST
        try:
            chosen = [(c, p.get(f"level_{c.pk}", "")) for c in communities]
            made = round_create(
                actor=staff_user(request),
                name=p.get("name", ""),
                org_unit=root,
                starts_at=_time(p.get("starts_at", ""), "starts_at"),
                ends_at=_time(p.get("ends_at", ""), "ends_at"),
                valid_hours=int(p["valid_hours"])
                if p.get("valid_hours", "").isdigit() and len(p["valid_hours"]) < 4
                else None,
                areas=[
                    (root, AreaLevel.ELSEWHERE),
                    *[(c, lvl) for c, lvl in chosen if lvl in {AreaLevel.SEALED, AreaLevel.CONTROLLED}],
                ],
            )
        except Invalid as error:
            errors = error.errors
        else:
            messages.success(request, _("Round %(n)s planned.") % {"n": made.name})
            return redirect("testing:round", round_id=made.pk)
    rule = active_profile().testing
    proposed = selectors.levels_by_risk(communities=communities)
    return render(
        request,
        "testing/round_new.html",
        {
            "root": root,
            "levels": [(v, label, rule.pool_for(v)) for v, label in AreaLevel.choices],
            "household_tubes": rule.household_tubes_when_sealed,
            "rows": [  # the level typed, or the one the risk areas propose
                (c, request.POST.get(f"level_{c.pk}") or proposed[c.pk]) for c in communities
            ],
            "valid_hours": rule.valid_hours,
            "errors": errors,
            "typed": request.POST,
        },
        status=422 if errors else 200,
    )


@staff_view
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    """The round's coverage by grid, with totals; CSV with ``?format=csv``."""
    the_round = selectors.round_get(actor=request.user, round_id=round_id)
    rows = coverage.coverage_by_grid(actor=request.user, the_round=the_round)
    if request.GET.get("format") == "csv":
        return csv_download(
            filename=f"coverage-{the_round.pk}.csv",
            header=[
                "网格编码",
                "社区",
                "网格",
                "应检",
                "已采",
                "隔离中",
                "已出结果",
                "阳性",
                "未采",
                "覆盖率%",
            ],
            rows=(
                [
                    r.grid.code,
                    r.grid.parent.name if r.grid.parent else "",
                    r.grid.name,
                    r.expected,
                    r.sampled,
                    r.quarantined,
                    r.resulted,
                    r.positive,
                    r.untested,
                    f"{r.percent:.1f}",
                ]
                for r in rows
            ),
        )
    order = request.GET.get("sort", "")
    if order == "percent":
        rows.sort(key=lambda r: (r.percent, r.grid.path))
    q = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    shown = [r for r in rows if q in r.grid.name or (r.grid.parent is not None and q in r.grid.parent.name)]
    size = 100
    last = max(1, -(-len(shown) // size))
    number = min(max(1, int_param(request, "page", 1) or 1), last)
    page = Page(items=shown[(number - 1) * size : number * size], number=number, size=size, total=len(shown))
    chains = chain.recall_chain(actor=request.user, the_round=the_round, now=timezone.now())
    return render(
        request,
        "testing/round.html",
        {
            "round": the_round,
            "rows": page.items,
            "page": page,
            "query": query_string(request),
            "q": q,
            "total": coverage.totals(rows),
            "sort": order,
            "areas": the_round.areas.select_related("org_unit"),
            "chains": chains,
            "chain": chain.chain_summary(chains),
            "household_tubes": active_profile().testing.household_tubes_when_sealed,
        },
    )


@staff_view
def untested_page(request: HttpRequest, round_id: int, unit_id: int) -> HttpResponse:
    """The residents of one grid not sampled yet, for its workers; CSV with ``?format=csv``."""
    the_round = selectors.round_get(actor=request.user, round_id=round_id)
    grid = org_unit_get(actor=request.user, unit_id=unit_id, perm=Perm.TESTING_VIEW)
    people = coverage.untested(actor=request.user, the_round=the_round, grid=grid)
    if request.GET.get("format") == "csv":
        return csv_download(
            filename=f"untested-{the_round.pk}-{grid.code}.csv",
            header=["姓名", "住址", "登记号"],
            rows=([mask_name(p.name), str(p.household or ""), p.pk] for p in people.iterator()),
        )
    page = paginate(people, page=int_param(request, "page", 1) or 1, size=100)
    return render(
        request,
        "testing/untested.html",
        {
            "round": the_round,
            "grid": grid,
            "page": page,
            "reasons": ExemptionReason.choices,
            "can_act": can(request.user, Perm.PEOPLE_CHANGE, grid),
        },
    )


@require_POST
@staff_view
def untested_act(request: HttpRequest, round_id: int, unit_id: int) -> HttpResponse:
    the_round = selectors.round_get(actor=request.user, round_id=round_id)
    grid = org_unit_get(actor=request.user, unit_id=unit_id, perm=Perm.TESTING_VIEW)
    ids = [int(v) for v in request.POST.getlist("person") if v.isascii() and v.isdigit() and len(v) <= 12]
    action = request.POST.get("action", "")
    try:
        if not ids:
            raise Invalid.field("person", _("Tick at least one person."))
        if action == "visit":
            done = visits.untested_visit(actor=staff_user(request), the_round=the_round, person_ids=ids)
            text = ngettext(
                "%(n)d visit added to the grid's work.", "%(n)d visits added to the grid's work.", done.done
            )
        elif action == "home":
            done = visits.home_sampling_request(
                actor=staff_user(request), the_round=the_round, person_ids=ids
            )
            text = ngettext(
                "%(n)d home sample asked of the sampling team.",
                "%(n)d home samples asked of the sampling team.",
                done.done,
            )
        elif action == "exempt":
            done = visits.exemptions_add(
                actor=staff_user(request),
                the_round=the_round,
                person_ids=ids,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
            text = ngettext(
                "%(n)d person exempted from the round.", "%(n)d people exempted from the round.", done.done
            )
        else:
            raise Invalid.field("action", _("Unknown action."))
    except Invalid as error:
        messages.error(request, error.text())
    else:
        messages.success(request, text % {"n": done.done})
        if done.refused:
            messages.warning(
                request, _("%(n)d not done: sampled meanwhile, or outside your area.") % {"n": done.refused}
            )
    return redirect(reverse("testing:untested", args=[the_round.pk, grid.pk]))


@staff_view
def advisor_page(request: HttpRequest) -> HttpResponse:
    """The pooling advice for the prevalence the latest round suggests, or the one typed."""
    from fangkong.testing import advisor

    latest = selectors.round_list(actor=request.user).first()
    estimate = advisor.prevalence_estimate(the_round=latest) if latest is not None else None
    typed = request.GET.get("p", "").replace("\x00", "")[:12]
    p = advisor.parse_prevalence(typed) if typed else None
    error = _("Type a prevalence between 0 and 100 per cent.") if typed and p is None else ""
    if p is None:
        p = estimate.p if estimate is not None and estimate.p is not None else 0.001
    people = (
        coverage.totals(coverage.coverage_by_grid(actor=request.user, the_round=latest)).expected
        if latest
        else 0
    )
    advice, load = advisor.advice_for(p=p, people=people or 1_000_000)
    return render(
        request,
        "testing/advisor.html",
        {
            "round": latest,
            "estimate": estimate,
            "p_percent": p * 100,
            "typed": typed,
            "error": error,
            "advice": advice,
            "load": load,
            "people": people or 1_000_000,
        },
    )
