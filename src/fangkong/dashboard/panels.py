"""The dashboard page's panels in order: title, chart or table, CSV name, hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from fangkong.common.protocol import active_profile
from fangkong.dashboard.operations import overdue_kinds
from fangkong.worklist.kinds import kind_label


@dataclass
class Panel:
    name: str
    title: str
    csv: str
    columns: list[tuple[str, str]] = field(default_factory=list)  # a table instead of a chart
    rows: list[dict[str, Any]] = field(default_factory=list)
    toggle: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""
    empty: str = ""  # what an empty table says, when not "nothing in this range"


def panels(data: dict[str, Any], *, sees_help_requests: bool = True) -> list[Panel]:
    """Every panel for the data of :data:`charts.CHARTS` computed for one set of filters; the
    help-desk table says so when the actor's roles include no help requests."""
    profile = active_profile()
    disease = profile.epidemiology
    stages = {
        "investigated": _("Investigation complete within %(h)d h"),
        "identified": _("All close contacts identified within %(h)d h"),
        "controlled": _("All close contacts under control within %(h)d h"),
        "recalled": _("Positive pool: every member re-sampled within %(h)d h"),
    }
    timeliness = [{**row, "stage": stages[row["stage"]] % {"h": row["hours"]}} for row in data["timeliness"]]
    late_kinds = overdue_kinds(data["overdue"])
    overdue = [
        {**row, **{f"kind:{kind}": row["kinds"].get(kind, (0, 0))[0] for kind in late_kinds}}
        for row in data["overdue"]
    ]
    return [
        Panel(
            "epi",
            _("Epidemic curve"),
            "epi-onset",
            toggle=[("report", _("by report")), ("onset", _("by onset"))],
            hint=_(
                "Stacked by classification; the line is the cumulative count of infections (confirmed and asymptomatic)."
            ),
        ),
        Panel(
            "rt",
            _("Reproduction number Rt"),
            "rt",
            hint=_(
                "Cori et al. (2013) over weekly windows, with its 95 per cent credible band; serial interval %(mean)s ± %(sd)s days (protocol %(protocol)s). Windows without enough cases show no value."
            )
            % {
                "mean": disease.serial_interval_mean_days,
                "sd": disease.serial_interval_sd_days,
                "protocol": profile.name,
            },
        ),
        Panel("doubling", _("Doubling time (days)"), "doubling"),
        Panel("districts", _("New cases by district"), "districts"),
        Panel(
            "map",
            _("Communities: cases in the last 7 days and risk level"),
            "map",
            hint=_(
                "Fill: cases in the last 7 days (scale at the bottom left). Outline: red high, orange medium, yellow low risk area. Hover a community for its name; drag and scroll to move and zoom."
            ),
        ),
        Panel(
            "timeliness",
            _("Timeliness"),
            "timeliness",
            columns=[
                ("stage", _("Step")),
                ("judged", _("Cases judged")),
                ("within", _("Done in time")),
                ("percent", _("Per cent in time")),
            ],
            rows=timeliness,
            hint=_(
                "Hours from confirmation, as protocol %(protocol)s sets them for each step. A case is judged once the step is done or its hours have passed; a case with all close contacts identified and none confirmed has nobody to control and is not judged on control."
            )
            % {"protocol": profile.name},
        ),
        Panel(
            "occupancy",
            _("Quarantine occupancy"),
            "occupancy",
            columns=[
                ("site", _("Site")),
                ("beds", _("Beds")),
                ("taken", _("Taken")),
                ("free", _("Free")),
                ("percent", _("Per cent taken")),
            ],
            rows=data["occupancy"],
        ),
        Panel(
            "overdue",
            _("Overdue work by unit and kind"),
            "overdue",
            columns=[
                ("unit", _("Unit")),
                ("overdue", _("Overdue")),
                ("open", _("Open")),
                *((f"kind:{kind}", kind_label(kind)) for kind in late_kinds),
            ],
            rows=overdue,
            hint=_(
                "Overdue: open or in progress and past its due time. The columns after Open count the overdue items of each kind of work."
            ),
        ),
        Panel(
            "helpdesk",
            _("Help requests called back in time"),
            "helpdesk",
            columns=[
                ("district", _("District")),
                ("submitted", _("Submitted")),
                ("called_back", _("Reached")),
                ("within", _("In time")),
                ("late", _("Late")),
                ("percent", _("Per cent in time")),
            ],
            rows=data["helpdesk"],
            empty="" if sees_help_requests else _("Your roles include no help requests."),
            hint=_(
                "In time: a call reached the resident by the deadline (an unanswered call does not count). Late: reached after it, or not reached and the deadline has passed."
            ),
        ),
        Panel(
            "coverage-map",
            _("Mass testing: coverage by community"),
            "coverage-map",
            hint=_(
                "Fill: the share of the residents the latest round expects who were sampled or are tested in quarantine (grey: no round). Hover a community for its figures."
            ),
        ),
        Panel(
            "testing",
            _("Mass testing: %(round)s") % {"round": data["testing"][0]["round"]}
            if data["testing"]
            else _("Mass testing: the latest round"),
            "testing",
            columns=[
                ("district", _("District")),
                ("expected", _("Expected")),
                ("sampled", _("Sampled")),
                ("quarantined", _("In quarantine")),
                ("percent", _("Per cent covered")),
                ("resulted", _("Resulted")),
                ("positive", _("In positive tubes")),
                ("waiting", _("Recalled, to re-sample")),
                ("late", _("Of these late")),
            ],
            rows=data["testing"],
            empty=_("No testing round covers your area."),
            hint=_(
                "Expected: residents of the round's areas less those exempted. In positive tubes: the people sampled into a tube that came back positive (pools and single tubes). Recalled: members of positive pools waiting for their single-tube re-sample; late: past the protocol's hours."
            ),
        ),
    ]


def labels() -> dict[str, str]:
    """Words the charts' script shows (in the page's language)."""
    return {
        "confirmed": _("Confirmed"),
        "asymptomatic": _("Asymptomatic infection"),
        "suspected": _("Suspected"),
        "cumulative": _("Cumulative infections"),
        "rt": _("Rt (mean)"),
        "band": _("95 per cent credible interval"),
        "doubling": _("Doubling time (days)"),
        "cases7": _("Cases in 7 days"),
        "covered": _("Covered"),
        "expected": _("Expected"),
        "risk_high": _("High risk"),
        "risk_medium": _("Medium risk"),
        "risk_low": _("Low risk"),
        "no_risk": _("No risk"),
    }
