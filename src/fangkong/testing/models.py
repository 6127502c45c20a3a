"""Mass testing (全员核酸): rounds over areas, sampling sites, pooled tubes and their members,
transfer boxes, tube results, and the recall of a positive pool's members (DESIGN.md §3, C11)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.common.models import TimeStampedModel
from fangkong.people.models import SpreadsheetImport


class AreaLevel(models.TextChoices):
    """An area's control level, which sets its tube size (the protocol's ``[testing.pool_size]``)."""

    SEALED = "sealed", _("Sealed area (封控区)")
    CONTROLLED = "controlled", _("Controlled area (管控区)")
    ELSEWHERE = "elsewhere", _("Precaution area and elsewhere (防范区)")


class Round(TimeStampedModel):
    """A testing round: the areas it covers (``areas``), its time window and how long its
    results are valid."""

    scope_path = "org_unit__path"

    name = models.CharField(_("name"), max_length=100)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    valid_hours = models.PositiveSmallIntegerField(_("result valid for (hours)"))
    protocol = models.CharField(_("protocol"), max_length=32)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("planned by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("testing round")
        verbose_name_plural = _("testing rounds")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.name


class RoundArea(models.Model):
    """One area of a round at its level, with the tube size the protocol gives that level."""

    scope_path = "org_unit__path"

    round = models.ForeignKey(Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="areas")
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(_("level"), max_length=16, choices=AreaLevel.choices)
    pool_size = models.PositiveSmallIntegerField(_("people per tube"))

    class Meta:
        verbose_name = _("area of a round")
        verbose_name_plural = _("areas of a round")
        ordering = ["round_id", "org_unit__path"]
        constraints = [models.UniqueConstraint(fields=["round", "org_unit"], name="round_area_once")]

    def __str__(self) -> str:
        return f"{self.org_unit_id} {self.level} {self.pool_size}"


class QueueStatus(models.TextChoices):
    CLOSED = "closed", _("Closed")
    NONE = "none", _("No queue")
    SHORT = "short", _("Short queue")
    LONG = "long", _("Long queue")


class SamplingSite(TimeStampedModel):
    """A sampling site (采样点) of a community: where, when it is open, its teams, and the queue
    its staff last posted (the portal shows it on a map and a list)."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("community"), on_delete=models.PROTECT, related_name="sampling_sites"
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    hours = models.CharField(_("opening hours"), max_length=100)
    teams = models.PositiveSmallIntegerField(_("sampling teams"), default=1)
    active = models.BooleanField(_("open"), default=True)
    queue = models.CharField(_("queue"), max_length=8, choices=QueueStatus.choices, default=QueueStatus.NONE)
    queue_minutes = models.PositiveSmallIntegerField(_("waiting minutes"), null=True, blank=True)
    queue_at = models.DateTimeField(_("queue posted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sampling site")
        verbose_name_plural = _("sampling sites")
        ordering = ["org_unit__path", "name", "id"]

    def __str__(self) -> str:
        return self.name


class TubeKind(models.TextChoices):
    POOL = "pool", _("Pooled tube")
    SINGLE = "single", _("Single tube")
    RESAMPLE = "resample", _("Re-sample (single tube)")


class TubeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    PACKED = "packed", _("In a transfer box")
    RECEIVED = "received", _("At the lab")
    RESULTED = "resulted", _("Resulted")


class TubeResultValue(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid (sample again)")


class TransferBox(TimeStampedModel):
    """A box of closed tubes carried from a site to the lab (转运箱)."""

    scope_path = "site__org_unit__path"

    code = models.CharField(_("box code"), max_length=40, unique=True)
    site = models.ForeignKey(
        SamplingSite, verbose_name=_("site"), on_delete=models.PROTECT, related_name="boxes"
    )
    round = models.ForeignKey(Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="boxes")
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("packed by"), on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received at the lab"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("transfer box")
        verbose_name_plural = _("transfer boxes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.code


class Tube(TimeStampedModel):
    """A sample tube (采样管) with up to ``capacity`` people's swabs, from one site, and its result."""

    scope_path = "site__org_unit__path"

    barcode = models.CharField(_("barcode"), max_length=32, unique=True)
    round = models.ForeignKey(Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="tubes")
    site = models.ForeignKey(
        SamplingSite, verbose_name=_("site"), on_delete=models.PROTECT, related_name="tubes"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TubeKind.choices, default=TubeKind.POOL)
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    status = models.CharField(_("status"), max_length=16, choices=TubeStatus.choices, default=TubeStatus.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("collector"), on_delete=models.PROTECT, related_name="+"
    )
    members_count = models.PositiveSmallIntegerField(_("people"), default=0)
    household = models.BooleanField(  # decided when opened: a sealed area's tube takes one household
        _("one household"), default=False
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    box = models.ForeignKey(
        TransferBox,
        verbose_name=_("box"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tubes",
    )
    result = models.CharField(_("result"), max_length=16, choices=TubeResultValue.choices, blank=True)
    result_at = models.DateTimeField(_("tested at"), null=True, blank=True)
    ct_orf = models.FloatField(_("Ct ORF1ab"), null=True, blank=True)
    ct_n = models.FloatField(_("Ct N"), null=True, blank=True)
    lab = models.CharField(_("lab"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["round", "status"], name="tube_round_status")]

    def __str__(self) -> str:
        return self.barcode


class TubeMember(models.Model):
    """One person's swab in a tube. A person gives one swab per round (``recall`` blank); a
    recalled member gives a re-sample in a single tube too (``recall`` set)."""

    scope_path = ("tube__site__org_unit__path", "person__org_unit__path")

    tube = models.ForeignKey(Tube, verbose_name=_("tube"), on_delete=models.CASCADE, related_name="members")
    round = models.ForeignKey(Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="tube_members"
    )
    grid = models.ForeignKey(  # the person's grid when sampled: coverage counts swabs without people
        "orgs.OrgUnit",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recall = models.ForeignKey(
        "testing.Recall",
        verbose_name=_("re-sample of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resamples",
    )
    scanned_at = models.DateTimeField(_("sampled at"))
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("collector"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("tube member")
        verbose_name_plural = _("tube members")
        ordering = ["tube_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tube", "person"], name="tube_member_once"),
            models.UniqueConstraint(
                fields=["round", "person"], condition=Q(recall__isnull=True), name="one_swab_per_round"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "round"], name="tube_member_person"),
            models.Index(fields=["round", "grid"], name="tube_member_round_grid"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.tube_id}"


class ReportStatus(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    CONFLICT = "conflict", _("Conflicts with the result recorded")
    CORRECTED = "corrected", _("Applied as a correction")
    DISMISSED = "dismissed", _("Dismissed")


class TubeResult(models.Model):
    """A result a lab reported for a tube. The first sets the tube's result; one that differs
    from it waits as a conflict for an explicit, audited correction (never overwrites)."""

    scope_path = "tube__site__org_unit__path"

    tube = models.ForeignKey(Tube, verbose_name=_("tube"), on_delete=models.CASCADE, related_name="reports")
    result = models.CharField(_("result"), max_length=16, choices=TubeResultValue.choices)
    tested_at = models.DateTimeField(_("tested at"))
    ct_orf = models.FloatField(_("Ct ORF1ab"), null=True, blank=True)
    ct_n = models.FloatField(_("Ct N"), null=True, blank=True)
    lab = models.CharField(_("lab"), max_length=100)
    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices)
    source = models.ForeignKey(
        "testing.TubeResultImport",
        verbose_name=_("file"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("tube result")
        verbose_name_plural = _("tube results")
        ordering = ["-reported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.tube_id} {self.result}"


class RecallStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for the re-sample")
    SAMPLED = "sampled", _("Re-sampled, waiting for the result")
    CLEARED = "cleared", _("Cleared (negative)")
    POSITIVE = "positive", _("Positive: case registered")
    ENDED = "ended", _("Became a case otherwise")


class Recall(TimeStampedModel):
    """A member of a positive pool, recalled: isolated in place and re-sampled in a single tube
    (单管复核) by ``due_at``; a positive re-sample registers a suspected case."""

    scope_path = "person__org_unit__path"

    member = models.OneToOneField(
        TubeMember, verbose_name=_("member"), on_delete=models.CASCADE, related_name="recalled"
    )
    pool = models.ForeignKey(
        Tube, verbose_name=_("positive tube"), on_delete=models.CASCADE, related_name="recalls"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RecallStatus.choices, default=RecallStatus.WAITING
    )
    due_at = models.DateTimeField(_("re-sample due"))
    resampled_at = models.DateTimeField(_("re-sampled at"), null=True, blank=True)
    resulted_at = models.DateTimeField(_("result at"), null=True, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"recall of {self.person_id} from {self.pool_id}"

    @property
    def org_unit(self) -> Any:
        return self.person.org_unit


class TubeResultImport(SpreadsheetImport):
    """A lab's file of tube results: valid rows recorded, every bad row named with its row and
    column; a row repeating a recorded result changes nothing."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("lab's unit"), on_delete=models.PROTECT, related_name="+"
    )
    unchanged_count = models.PositiveIntegerField(_("rows already recorded"), default=0)
    conflict_count = models.PositiveIntegerField(_("conflicting rows"), default=0)
    positive_tubes = models.JSONField(_("positive tubes"), default=list, blank=True)

    class Meta(SpreadsheetImport.Meta):
        verbose_name = _("tube result import")
        verbose_name_plural = _("tube result imports")


class ExemptionReason(models.TextChoices):
    AWAY = "away", _("Away from the city")
    HOSPITAL = "hospital", _("In hospital (tested there)")
    INFANT = "infant", _("Infant under the protocol's age")
    OTHER = "other", _("Other (see the note)")


class Exemption(TimeStampedModel):
    """A resident the round does not expect, with the reason (a grid worker's record); the
    coverage leaves them out. The bedridden are not exempted: they get a home-sampling item."""

    scope_path = "person__org_unit__path"

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="exemptions"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=ExemptionReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        constraints = [models.UniqueConstraint(fields=["round", "person"], name="exempt_once_per_round")]

    def __str__(self) -> str:
        return f"{self.person_id} exempt from {self.round_id}"

    @property
    def org_unit(self) -> Any:
        return self.person.org_unit
