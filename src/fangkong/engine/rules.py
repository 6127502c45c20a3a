"""Protocol thresholds for co-location discovery, passed in as values by the caller.

The engine never reads a protocol profile itself: the caller (``contacts.discovery``) builds a
:class:`ColocationParams` from the active profile (``china-9``: 800 m cells, 10 min co-stay,
30 min maximum gap between pings, 60 min default venue dwell) and hands it to a backend.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ColocationParams"]


@dataclass(frozen=True, slots=True)
class ColocationParams:
    """Thresholds of one discovery run.

    - ``cell_size_m``: side of the square cells, in metres, in the local projection.
    - ``min_costay_minutes``: a cell overlap counts when it lasts at least this long (inclusive).
    - ``max_gap_minutes``: two consecutive pings in one cell farther apart than this (strictly)
      belong to two stays.
    - ``venue_default_dwell_minutes``: an open check-out closes this long after the check-in,
      but never past the next local midnight.
    - ``timezone``: the IANA zone whose midnight bounds an open venue visit.
    - ``projection_lon``/``projection_lat``: the city's reference point, origin of the local
      metric projection that defines the cells (see ``engine.cells``); default Shenzhen.
      Stays and matching must use the same values, or cells will not line up.
    """

    cell_size_m: float = 800.0
    min_costay_minutes: float = 10.0
    max_gap_minutes: float = 30.0
    venue_default_dwell_minutes: float = 60.0
    timezone: str = "Asia/Shanghai"
    projection_lon: float = 114.06
    projection_lat: float = 22.54

    def __post_init__(self) -> None:
        if not self.cell_size_m > 0:
            raise ValueError(f"cell_size_m must be positive, not {self.cell_size_m!r}")
        for name in ("min_costay_minutes", "max_gap_minutes", "venue_default_dwell_minutes"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be zero or more, not {getattr(self, name)!r}")
        if not (-180.0 <= self.projection_lon <= 180.0 and -80.0 <= self.projection_lat <= 80.0):
            raise ValueError("projection reference must be a point with |lat| <= 80")
