"""Coverage checks for a tiling (无缝覆盖, 不交叉不重叠): gaps and overlaps with geodesic areas in m².

All geometries are EPSG:4326 (lon, lat). Areas are measured on the WGS84 spheroid, so they are
correct in m² at any latitude; pieces of at most ``tolerance_m2`` (floating-point slivers along
shared edges) are ignored.

Examples
--------
>>> from shapely import box
>>> r = coverage_gaps_overlaps(box(0, 0, 0.01, 0.01), [box(0, 0, 0.006, 0.01), box(0.005, 0, 0.009, 0.01)])
>>> round(r.territory_coverage, 3), len(r.gaps), len(r.overlaps)
(0.9, 1, 1)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

_GEOD = Geod(ellps="WGS84")
_M_PER_DEG = 111_320.0  # rough metres per degree, only used to pre-filter tiny pieces
_MAX_EDGE_DEG = 0.001  # densify edges to ~100 m so geodesic edges follow the straight lon/lat ones
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@dataclass(frozen=True)
class CoverageReport:
    """Result of :func:`coverage_gaps_overlaps`.

    Attributes
    ----------
    territory_coverage : float
        Area of (union of children ∩ parent) / area of parent, 0..1.
    gaps : list of (Polygon, float)
        Parts of the parent covered by no child, with their area in m².
    overlaps : list of (id_a, id_b, Polygon or MultiPolygon, float)
        Area shared by two children (``id_a`` before ``id_b`` in input order), with its area in m².
    outside : list of (id, Polygon or MultiPolygon, float)
        Parts of a child that lie outside the parent, with their area in m².
    parent_area_m2 : float
        Geodesic area of the parent.
    """

    territory_coverage: float
    gaps: list[tuple[BaseGeometry, float]] = field(default_factory=list)
    overlaps: list[tuple[Hashable, Hashable, BaseGeometry, float]] = field(default_factory=list)
    outside: list[tuple[Hashable, BaseGeometry, float]] = field(default_factory=list)
    parent_area_m2: float = 0.0

    @property
    def is_clean(self) -> bool:
        """True when there is no gap, overlap or spill-over above the tolerance."""
        return not (self.gaps or self.overlaps or self.outside)


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area in m² of a (multi)polygon in EPSG:4326, on the WGS84 spheroid.

    Edges are straight in lon/lat (as in a PostGIS ``geometry(…, 4326)`` column); they are densified
    to at most 0.001° before the geodesic computation, so the result matches the shape shapely
    works on. Rings are oriented first (exterior counter-clockwise, holes clockwise) so holes are
    subtracted whatever the input orientation; non-polygonal parts count zero.

    Examples
    --------
    >>> from shapely import box
    >>> round(geodesic_area_m2(box(0, 0, 1, 1)) / 1e6)   # one degree square at the equator, km²
    12308
    """
    if geom is None or geom.is_empty:
        return 0.0
    polygons = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in _POLYGONAL]
    if not polygons:
        return 0.0
    # Orient, then densify ring by ring: densifying a whole polygon makes GEOS re-validate it, and a
    # valid polygon with a needle-thin spike came back EMPTY (area 0) after that. Rings need no
    # validity; their signed areas (shells positive, holes negative) add up.
    oriented = shapely.orient_polygons(shapely.multipolygons(shapely.get_parts(polygons)))
    rings = shapely.segmentize(shapely.get_rings(shapely.get_parts(oriented)), _MAX_EDGE_DEG)
    total = 0.0
    for ring in rings:
        x, y = shapely.get_coordinates(ring).T
        total += _GEOD.polygon_area_perimeter(x, y)[0]
    return abs(total)


