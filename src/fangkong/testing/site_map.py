"""The map of the public sites page: the open sampling sites as labelled points, drawn on the
server as SVG (no tiles, no script, nothing fetched from outside).

Rules: the sites are grouped by street (街道, the parent of the site's community), one small map
each, because a whole city's names cannot sit beside their points on a 390 px phone (the demo
city has 64 sites in a 16 × 4 grid). A map frames its communities' outlines (the GeoJSON the risk
map draws) and its sites, in a plain equirectangular projection (longitude shrunk by the cosine
of the latitude: a street is a few kilometres, so nothing rounder is needed). Each name is put
right, left, above or below its point, the first place that stays on the map and clear of the
names and points already placed; where none is clear, the least covered one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fangkong.orgs.models import OrgUnit
from fangkong.testing.models import SamplingSite

WIDTH = 360  # viewBox units; the SVG is scaled to the page's width, so about a CSS pixel on a phone
MIN_HEIGHT = 180
MAX_HEIGHT = 280
MARGIN = 14
MIN_SPAN = 0.004  # degrees (about 400 m): the frame around a lone site without an outline
FONT = 12
MIN_FONT = 8
RADIUS = 6
GAP = 4  # between a point and its name


@dataclass(frozen=True)
class SitePoint:
    site: SamplingSite
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str  # SVG text-anchor: "start", "end" or "middle"
    font: int


@dataclass(frozen=True)
class StreetMap:
    street: OrgUnit | None
    width: int
    height: int
    outlines: list[str]  # SVG path data, one per community outline
    points: list[SitePoint]


Box = tuple[float, float, float, float]  # left, top, right, bottom


def site_maps(*, sites: Iterable[SamplingSite]) -> list[StreetMap]:
    """One map per street holding an open site, in the order of ``sites`` (the list's order)."""
    groups: dict[int | None, list[SamplingSite]] = {}
    for site in sites:
        groups.setdefault(site.org_unit.parent_id, []).append(site)
    return [_street_map(group) for group in groups.values()]


def _street_map(sites: list[SamplingSite]) -> StreetMap:
    communities = {site.org_unit_id: site.org_unit for site in sites}
    rings = [ring for unit in communities.values() for ring in _rings(unit.geometry)]
    lons = [site.lon for site in sites] + [lon for ring in rings for lon, _lat in ring]
    lats = [site.lat for site in sites] + [lat for ring in rings for _lon, lat in ring]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * shrink, MIN_SPAN)
    span_y = max(max(lats) - min(lats), MIN_SPAN)
    height = round(min(max(WIDTH * span_y / span_x, MIN_HEIGHT), MAX_HEIGHT))
    scale = min((WIDTH - 2 * MARGIN) / span_x, (height - 2 * MARGIN) / span_y)
    centre_lon, centre_lat = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return WIDTH / 2 + (lon - centre_lon) * shrink * scale, height / 2 - (lat - centre_lat) * scale

    outlines = [
        "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in (project(lon, lat) for lon, lat in ring)) + "Z"
        for ring in rings
    ]
    spots = [project(site.lon, site.lat) for site in sites]
    taken: list[Box] = [(x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS) for x, y in spots]
    points = []
    for site, (x, y) in zip(sites, spots, strict=True):
        font, text_width = _fit(site.name)
        label_x, label_y, anchor, box = _place(x, y, text_width, font, height, taken)
        taken.append(box)
        points.append(
            SitePoint(site, round(x, 1), round(y, 1), round(label_x, 1), round(label_y, 1), anchor, font)
        )
    return StreetMap(sites[0].org_unit.parent, WIDTH, height, outlines, points)


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon (holes do not matter at this size)."""
    if not isinstance(geometry, dict):
        return []
    if geometry.get("type") == "Polygon":
        polygons = [geometry.get("coordinates") or []]
    elif geometry.get("type") == "MultiPolygon":
        polygons = geometry.get("coordinates") or []
    else:
        return []
    return [
        [(float(p[0]), float(p[1])) for p in polygon[0]] for polygon in polygons if polygon and polygon[0]
    ]


def _text_width(text: str, font: int) -> float:
    """The width a name takes: a CJK character is a square, Latin text about 0.6 of one."""
    return sum(font if ord(char) >= 0x2E80 else font * 0.6 for char in text)


def _fit(name: str) -> tuple[int, float]:
    font = FONT
    while font > MIN_FONT and _text_width(name, font) > WIDTH - 2 * GAP:
        font -= 1
    return font, _text_width(name, font)


def _place(
    x: float, y: float, width: float, font: int, height: int, taken: list[Box]
) -> tuple[float, float, str, Box]:
    """Where the name of the point at (x, y) goes: label position, text-anchor and its box."""
    lift = font * 0.35  # from the middle of a line of text to its baseline
    near, far = RADIUS + GAP, RADIUS + GAP + width
    candidates = [  # (label x, label y, anchor, box), in the order of preference
        (x + near, y + lift, "start", (x + near, y - font / 2, x + far, y + font / 2)),
        (x - near, y + lift, "end", (x - far, y - font / 2, x - near, y + font / 2)),
        (x, y - near - font * 0.2, "middle", (x - width / 2, y - near - font, x + width / 2, y - near)),
        (x, y + near + font * 0.8, "middle", (x - width / 2, y + near, x + width / 2, y + near + font)),
    ]
    placed = []
    for label_x, label_y, anchor, (left, top, right, bottom) in candidates:
        # a name running off the map is slid back onto it, which costs as much as covering
        dx = max(1 - left, 0) + min(WIDTH - 1 - right, 0)
        dy = max(1 - top, 0) + min(height - 1 - bottom, 0)
        box = (left + dx, top + dy, right + dx, bottom + dy)
        cost = sum(_overlap(box, other) for other in taken) + (abs(dx) + abs(dy)) * font
        placed.append((cost, (label_x + dx, label_y + dy, anchor, box)))
    return min(placed, key=lambda option: option[0])[1]


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
