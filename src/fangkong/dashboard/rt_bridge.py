"""Rt of the dashboard from daily counts, through ``engine.rt`` (Cori et al. 2013)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from fangkong.common.protocol import active_profile
from fangkong.engine import rt as engine_rt


def _reasons() -> dict[engine_rt.NoEstimate, str]:
    NoEstimate = engine_rt.NoEstimate
    return {
        NoEstimate.STARTS_ON_DAY_1: _("the window starts on the first day of the data"),
        NoEstimate.BEFORE_MEAN_SI: _("too early: the window ends before the mean serial interval"),
        NoEstimate.NO_INFECTIVITY: _("no earlier case could have infected anyone in the window"),
        NoEstimate.TOO_FEW_CASES: _("too few cases in the window for a reliable estimate"),
    }


def estimate(*, days: list[date], local: list[int], imported: list[int], since: date) -> dict[str, Any]:
    """Rt per weekly window ending on a day of the range; ``last`` is the latest estimate when
    the last window has one, else ``reason`` says why there is none."""
    disease = active_profile().epidemiology  # the serial interval of the protocol in force
    result = engine_rt.estimate_r(
        local=local,
        imported=imported,
        si=engine_rt.si_from_mean_sd(
            mean=disease.serial_interval_mean_days, sd=disease.serial_interval_sd_days
        ),
    )
    reasons = _reasons()
    windows = []
    for window in result.windows:
        end_day = days[window.t_end - 1]  # EpiEstim's days count from 1
        if end_day < since:
            continue
        windows.append(
            {
                "t_start": days[window.t_start - 1].isoformat(),
                "t_end": end_day.isoformat(),
                "t_end_day": end_day.isoformat(),
                "mean": window.mean,
                "std": window.std,
                "quantile_025": window.quantile_025,
                "median": window.median,
                "quantile_975": window.quantile_975,
                "reason": reasons[window.reason] if window.reason else "",
            }
        )
    last = windows[-1] if windows and windows[-1]["mean"] is not None else None
    reason = windows[-1]["reason"] if windows and last is None else ""
    return {"windows": windows, "last": last, "reason": reason}
