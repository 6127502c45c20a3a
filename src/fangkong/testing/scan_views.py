"""The collector's phone page (采样): choose the site and round, scan a tube's barcode, then each
person's 核酸码 or ID number up to the tube's size, close it, pack closed tubes into a box.

Every scan answers at once: the htmx partial of the tube with the masked name (or the refusal)
and a ``data-beep`` the page turns into a sound and a vibration; without JavaScript the same form
posts and the page comes back."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Conflict, Forbidden, Invalid, NotFound
from fangkong.common.views import int_param, staff_user, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.idnumbers import RESIDENT_ID, normalize_document
from fangkong.testing import selectors
from fangkong.testing.boxes import box_pack
from fangkong.testing.models import QueueStatus, Round, SamplingSite, Tube, TubeKind
from fangkong.testing.services import site_queue_post, tube_close, tube_open, tube_scan


def _chosen(request: HttpRequest) -> tuple[SamplingSite | None, Round | None, list[Round]]:
    sites = selectors.sites_for_sampling(actor=request.user)
    site_id = int_param(request, "site")
    site = next((s for s in sites if s.pk == site_id), None) if site_id else None
    if site is None and len(sites) == 1:
        site = sites[0]
    rounds = selectors.rounds_under_way(site=site) if site is not None else []
    round_id = int_param(request, "round")
    chosen = next((r for r in rounds if r.pk == round_id), rounds[0] if rounds else None)
    return site, chosen, rounds


@staff_view
def scan_home(request: HttpRequest) -> HttpResponse:
    """The site and round, the barcode of the next tube, and the box to pack."""
    site, chosen, rounds = _chosen(request)
    return render(
        request,
        "testing/scan.html",
        {
            "sites": selectors.sites_for_sampling(actor=request.user),
            "site": site,
            "round": chosen,
            "rounds": rounds,
            "kinds": TubeKind.choices,
            "queues": QueueStatus.choices,
            "open_tubes": selectors.tubes_open(site=site, round=chosen)[:20] if site and chosen else [],
        },
    )


def _here(site: SamplingSite, round: Round) -> str:
    return f"{reverse('testing:scan')}?{urlencode({'site': site.pk, 'round': round.pk})}"


@require_POST
@staff_view
def tube_open_view(request: HttpRequest) -> HttpResponse:
    site, chosen, _rounds = _chosen(request)
    if site is None or chosen is None:
        messages.error(request, _("Choose a site and a round under way."))
        return redirect("testing:scan")
    try:
        tube = tube_open(
            actor=staff_user(request),
            round=chosen,
            site=site,
            barcode=request.POST.get("barcode", ""),
            kind=request.POST.get("kind", TubeKind.POOL),
        )
    except (Invalid, Conflict, Forbidden) as error:
        again = selectors.tubes_open(site=site, round=chosen).filter(
            barcode=request.POST.get("barcode", "").strip().upper()[:40]
        )
        if isinstance(error, Conflict) and (found := again.first()) is not None:  # back to an open tube
            messages.info(request, _("Tube %(b)s is still open: go on scanning.") % {"b": found.barcode})
            return redirect("testing:tube", tube_id=found.pk)
        messages.error(request, error.text())
        return redirect(_here(site, chosen))
    return redirect("testing:tube", tube_id=tube.pk)


def _tube_page(
    request: HttpRequest,
    tube: Tube,
    *,
    said: str = "",
    ok: bool = True,
    status: int = 200,
    register: str = "",
) -> HttpResponse:
    """The tube (its partial for htmx); ``register``: an ID number nobody has, offered for
    on-the-spot registration when the actor may register people."""
    context = {
        "tube": tube,
        "members": selectors.tube_members(tube_id=tube.pk, limit=30),
        "said": said,
        "ok": ok,
        "back": _here(tube.site, tube.round),
        "register": register if register and can(request.user, Perm.PEOPLE_CHANGE) else "",
    }
    if not request.headers.get("HX-Request"):
        return render(request, "testing/tube.html", context, status=status)
    answer = render(request, "testing/_tube.html", context, status=status)
    answer["HX-Retarget"], answer["HX-Reswap"] = "#tube", "outerHTML"  # the scan form aims at the list
    return answer


@staff_view
def tube_page(request: HttpRequest, tube_id: int) -> HttpResponse:
    return _tube_page(request, selectors.tube_get(actor=request.user, tube_id=tube_id))


@require_POST
@staff_view
def tube_scan_view(request: HttpRequest, tube_id: int) -> HttpResponse:
    """One scan: the person's masked name and the count, or why not (422, the page stays). The
    answer is drawn from the tube as the scan left it (one read, locked)."""
    try:
        scanned = tube_scan(
            actor=staff_user(request), tube_id=tube_id, code=request.POST.get("code", "")[:200]
        )
    except (Invalid, Conflict, Forbidden) as error:
        typed = normalize_document(request.POST.get("code", ""))[:40]
        unknown = (
            isinstance(error, Invalid) and "code" in error.errors and RESIDENT_ID.fullmatch(typed) is not None
        )
        tube = selectors.tube_get(actor=request.user, tube_id=tube_id)
        return _tube_page(
            request, tube, said=error.text(), ok=False, status=422, register=typed if unknown else ""
        )
    said = _("%(n)s ✓ %(c)d/%(m)d") % {"n": scanned.masked_name, "c": scanned.count, "m": scanned.capacity}
    if scanned.full:
        said += " " + _("The tube is full: close it.")
    if scanned.full or not request.headers.get("HX-Request"):
        return _tube_page(request, scanned.tube, said=said)
    context = {
        "tube": scanned.tube,
        "masked_name": scanned.masked_name,
        "at": timezone.localtime(scanned.member.scanned_at).strftime("%H:%M:%S"),
        "said": said,
        "ok": True,
    }  # the new name on top of the list; the count, the answer and the close button in place
    return render(request, "testing/_scanned.html", context)


@require_POST
@staff_view
def tube_close_view(request: HttpRequest, tube_id: int) -> HttpResponse:
    tube = selectors.tube_get(actor=request.user, tube_id=tube_id)
    try:
        tube_close(actor=staff_user(request), tube=tube)
    except (Conflict, Forbidden) as error:
        messages.error(request, error.text())
        return redirect("testing:tube", tube_id=tube.pk)
    messages.success(
        request, _("Tube %(b)s closed with %(n)d people.") % {"b": tube.barcode, "n": tube.members_count}
    )
    return redirect(_here(tube.site, tube.round))


@require_POST
@staff_view
def queue_post_view(request: HttpRequest) -> HttpResponse:
    """The site's staff post its queue (the portal shows it)."""
    site, chosen, _rounds = _chosen(request)
    if site is None:
        raise NotFound("site")
    minutes = request.POST.get("minutes", "")
    try:
        site_queue_post(
            actor=staff_user(request),
            site=site,
            queue=request.POST.get("queue", ""),
            minutes=int(minutes) if minutes.isascii() and minutes.isdigit() and len(minutes) < 5 else None,
        )
    except (Invalid, Forbidden) as error:
        messages.error(request, error.text())
    else:
        messages.success(request, _("Queue posted: the portal shows it now."))
    return redirect(_here(site, chosen) if chosen else f"{reverse('testing:scan')}?site={site.pk}")


@require_POST
@staff_view
def box_pack_view(request: HttpRequest) -> HttpResponse:
    site, chosen, _rounds = _chosen(request)
    if site is None or chosen is None:
        raise NotFound("site")
    barcodes = request.POST.get("barcodes", "").split()[:500]
    try:
        box = box_pack(
            actor=staff_user(request),
            site=site,
            round=chosen,
            code=request.POST.get("code", ""),
            barcodes=barcodes,
        )
    except (Invalid, Conflict, Forbidden) as error:
        messages.error(request, error.text())
    else:
        messages.success(
            request, _("Box %(c)s packed with %(n)d tubes.") % {"c": box.code, "n": box.tubes.count()}
        )
    return redirect(_here(site, chosen))
