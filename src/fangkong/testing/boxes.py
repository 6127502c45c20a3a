"""Transfer boxes (转运箱): closed tubes of one site and round packed for the lab, all or none,
and received there."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.testing.models import Round, SamplingSite, TransferBox, Tube, TubeStatus
from fangkong.testing.services import barcode_check


@transaction.atomic
def box_pack(
    *, actor: User, site: SamplingSite, round: Round, code: str, barcodes: Sequence[str]
) -> TransferBox:
    """Pack closed tubes of ``site`` and ``round`` into a transfer box for the lab (all or none)."""
    if not can(actor, Perm.TESTING_SAMPLE, site.org_unit):
        raise Forbidden(_("Your role may not sample at this site."))
    code = code.strip().upper()[:40]
    if not code:
        raise Invalid.field("code", _("Give the box's code."))
    wanted = {barcode_check(b) for b in barcodes if b.strip()}
    if not wanted:
        raise Invalid.field("barcodes", _("Scan at least one closed tube."))
    tubes = list(Tube.objects.select_for_update().filter(barcode__in=wanted, site=site, round=round))
    found = {t.barcode for t in tubes}
    bad = sorted(wanted - found) + sorted(t.barcode for t in tubes if t.status != TubeStatus.CLOSED)
    if bad:
        raise Invalid.field(
            "barcodes", _("Not closed tubes of this site and round: %(b)s.") % {"b": "、".join(bad[:10])}
        )
    if TransferBox.objects.filter(code=code).exists():
        raise Conflict(_("Box %(c)s is already in use.") % {"c": code})
    box = TransferBox.objects.create(code=code, site=site, round=round, packed_by=actor)
    Tube.objects.filter(pk__in=[t.pk for t in tubes]).update(
        box=box, status=TubeStatus.PACKED, updated_at=timezone.now()
    )
    audit_record(actor=actor, action="testing.box.pack", target=box, after={"tubes": len(tubes)})
    return box


@transaction.atomic
def box_receive(*, actor: User, code: str) -> TransferBox:
    """The lab receives a box: its tubes are at the lab."""
    box = (
        TransferBox.objects.select_for_update()
        .select_related("site__org_unit")
        .filter(code=code.strip().upper()[:40])
        .first()
    )
    if box is None or not can(actor, Perm.TESTING_LAB):
        raise Invalid.field("code", _("Unknown box code."))
    if box.received_at is not None:
        raise Conflict(_("Box %(c)s was already received.") % {"c": box.code})
    box.received_at, box.received_by = timezone.now(), actor
    box.save(update_fields=["received_at", "received_by", "updated_at"])
    box.tubes.filter(status=TubeStatus.PACKED).update(status=TubeStatus.RECEIVED, updated_at=timezone.now())
    audit_record(actor=actor, action="testing.box.receive", target=box)
    return box
