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
    ids = list(siblings)
    others = [siblings[i] for i in ids]
    reference = shapely.GeometryCollection([community.boundary, *[o.boundary for o in others]])
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
