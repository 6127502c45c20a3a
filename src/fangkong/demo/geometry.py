"""Outlines of the demo city's units for the maps: nested rectangles in longitude and latitude.

The city is a box on the coast of the Pearl River estuary (the real city's rough extent). Each
unit's rectangle is split into equal cells for its children, in rows and columns chosen so that
cells stay near square: 4 districts side by side, 2 × 2 streets, 2 × 2 communities, 2 × 4 grids.
Outlines are GeoJSON ``Polygon`` geometries (WGS 84, counter-clockwise outer ring).
"""

from __future__ import annotations

import math
from typing import Any

from fangkong.demo.city import UnitSpec

CITY_BOX = (113.80, 22.48, 114.40, 22.76)  # west, south, east, north


def _polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _split(count: int, width: float, height: float) -> tuple[int, int]:
    """Rows and columns for ``count`` cells in a box, the cells as near square as the count allows."""
    best = (1, count)
    for rows in range(1, count + 1):
        if count % rows:
            continue
        cols = count // rows
        ratio = abs(math.log((width / cols) / (height / rows)))
        if ratio < abs(math.log((width / best[1]) / (height / best[0]))):
            best = (rows, cols)
    return best


def unit_outlines(
    spec: UnitSpec, box: tuple[float, float, float, float] = CITY_BOX
) -> dict[str, dict[str, Any]]:
    """Every unit's outline by code; children tile their parent exactly."""
    outlines = {spec.code: _polygon(*box)}
    if not spec.children:
        return outlines
    west, south, east, north = box
    rows, cols = _split(len(spec.children), east - west, north - south)
    cell_w, cell_h = (east - west) / cols, (north - south) / rows
    for index, child in enumerate(spec.children):
        row, col = divmod(index, cols)
        child_box = (
            west + col * cell_w,
            north - (row + 1) * cell_h,
            west + (col + 1) * cell_w,
            north - row * cell_h,
        )
        outlines.update(unit_outlines(child, child_box))
    return outlines
