"""Geometry for the synthetic city: a bounding box, metres to degrees, clustered points, a grid index.

Distances are computed in a local equirectangular projection around the box's centre, which is
accurate to well under 1 % over a city (tens of kilometres); that is all a synthetic city needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

METRES_PER_DEGREE_LAT = 111_320.0


@dataclass(frozen=True)
class BBox:
    """A lon/lat bounding box (degrees, WGS 84)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (self.west < self.east and self.south < self.north):
            raise ValueError(f"Empty bounding box: {self}")

    @property
    def metres_per_degree_lon(self) -> float:
        """Metres per degree of longitude at the box's middle latitude."""
        return METRES_PER_DEGREE_LAT * math.cos(math.radians((self.south + self.north) / 2))

    @property
    def width_m(self) -> float:
        return (self.east - self.west) * self.metres_per_degree_lon

    @property
    def height_m(self) -> float:
        return (self.north - self.south) * METRES_PER_DEGREE_LAT

    def as_dict(self) -> dict[str, float]:
        return {"west": self.west, "south": self.south, "east": self.east, "north": self.north}


#: The demo city's box (深圳-like: 113.80–114.40 E, 22.48–22.76 N).
DEMO_BBOX = BBox(west=113.80, south=22.48, east=114.40, north=22.76)


def distance_m(
    *, bbox: BBox, lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    """Straight-line distance in metres between two sets of points (element-wise)."""
    dx = (lon2 - lon1) * bbox.metres_per_degree_lon
    dy = (lat2 - lat1) * METRES_PER_DEGREE_LAT
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def points_clustered(
    *,
    rng: np.random.Generator,
    bbox: BBox,
    n: int,
    centres_lon: FloatArray,
    centres_lat: FloatArray,
    centre_weights: FloatArray,
    spread_m: FloatArray,
    background: float,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Draw ``n`` points around weighted centres (normal spread) plus a uniform background share.

    Returns ``(lon, lat, centre)``; ``centre`` is the centre each point was drawn around, ``-1`` for
    background points. Points that fall outside the box are redrawn uniformly inside it (and count
    as background), so every point lies inside the box.
    """
    weights = centre_weights / centre_weights.sum()
    centre = rng.choice(len(weights), size=n, p=weights).astype(np.int64)
    dx = rng.normal(0.0, 1.0, n) * spread_m[centre]
    dy = rng.normal(0.0, 1.0, n) * spread_m[centre]
    lon = centres_lon[centre] + dx / bbox.metres_per_degree_lon
    lat = centres_lat[centre] + dy / METRES_PER_DEGREE_LAT
    uniform = rng.random(n) < background
    outside = (lon < bbox.west) | (lon > bbox.east) | (lat < bbox.south) | (lat > bbox.north)
    redraw = uniform | outside
    k = int(redraw.sum())
    lon[redraw] = rng.uniform(bbox.west, bbox.east, k)
    lat[redraw] = rng.uniform(bbox.south, bbox.north, k)
    centre[redraw] = -1
    return lon, lat, centre


class GridIndex:
    """Points bucketed into square cells, to pick "a random point near here" without a k-d tree.

    ``pick`` returns, for each query, a random point in the query's own cell, or (when that cell is
    empty) the nearest of a few random candidates, so a result always exists.
    """

    def __init__(self, *, bbox: BBox, lon: FloatArray, lat: FloatArray, cell_m: float) -> None:
        if len(lon) == 0:
            raise ValueError("GridIndex needs at least one point")
        self.bbox = bbox
        self.lon = lon
        self.lat = lat
        self.cols = max(1, math.ceil(bbox.width_m / cell_m))
        self.rows = max(1, math.ceil(bbox.height_m / cell_m))
        cells = self._cell(lon, lat)
        self.order = np.argsort(cells, kind="stable").astype(np.int64)
        sorted_cells = cells[self.order]
        every = np.arange(self.cols * self.rows, dtype=np.int64)
        self.start = np.searchsorted(sorted_cells, every, side="left").astype(np.int64)
        self.count = np.searchsorted(sorted_cells, every, side="right").astype(np.int64) - self.start

    def _cell(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        fx = (lon - self.bbox.west) / (self.bbox.east - self.bbox.west)
        fy = (lat - self.bbox.south) / (self.bbox.north - self.bbox.south)
        col = np.clip((fx * self.cols).astype(np.int64), 0, self.cols - 1)
        row = np.clip((fy * self.rows).astype(np.int64), 0, self.rows - 1)
        return np.asarray(row * self.cols + col, dtype=np.int64)

    def pick(
        self, *, rng: np.random.Generator, lon: FloatArray, lat: FloatArray, candidates: int = 16
    ) -> IntArray:
        """Index (into the points) of a random point near each query point."""
        n = len(lon)
        cells = self._cell(lon, lat)
        count = self.count[cells]
        offset = (rng.random(n) * np.maximum(count, 1)).astype(np.int64)
        found = self.order[np.minimum(self.start[cells] + offset, len(self.order) - 1)]
        empty = np.flatnonzero(count == 0)
        if len(empty):
            cand = rng.integers(0, len(self.lon), size=(len(empty), candidates))
            d = distance_m(
                bbox=self.bbox,
                lon1=lon[empty, None],
                lat1=lat[empty, None],
                lon2=self.lon[cand],
                lat2=self.lat[cand],
            )
            found[empty] = cand[np.arange(len(empty)), d.argmin(axis=1)]
        return np.asarray(found, dtype=np.int64)
