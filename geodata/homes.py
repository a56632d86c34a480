"""Which area covers each point: the home rule of households, on arrays in memory.

The rule is the one ``gridmap.services.grids.rehoming.homes_sql`` states in SQL, for a bulk import that has
a million converted points in memory before any of them is in the database: a point belongs to the
area whose polygon *covers* it (its boundary counts as inside), and where two areas cover it (a point
on a shared edge) the lowest code wins; a point no area covers gets none. tests/test_homes_rule.py
checks that both give the same answer, on a synthetic city and on points placed exactly on shared
edges and corners.

Measured on these machines at a million points: ~0.3 s for 5,000 grids, where the database's
polygon-driven join needs the points staged and indexed first (~5 s in all, docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

NONE = -1


@dataclass(frozen=True)
class Areas:
    """Polygons (prepared) with their database ids, in code order: the first one covering a point wins."""

    ids: np.ndarray  # int64
    polygons: np.ndarray  # shapely geometries
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy

    @classmethod
    def from_wkb(cls, rows) -> Areas:
        """``rows`` of (id, code, WKB), in any order."""
        rows = sorted(rows, key=lambda r: r[1])
        polygons = shapely.from_wkb([bytes(r[2]) for r in rows]) if rows else np.empty(0, dtype=object)
        shapely.prepare(polygons)
        return cls(np.array([r[0] for r in rows], dtype=np.int64), polygons, shapely.bounds(polygons).reshape(-1, 4))


class Points:
    """Points (lon/lat arrays in the areas' CRS) sorted by x once, for several :meth:`home` lookups."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray):
        self.order = np.argsort(lon, kind="stable")
        self.x, self.y = lon[self.order], lat[self.order]

    def home(self, areas: Areas) -> np.ndarray:
        """The id of the lowest-coded area covering each point, or NONE, in the caller's point order.

        Per polygon: the x-range of its box is a slice of the sorted points, the y-range a mask on that
        slice, and GEOS tests the few left with the prepared polygon (``intersects_xy``: for a point,
        intersecting a polygon is being covered by it). No GEOS object per point is ever made."""
        if not len(self.x):
            return np.empty(0, dtype=np.int64)
        found = np.full(len(self.x), len(areas.ids), dtype=np.int64)  # positions in code order; len = none
        box = areas.bounds
        near = np.flatnonzero(
            (box[:, 0] <= self.x[-1])
            & (box[:, 2] >= self.x[0])
            & (box[:, 1] <= self.y.max())
            & (box[:, 3] >= self.y.min())
        )  # only the polygons that can hold one of the points
        starts = np.searchsorted(self.x, box[near, 0], side="left")
        ends = np.searchsorted(self.x, box[near, 2], side="right")
        for k, polygon, low, high, start, end in zip(
            near, areas.polygons[near], box[near, 1], box[near, 3], starts, ends
        ):
            ys = self.y[start:end]
            boxed = np.flatnonzero((ys >= low) & (ys <= high)) + start
            hit = boxed[shapely.intersects_xy(polygon, self.x[boxed], self.y[boxed])]
            found[hit] = np.minimum(found[hit], k)  # areas come in code order: the smallest wins
        home = np.empty_like(found)
        home[self.order] = np.append(areas.ids, NONE)[found]
        return home