def coverage_gaps_overlaps(
    parent: BaseGeometry,
    children: Sequence[BaseGeometry],
    *,
    ids: Sequence[Hashable] | None = None,
    tolerance_m2: float = 1.0,
) -> CoverageReport:
    """Check that ``children`` tile ``parent`` without gaps, overlaps or spill-over.

    Parameters
    ----------
    parent : Polygon or MultiPolygon
        The territory to cover, EPSG:4326.
    children : sequence of Polygon or MultiPolygon
        The parts, EPSG:4326: a list, a numpy array or a GeoSeries (whose index gives the ids).
    ids : sequence, optional
        An identifier per child (default: the GeoSeries index, else the positions 0..n-1).
    tolerance_m2 : float
        Pieces of this area or less are ignored (1 m² by default).

    Returns
    -------
    CoverageReport

    Raises
    ------
    ValueError
        When a geometry is missing, empty, not polygonal, invalid (with the reason) or not lon/lat.

    Examples
    --------
    >>> from shapely import box
    >>> report = coverage_gaps_overlaps(box(0, 0, 2, 1), [box(0, 0, 1, 1), box(1, 0, 2, 1)], ids=["a", "b"])
    >>> report.is_clean, report.territory_coverage
    (True, 1.0)
    """
    if ids is None:
        index = getattr(children, "index", None)
        ids = list(range(len(children))) if index is None or callable(index) else list(index)
    geoms = np.asarray(list(children), dtype=object)
    ids = list(ids)
    if len(ids) != len(geoms):
        raise ValueError(f"{len(ids)} ids for {len(geoms)} children")
    _validate(np.array([parent], dtype=object), "parent")
    _validate(geoms, "child")
    parent_area = geodesic_area_m2(parent)
    if not len(geoms):
        gaps = _pieces(parent, tolerance_m2)
        return CoverageReport(0.0, [(g, a) for g, a in gaps], [], [], parent_area)
    union = shapely.union_all(geoms)
    covered = geodesic_area_m2(shapely.intersection(union, parent))
    gaps = _pieces(shapely.difference(parent, union), tolerance_m2)
    spill = shapely.difference(geoms, parent)
    spill_area = _areas(spill, tolerance_m2)
    outside = [(ids[i], spill[i], spill_area[i]) for i in np.flatnonzero(spill_area > tolerance_m2)]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    shared = shapely.intersection(geoms[left], geoms[right])
    shared_area = _areas(shared, tolerance_m2)
    overlaps = [
        (ids[left[k]], ids[right[k]], _polygonal(shared[k]), shared_area[k])
        for k in np.flatnonzero(shared_area > tolerance_m2)
    ]
    coverage = min(1.0, covered / parent_area) if parent_area > 0 else 0.0
    return CoverageReport(coverage, gaps, overlaps, outside, parent_area)


def _validate(geoms: np.ndarray, what: str) -> None:
    """Raise ValueError unless every geometry is a valid, non-empty lon/lat (multi)polygon."""
    for i, g in enumerate(geoms):
        label = what if what == "parent" else f"{what} {i}"
        if not isinstance(g, BaseGeometry) or g.is_empty:
            raise ValueError(f"{label} is missing or empty")
        if shapely.get_type_id(g) not in _POLYGONAL:
            raise ValueError(f"{label} is a {g.geom_type}, expected Polygon or MultiPolygon")
        if not g.is_valid:
            raise ValueError(f"{label} is invalid: {shapely.is_valid_reason(g)}")
        x0, y0, x1, y1 = g.bounds
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            raise ValueError(f"{label} has coordinates outside lon/lat ranges; expected EPSG:4326")


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of ``geom`` (an intersection may also hold shared edges and points)."""
    parts = shapely.get_parts(geom)
    keep = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
    return keep[0] if len(keep) == 1 else shapely.multipolygons(shapely.get_parts(keep))


def _areas(geoms: np.ndarray, tolerance_m2: float) -> np.ndarray:
    """Geodesic areas in m²; pieces whose planar estimate is below half the tolerance count zero."""
    geoms = np.asarray(geoms, dtype=object)
    bounds = shapely.bounds(geoms).reshape(-1, 4)
    lat = np.nan_to_num((bounds[:, 1] + bounds[:, 3]) / 2)
    rough = shapely.area(geoms) * _M_PER_DEG**2 * np.cos(np.radians(lat))
    out = np.zeros(len(geoms))
    for k in np.flatnonzero(rough > tolerance_m2 / 2):
        out[k] = geodesic_area_m2(geoms[k])
    return out


def _pieces(geom: BaseGeometry, tolerance_m2: float) -> list[tuple[BaseGeometry, float]]:
    """Connected polygons of ``geom`` larger than ``tolerance_m2``, with their areas."""
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
    areas = _areas(parts, tolerance_m2)
    return [(parts[k], areas[k]) for k in np.flatnonzero(areas > tolerance_m2)]
