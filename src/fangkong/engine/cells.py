"""Pings to cells: squares of ``cell_size_m`` in a local metric projection of the city.

Projection: equirectangular around the city's reference point ``(lon0, lat0)``
(``ColocationParams.projection_lon/lat``)::

    x = R * (lon - lon0) * cos(lat0) * pi / 180        y = R * (lat - lat0) * pi / 180

with R = 6,371,008.8 m (mean Earth radius). It was chosen over UTM because it is two
multiplications that SQL engines (DuckDB, Spark) compute bit-for-bit like Python, so every
backend puts a ping in the same cell; no pyproj is needed. Its error at city scale: north-south
distances are exact to the sphere (the ellipsoid differs by < 0.5 %); east-west distances are
scaled by ``cos(lat) / cos(lat0)``, off by about ``tan(lat0) * |lat - lat0|`` (radians): at
Shenzhen (lat0 = 22.54°) and 50 km north or south of the reference, 0.33 %, i.e. an 800 m cell is
797–803 m wide. That is far below GPS noise and the cell size itself. Far from the reference the
error grows (10 % at 1,000 km), so each city uses its own reference point.

A cell is the pair (ix, iy) = (floor(x / size), floor(y / size)) packed into one int64:
``(ix + 2**24) * 2**25 + (iy + 2**24)``, which holds any point on Earth for cells of 3 m or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fangkong.engine.rules import ColocationParams

__all__ = ["EARTH_RADIUS_M", "CellGrid", "cell_of", "cell_xy"]

EARTH_RADIUS_M = 6_371_008.8
OFFSET = 2**24
SHIFT = 2**25


@dataclass(frozen=True, slots=True)
class CellGrid:
    """The constants of one grid: origin and metres-per-degree scaled to cells.

    Backends pass these constants into their SQL (``floor((lon - lon0) * kx)``) so that the cell
    of a ping is computed by the very same floating-point operations everywhere.
    """

    lon0: float
    lat0: float
    kx: float  # cells per degree of longitude
    ky: float  # cells per degree of latitude

    @classmethod
    def from_params(cls, params: ColocationParams) -> CellGrid:
        """The grid of ``params``: cell size and projection reference."""
        metres_per_degree = EARTH_RADIUS_M * math.pi / 180.0
        return cls(
            lon0=params.projection_lon,
            lat0=params.projection_lat,
            kx=metres_per_degree * math.cos(math.radians(params.projection_lat)) / params.cell_size_m,
            ky=metres_per_degree / params.cell_size_m,
        )

    @property
    def offset(self) -> int:
        """Added to ix and iy so that both are non-negative."""
        return OFFSET

    @property
    def shift(self) -> int:
        """Multiplier of ix in the packed cell id."""
        return SHIFT


def cell_of(*, lon: float, lat: float, grid: CellGrid) -> int | None:
    """The packed cell id of a point, or None for a point off the Earth (NaN, |lat| > 90)."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        return None
    ix = math.floor((lon - grid.lon0) * grid.kx)
    iy = math.floor((lat - grid.lat0) * grid.ky)
    return (ix + OFFSET) * SHIFT + (iy + OFFSET)


def cell_xy(*, cell: int) -> tuple[int, int]:
    """Unpack a cell id into its (ix, iy) grid indices (cell (0, 0) has the reference point)."""
    ix, iy = divmod(cell, SHIFT)
    return ix - OFFSET, iy - OFFSET
