"""Place names for the evidence of a discovery: what a reviewer reads instead of coordinates.

A venue is named by its name (``venues.parquet``). A cell is named by the community and the grid
(网格) whose outline contains the cell's centre: org units carry their outline as GeoJSON
(``OrgUnit.geometry``, WGS 84), and the grids' outlines are read once per run. A centre that no
grid's outline contains is named after the nearest grid within one kilometre ("… 附近"), else
"outside the mapped grids": a unit without an outline cannot be guessed from where its residents
live, since the register holds no locations. Coordinates are never shown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.utils.translation import gettext as _

from fangkong.engine.cells import CellGrid, cell_xy
from fangkong.engine.rules import ColocationParams
from fangkong.orgs.models import Level, OrgUnit

BUCKET_DEGREES = 0.02
"""The side of the squares the grids' outlines are filed under for the look-up (about 2 km)."""
NEAR_DEGREES = 0.01
"""How far outside every outline a centre may lie and still be named "near" a grid (about 1 km)."""

Ring = Sequence[Sequence[float]]


@dataclass(frozen=True, slots=True)
class _Outline:
    label: str
    polygons: list[list[Ring]]  # each: the outer ring, then its holes
    west: float
    south: float
    east: float
    north: float

    def contains(self, lon: float, lat: float) -> bool:
        if not (self.west <= lon <= self.east and self.south <= lat <= self.north):
            return False
        return any(
            _in_ring(lon, lat, rings[0]) and not any(_in_ring(lon, lat, hole) for hole in rings[1:])
            for rings in self.polygons
        )

    def distance(self, lon: float, lat: float) -> float:
        """Degrees from the point to the outline's bounding box (0 inside it)."""
        dx = max(self.west - lon, 0.0, lon - self.east)
        dy = max(self.south - lat, 0.0, lat - self.north)
        return math.hypot(dx, dy)


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd rule: a ray from the point crosses the ring an odd number of times."""
    inside = False
    previous = ring[-1]
    for point in ring:
        (x1, y1), (x2, y2) = point[:2], previous[:2]
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
        previous = point
    return inside


def _polygons(geometry: Any) -> list[list[Ring]]:
    """The polygons of a GeoJSON Polygon or MultiPolygon (anything else: none)."""
    if not isinstance(geometry, dict):
        return []
    if geometry.get("type") == "Polygon":
        return [geometry.get("coordinates") or []]
    if geometry.get("type") == "MultiPolygon":
        return list(geometry.get("coordinates") or [])
    return []


def _outlines() -> list[_Outline]:
    """Every grid with an outline, labelled "community grid" (one query)."""
    outlines = []
    rows = OrgUnit.objects.filter(level=Level.GRID, geometry__isnull=False).values_list(
        "name", "parent__name", "geometry"
    )
    for name, parent, geometry in rows:
        polygons = [rings for rings in _polygons(geometry) if rings and len(rings[0]) >= 3]
        points = [point for rings in polygons for point in rings[0]]
        if not points:
            continue
        outlines.append(
            _Outline(
                label=f"{parent} {name}" if parent else name,
                polygons=polygons,
                west=min(p[0] for p in points),
                south=min(p[1] for p in points),
                east=max(p[0] for p in points),
                north=max(p[1] for p in points),
            )
        )
    return outlines


def _bucket(lon: float, lat: float) -> tuple[int, int]:
    return math.floor(lon / BUCKET_DEGREES), math.floor(lat / BUCKET_DEGREES)


def cell_centre(*, cell: int, params: ColocationParams) -> tuple[float, float]:
    """The longitude and latitude of a cell's centre (for the look-up, never shown)."""
    grid = CellGrid.from_params(params)
    ix, iy = cell_xy(cell=cell)
    return grid.lon0 + (ix + 0.5) / grid.kx, grid.lat0 + (iy + 0.5) / grid.ky


def cell_places(*, cells: Iterable[int], params: ColocationParams) -> dict[int, str]:
    """Each cell's place name: the community and grid containing its centre (see the module)."""
    wanted = set(cells)
    if not wanted:
        return {}
    outlines = _outlines()
    filed: dict[tuple[int, int], list[_Outline]] = defaultdict(list)
    for outline in outlines:
        (x0, y0), (x1, y1) = _bucket(outline.west, outline.south), _bucket(outline.east, outline.north)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                filed[(x, y)].append(outline)
    places = {}
    for cell in wanted:
        lon, lat = cell_centre(cell=cell, params=params)
        found = next((o for o in filed.get(_bucket(lon, lat), []) if o.contains(lon, lat)), None)
        if found is not None:
            places[cell] = found.label
            continue
        nearest = min(outlines, key=lambda o: o.distance(lon, lat), default=None)
        if nearest is not None and nearest.distance(lon, lat) <= NEAR_DEGREES:
            places[cell] = _("near %(place)s") % {"place": nearest.label}
        else:
            places[cell] = _("Outside the mapped grids")
    return places


def venue_names(*, dataset: Path, venue_ids: set[int]) -> dict[int, str]:
    """Names of the venues in ``venue_ids`` from ``venues.parquet`` (none when it is absent)."""
    path = dataset / "venues.parquet"
    if not venue_ids or not path.exists():
        return {}
    table = pq.read_table(path, columns=["venue_id", "name"], filters=[("venue_id", "in", sorted(venue_ids))])
    return dict(zip(table["venue_id"].to_pylist(), table["name"].to_pylist(), strict=True))
