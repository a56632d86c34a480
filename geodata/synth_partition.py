"""The synthetic city's partition (geodata/synth.py): streets by recursive bisection of the outline,
communities as Voronoi cells of k-means seeds clipped to their street, grids by recursive bisection of their
community along a road near the balancing quantile or else through the widest empty strip; then the grid
edges noded so neighbours share every vertex, and households moved off the grid boundaries. Local metres
throughout; no Django."""

from __future__ import annotations

import math

import numpy as np
import shapely
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree

_GRID_WINDOW = 0.08  # tolerated imbalance of one grid bisection step (share of the node)
_SKEWED = 0.03  # share of grids deliberately split 1:3 (so size warnings show)


def partition(rng, region, xy, roads, n_streets, n_comm, n_grids):
    """Street of each community, grid polygons, community of each grid, grid of each household."""
    streets = _bisect(region, xy, np.arange(len(xy)), n_streets, roads, 0.03)
    per_street = _apportion([len(ix) for _, ix in streets], n_comm)
    comms = [(p, ix, s) for s, (sp, six) in enumerate(streets) for p, ix in _voronoi(rng, sp, xy, six, per_street[s])]
    per_comm = _apportion([len(ix) for _, ix, _ in comms], n_grids)
    skewed, pool = np.zeros(len(comms), bool), np.flatnonzero(per_comm > 1)
    if len(pool):
        skewed[rng.choice(pool, min(len(pool), max(1, round(_SKEWED * n_grids))), replace=False)] = True
    grids = [
        (p, ix, c)
        for c, (cp, cix, _) in enumerate(comms)
        for p, ix in _bisect(cp, xy, cix, per_comm[c], roads, _GRID_WINDOW, skewed[c])
    ]
    hh_grid = np.empty(len(xy), dtype=np.int64)
    for g, (_, ix, _) in enumerate(grids):
        hh_grid[ix] = g
    return (
        np.array([s for _, _, s in comms]),
        np.array([p for p, _, _ in grids]),
        np.array([c for _, _, c in grids]),
        hh_grid,
    )


def shared_edges(grids, grid_comm, comm_street):
    """Streets, communities and grids rebuilt from the grid edges noded on a 1 mm grid.

    Without this, a vertex where two grids meet on a neighbour's edge (a T-junction) is missing
    from that neighbour; unions then leave hair-thin slivers that trip up later overlays.
    """
    edges = shapely.union_all(shapely.boundary(grids), grid_size=0.001)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    fi, gi = shapely.STRtree(grids).query(shapely.point_on_surface(faces), predicate="within")
    if len(faces) != len(grids) or len(np.unique(gi)) != len(grids):
        raise RuntimeError("noding the grid edges changed the grids")
    grids = np.empty(len(faces), dtype=object)
    grids[gi] = faces[fi]
    comms = np.array([shapely.coverage_union_all(grids[grid_comm == c]) for c in range(len(comm_street))])
    streets = np.array([shapely.coverage_union_all(comms[comm_street == s]) for s in range(comm_street.max() + 1)])
    return streets, comms, grids


def _bisect(poly, xy, ix, k, roads, window, skew=False):
    """Split ``poly`` into ``k`` convex parts of about equal household count by straight cuts.

    With ``skew``, the first split into two grids is made 1:3 instead (a too small and a too large grid).
    """
    out, stack = [], [(poly, ix, k)]
    while stack:
        p, ix, k = stack.pop()
        if k == 1:
            out.append((p, ix))
            continue
        x0, y0, x1, y1 = p.bounds
        ax = 0 if x1 - x0 >= y1 - y0 else 1
        lo_b, hi_b = (x0, x1) if ax == 0 else (y0, y1)
        frac, skew = (0.25, False) if skew and k == 2 else ((k // 2) / k, skew)
        cut = _cut(np.sort(xy[ix, ax]), frac, window, roads[ax], lo_b, hi_b)
        boxes = (
            [(x0 - 1, y0 - 1, cut, y1 + 1), (cut, y0 - 1, x1 + 1, y1 + 1)]
            if ax == 0
            else [(x0 - 1, y0 - 1, x1 + 1, cut), (x0 - 1, cut, x1 + 1, y1 + 1)]
        )
        left = xy[ix, ax] < cut
        stack.append((shapely.intersection(p, shapely.box(*boxes[1])), ix[~left], k - k // 2))
        stack.append((shapely.intersection(p, shapely.box(*boxes[0])), ix[left], k // 2))
    return out


def _cut(s, frac, window, roads, lo_b, hi_b):
    """Cut position: a road near the ``frac`` quantile of sorted ``s``, else the widest gap nearby."""
    m = len(s)
    if m < 2:
        return (lo_b + hi_b) / 2
    miss = np.abs(np.searchsorted(s, roads) - frac * m)
    ok = (roads > lo_b + 20) & (roads < hi_b - 20) & (miss <= window * m)
    if ok.any():
        return roads[ok][np.argmin(miss[ok])]
    lo = min(max(int((frac - window) * m), 0), m - 2)
    hi = min(max(math.ceil((frac + window) * m), lo + 1), m - 1)
    j = lo + int(np.argmax(s[lo + 1 : hi + 1] - s[lo:hi]))
    return (s[j] + s[j + 1]) / 2


def _voronoi(rng, poly, xy, ix, k):
    """Voronoi cells of k-means seeds of the households, clipped to ``poly``."""
    if k == 1:
        return [(poly, ix)]
    sample = xy[ix[rng.choice(len(ix), min(len(ix), 30 * k + 5_000), replace=False)]]
    seeds, _ = kmeans2(sample, k, iter=10, minit="++", rng=rng)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=poly, ordered=True))
    label = cKDTree(seeds).query(xy[ix])[1]
    return [(shapely.intersection(cells[c], poly), ix[label == c]) for c in range(k)]


def nudge_households(xy, polys, hh_grid, margin=1.0):
    """Move households closer than ``margin`` metres to their (convex) grid's boundary towards its centroid."""
    polys = np.asarray(polys)
    edges, centre = shapely.boundary(polys), shapely.get_coordinates(shapely.centroid(polys))
    todo = np.arange(len(xy))
    for _ in range(30):
        todo = todo[shapely.distance(shapely.points(xy[todo]), edges[hh_grid[todo]]) < margin]
        if not len(todo):
            return
        step = centre[hh_grid[todo]] - xy[todo]
        xy[todo] += step * np.minimum(0.5, 2.0 / np.linalg.norm(step, axis=1, keepdims=True))
    raise RuntimeError("could not move households away from grid boundaries")


def _apportion(weights, total):
    """Split ``total`` into integer parts proportional to ``weights``, each at least 1."""
    w = np.asarray(weights, float) + 1e-9
    q = w / w.sum() * total
    part = np.maximum(1, np.floor(q)).astype(int)
    while part.sum() > total:
        part[np.argmax(np.where(part > 1, part - q, -np.inf))] -= 1
    part[np.argsort(part - q, kind="stable")[: total - part.sum()]] += 1
    return part
