"""Fit a validated grid shape into its community: snap to the neighbours, stay inside, overlap no sibling.

The second half of the one validator (the first is :mod:`geodata.validation`): it needs the community
boundary and the sibling grids, which the caller reads from the database, but the geometry work is pure
shapely so the rules are tested without a database. All geometries are EPSG:4326.

Examples
--------
>>> from shapely import box
>>> fit = fit_grid(box(0, 0, 0.0051, 0.01), box(0, 0, 0.01, 0.01), {7: box(0.005, 0, 0.01, 0.01)}, clip=True)
>>> round(fit.geometry.bounds[2], 6), fit.clipped_m2 > 1
(0.005, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.topology import geodesic_area_m2
from geodata.validation import GeometryRejected, validate_shape

SNAP_DEG = 2e-6  # ~20 cm: vertices drawn onto a neighbour's edge (6-decimal GeoJSON) land exactly on it
TOLERANCE_M2 = 1.0  # docs/domain.md: pieces of 1 m² or less are floating-point slivers, not overlaps


@dataclass(frozen=True)
class Fit:
    """The shape as it will be stored, and what fitting it did."""

    geometry: shapely.MultiPolygon
    clipped_m2: float = 0.0  # area given up to neighbours (clip=True)
    trimmed_m2: float = 0.0  # area outside the community cut off (≤ tolerance)
    overlaps: list[dict] = field(default_factory=list)


def fit_grid(
    shape: BaseGeometry,
    community: BaseGeometry,
    siblings: Mapping[object, BaseGeometry],
    *,
    clip: bool = False,
    tolerance_m2: float = TOLERANCE_M2,
    snap_deg: float = SNAP_DEG,
) -> Fit:
    """Snap ``shape`` to ``community`` and ``siblings``, then check containment and overlaps.

    Parameters
    ----------
    shape : MultiPolygon
        Output of :func:`geodata.validation.validate_shape` / ``validate_geojson``.
    community : Polygon or MultiPolygon
        The parent; the shape may leave it by at most ``tolerance_m2`` (that piece is cut off).
    siblings : mapping id → Polygon or MultiPolygon
        The other grids of the community, as they will be after publishing.
    clip : bool
        Cut the shape back to what no sibling holds instead of refusing an overlap.

    Raises
    ------
    GeometryRejected
        ``outside_community`` (with the outside area in ``extra``), ``overlaps_siblings`` (``extra``:
        ``overlaps`` = [{"id", "area_m2", "geometry"}] and their union ``geometry``), or a validity code
        when snapping or clipping left nothing usable.
    """
    index = siblings if hasattr(siblings, "near") else SiblingIndex(siblings)
    ids = index.near(shape, snap_deg)  # the spatial index: only neighbours can snap or overlap
    others = [index[i] for i in ids]
    window = _grown_bounds(shape, 2 * snap_deg)  # snap only to the edges near the shape, not to whole boundaries
    reference = shapely.GeometryCollection([shapely.clip_by_rect(g.boundary, *window) for g in (community, *others)])
    snapped = shapely.snap(shape, reference, snap_deg)
    # Snapping closes centimetre gaps along a neighbour's edge, but a vertex snapped onto another grid's
    # corner can also swing an edge a few m² into that grid: keep the unsnapped shape when it fits better.
    candidates = [snapped, shape] if snapped.is_valid and not snapped.is_empty else [shape]
    for candidate in candidates:
        outside = candidate.difference(community)
        outside_m2 = geodesic_area_m2(outside)
        overlaps = _overlaps(candidate, ids, others, tolerance_m2)
        if outside_m2 <= tolerance_m2 and not overlaps:
            break
    shape = candidate
    if outside_m2 > tolerance_m2:
        raise GeometryRejected(
            "outside_community", extra={"area_m2": round(outside_m2, 1), "geometry": _polygonal(outside)}
        )
    trimmed = 0.0
    if not outside.is_empty and outside_m2 > 0:
        shape, trimmed = shape.intersection(community), outside_m2
    clipped = 0.0
    if overlaps and not clip:
        union = shapely.union_all([o["geometry"] for o in overlaps])
        raise GeometryRejected(
            "overlaps_siblings",
            detail=f"{sum(o['area_m2'] for o in overlaps):.1f} m²",
            extra={"overlaps": overlaps, "geometry": union},
        )
    if overlaps:
        before = geodesic_area_m2(shape)
        shape = shape.difference(shapely.union_all([siblings[o["id"]] for o in overlaps]))
        clipped = before - geodesic_area_m2(shape)
    shape = _drop_crumbs(_polygonal(shape), tolerance_m2)
    return Fit(validate_shape(shape), clipped, trimmed, overlaps if clip else [])


class SiblingIndex(Mapping):
    """The shapes a new shape must fit against (id → geometry) with an STRtree over them, growing as an import
    accepts rows: ``add`` a row (an id added again replaces its shape), ``near`` the ids whose envelope comes
    within ``margin`` degrees of a shape. The tree is rebuilt only after ``REBUILD_AFTER`` additions; the few
    added since are checked by their envelopes. ``excluding(id)``: the index without one id (a row that replaces
    the stored shape of its own code)."""

    REBUILD_AFTER = 64

    def __init__(self, shapes: Mapping | None = None):
        self._keys: list = []
        self._geoms: list = []
        self._where: dict = {}
        self._tree, self._indexed = None, 0
        for key, geom in (shapes or {}).items():
            self.add(key, geom)

    def add(self, key, geom) -> None:
        if key in self._where:  # replaced: the old entry stays in the tree but is skipped
            self._geoms[self._where[key]] = None
        self._where[key] = len(self._keys)
        self._keys.append(key)
        self._geoms.append(geom)

    def excluding(self, key) -> _Without:
        return _Without(self, key)

    def near(self, geom: BaseGeometry, margin: float) -> list:
        box = shapely.box(*_grown_bounds(geom, margin))
        if self._tree is None or len(self._keys) - self._indexed > self.REBUILD_AFTER:
            self._tree = shapely.STRtree([g if g is not None else shapely.Point() for g in self._geoms])
            self._indexed = len(self._keys)
        found = set(self._tree.query(box).tolist())
        for offset, g in enumerate(self._geoms[self._indexed :]):
            if g is not None and shapely.intersects(shapely.envelope(g), box):
                found.add(self._indexed + offset)
        return [self._keys[i] for i in sorted(found) if self._geoms[i] is not None]

    def __getitem__(self, key):
        if key not in self._where or self._geoms[self._where[key]] is None:
            raise KeyError(key)
        return self._geoms[self._where[key]]

    def __iter__(self):
        return (k for k, i in self._where.items() if self._geoms[i] is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Without(Mapping):
    """A SiblingIndex less one id, sharing its tree."""

    def __init__(self, index: SiblingIndex, key):
        self.index, self.key = index, key

    def near(self, geom: BaseGeometry, margin: float) -> list:
        return [k for k in self.index.near(geom, margin) if k != self.key]

    def __getitem__(self, key):
        if key == self.key:
            raise KeyError(key)
        return self.index[key]

    def __iter__(self):
        return (k for k in self.index if k != self.key)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _grown_bounds(geom: BaseGeometry, margin: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = geom.bounds
    return minx - margin, miny - margin, maxx + margin, maxy + margin


def _overlaps(shape: BaseGeometry, ids: list, others: list, tolerance_m2: float) -> list[dict]:
    out = []
    for i, other in zip(ids, others):
        if shape.intersects(other):
            piece = _polygonal(shape.intersection(other))
            area = geodesic_area_m2(piece)
            if area > tolerance_m2:
                out.append({"id": i, "area_m2": round(area, 1), "geometry": piece})
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygons of ``geom`` (an intersection also yields shared edges and points)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.MultiPolygon(parts) if parts else shapely.MultiPolygon()


def _drop_crumbs(geom: BaseGeometry, tolerance_m2: float) -> BaseGeometry:
    """Remove parts of ``tolerance_m2`` or less left behind by snapping, trimming or clipping."""
    parts = [p for p in shapely.get_parts(geom) if geodesic_area_m2(p) > tolerance_m2]
    return shapely.MultiPolygon(parts) if parts else shapely.MultiPolygon()
