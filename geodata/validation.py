"""The one geometry validator: GeoJSON text (or shapely geometries from a file) in, a clean 2-D MultiPolygon out.

Every way a boundary enters GridMap (the editor, the API, the admin, file imports) goes through
:func:`validate_geojson` or :func:`validate_shape`. Cheap refusals come first so hostile input costs
nothing: byte size and nesting depth before ``json.loads``, the vertex count (from list lengths) before any
position is read, and every position checked before shapely builds a geometry. A refusal is a
:class:`GeometryRejected` with a stable ``code`` (translated by the Django side), the ``field`` it concerns
and, where GEOS names one, the ``location`` as (lon, lat).

Rules (RFC 7946 and docs/security.md (b)):

- Polygon or MultiPolygon only (a Feature is unwrapped); anything else is ``geometry_type``.
- Z and M values are dropped, never refused; positions must be finite numbers.
- A legacy ``crs`` member is accepted only when it names WGS84 lon/lat; a link-type ``crs`` is refused
  without being fetched.
- Rings have at least 4 positions and are closed; lon in [-180, 180], lat in [-90, 90]; values in the
  thousands are reported as projected metres.
- The result is valid (else GEOS's reason with its location), not zero-area, with repeated vertices
  removed and rings wound per RFC 7946 (exterior counter-clockwise, holes clockwise).

Examples
--------
>>> geom = validate_geojson('{"type": "Polygon", "coordinates": [[[0,0],[0,1],[1,1],[1,0],[0,0]]]}')
>>> geom.geom_type, bool(shapely.is_ccw(geom.geoms[0].exterior))
('MultiPolygon', True)
>>> validate_geojson('{"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}')
Traceback (most recent call last):
...
geodata.validation.GeometryRejected: self_intersection at 0.5 0.5
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.topology import geodesic_area_m2

MAX_BYTES = 2_000_000  # a 10,000-vertex polygon is ~300 kB of GeoJSON
MAX_DEPTH = 32  # a Feature holding a MultiPolygon nests 6 deep
MAX_VERTICES = 10_000  # per geometry: a hand-drawn grid has tens, a surveyed one hundreds
MIN_AREA_M2 = 1.0
_WGS84_CRS = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4326",
    "urn:ogc:def:crs:EPSG:4326",
    "CRS84",
}
_GEOS_REASON = re.compile(r"^(?P<text>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


class GeometryRejected(ValueError):
    """A geometry refused with a stable ``code``, the ``field`` concerned and an optional (lon, lat)."""

    def __init__(
        self,
        code: str,
        *,
        field: str = "geometry",
        location: tuple[float, float] | None = None,
        detail: str = "",
        too_large: bool = False,
        extra: dict | None = None,
    ):
        self.code, self.field, self.location, self.detail, self.too_large = code, field, location, detail, too_large
        self.extra = extra or {}  # e.g. the overlapping pieces, for the map
        where = f" at {location[0]:.7g} {location[1]:.7g}" if location else ""
        super().__init__(f"{code}{where}{': ' + detail if detail else ''}")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_vertices: int = MAX_VERTICES
    min_area_m2: float = MIN_AREA_M2


def load_json(raw: str | bytes, *, limits: Limits = Limits(), field: str = "body") -> object:
    """``json.loads`` behind a size cap and a nesting-depth cap (deep nesting crashes the parser)."""
    if len(raw) > limits.max_bytes:
        raise GeometryRejected("too_large", field=field, too_large=True, detail=f"{len(raw)} bytes")
    try:
        text = raw.decode("utf-8", errors="strict") if isinstance(raw, bytes | bytearray) else raw
    except UnicodeDecodeError as exc:
        raise GeometryRejected("malformed_json", field=field, detail=f"not UTF-8 at byte {exc.start}") from None
    # Brackets inside strings are counted too: that can only over-estimate the depth, never let a
    # deeper document through; RecursionError stays as a second guard.
    depth = deepest = 0
    for match in re.finditer(r"[\[{]|[\]}]", text):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limits.max_depth:
                raise GeometryRejected("too_deep", field=field, detail=f"> {limits.max_depth}")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise GeometryRejected("too_deep", field=field) from None
    except ValueError as exc:
        if isinstance(exc, GeometryRejected):
            raise
        raise GeometryRejected("malformed_json", field=field, detail=str(exc)) from None
    if _UNSTORABLE_ESCAPE.search(text):  # rare: only then walk the document to name the place
        _refuse_unstorable(data, field)
    return data


# Text PostgreSQL cannot store and that no user types: NUL, and a UTF-16 surrogate without its partner (JSON
# can spell both as \u escapes; a raw control character is already malformed JSON).
_UNSTORABLE_ESCAPE = re.compile(r"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: str) -> str:
    """The refusal code for text with NUL (``nul_byte``) or a lone surrogate (``lone_surrogate``); "" if fine.

    >>> unstorable_text("a" + chr(0)), unstorable_text("a" + chr(0xD800)), unstorable_text("a" + chr(0x1F600))
    ('nul_byte', 'lone_surrogate', '')
    """
    found = _UNSTORABLE.search(value)
    if not found:
        return ""
    return "nul_byte" if found.group() == "\x00" else "lone_surrogate"


def _refuse_unstorable(data: object, field: str) -> None:
    stack = [(data, field)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if unstorable_text(item):
                raise GeometryRejected(unstorable_text(item), field=where)
        elif isinstance(item, dict):
            for key, value in item.items():
                if unstorable_text(key):
                    raise GeometryRejected(unstorable_text(key), field=where)
                stack.append((value, key))
        elif isinstance(item, list):
            stack.extend((value, where) for value in item)


def validate_geojson(
    data: str | bytes | Mapping, *, limits: Limits = Limits(), field: str = "geometry"
) -> shapely.MultiPolygon:
    """Validate GeoJSON (text or an already-parsed mapping) and return a normalised 2-D MultiPolygon.

    Raises
    ------
    GeometryRejected
        With the first reason found, in the order: size, depth, structure, type, vertex cap,
        positions, rings, ranges, validity, area.
    """
    if isinstance(data, str | bytes | bytearray):
        data = load_json(data, limits=limits, field=field)
    if not isinstance(data, Mapping):
        raise GeometryRejected("not_an_object", field=field)
    if data.get("type") == "Feature":
        _check_crs(data.get("crs"), field)
        data = data.get("geometry")
        if not isinstance(data, Mapping):
            raise GeometryRejected("empty", field=field)
    _check_crs(data.get("crs"), field)
    kind = data.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryRejected("geometry_type", field=field, detail=str(kind)[:40])
    coords = data.get("coordinates")
    if not isinstance(coords, list | tuple):
        raise GeometryRejected("bad_coordinates", field=field)
    polygons = [coords] if kind == "Polygon" else coords
    if not polygons or any(not isinstance(p, list | tuple) for p in polygons):
        raise GeometryRejected("empty" if not polygons else "bad_coordinates", field=field)
    # Vertex cap from list lengths only: a million positions are refused before one of them is read.
    count = 0
    for polygon in polygons:
        for ring in polygon:
            count += len(ring) if isinstance(ring, list | tuple) else 0
    if count > limits.max_vertices:
        raise GeometryRejected(
            "too_many_vertices", field=field, too_large=True, detail=f"{count} > {limits.max_vertices}"
        )
    shapes = [shapely.Polygon(rings[0], rings[1:]) for rings in (_rings(p, field) for p in polygons)]
    return _finish(shapely.MultiPolygon(shapes), limits, field)


def validate_shape(
    geom: BaseGeometry | None, *, limits: Limits = Limits(), field: str = "geometry"
) -> shapely.MultiPolygon:
    """The same rules for a shapely geometry read from a file (pyogrio/geopandas), in EPSG:4326."""
    if geom is None or geom.is_empty:
        raise GeometryRejected("empty", field=field)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise GeometryRejected("geometry_type", field=field, detail=geom.geom_type)
    count = shapely.get_num_coordinates(geom)
    if count > limits.max_vertices:
        raise GeometryRejected(
            "too_many_vertices", field=field, too_large=True, detail=f"{count} > {limits.max_vertices}"
        )
    flat = shapely.force_2d(geom)
    coords = shapely.get_coordinates(flat)
    if not all(math.isfinite(v) for v in coords.ravel()):
        raise GeometryRejected("not_a_number", field=field)
    for x, y in coords:
        _check_range(x, y, field)
    parts = shapely.get_parts(flat)
    for part in parts:
        for ring in [part.exterior, *part.interiors]:
            if len(ring.coords) < 4:
                raise GeometryRejected("ring_too_few_positions", field=field, location=ring.coords[0])
    return _finish(shapely.MultiPolygon(list(parts)), limits, field)


def check_near(
    geom: BaseGeometry, bounds: tuple[float, float, float, float], *, margin_m: float = 1000.0, field: str = "geometry"
) -> None:
    """Refuse ``geom`` unless it lies inside ``bounds`` (the street's bbox) widened by ``margin_m``."""
    minx, miny, maxx, maxy = bounds
    dy = margin_m / 111_320.0
    dx = dy / max(math.cos(math.radians((miny + maxy) / 2)), 0.01)
    gx0, gy0, gx1, gy1 = geom.bounds
    if gx0 < minx - dx or gx1 > maxx + dx or gy0 < miny - dy or gy1 > maxy + dy:
        far = (gx0, gy0) if (gx0 < minx - dx or gy0 < miny - dy) else (gx1, gy1)
        raise GeometryRejected("far_from_street", field=field, location=far)


def _refuse_constant(name: str):
    raise GeometryRejected("not_a_number", detail=name)  # NaN, Infinity, -Infinity


def _check_crs(crs: object, field: str) -> None:
    if crs is None:
        return
    if isinstance(crs, Mapping) and crs.get("type") == "name":
        name = (crs.get("properties") or {}).get("name")
        if isinstance(name, str) and name in _WGS84_CRS:
            return
        raise GeometryRejected("crs_not_wgs84", field=field, detail=str(name)[:80])
    raise GeometryRejected("crs_not_wgs84", field=field, detail="only a named WGS84 crs is accepted")


def _rings(polygon: list, field: str) -> list[list[tuple[float, float]]]:
    if not polygon:
        raise GeometryRejected("empty", field=field)
    rings = []
    for ring in polygon:
        if not isinstance(ring, list | tuple):
            raise GeometryRejected("bad_coordinates", field=field)
        points = [_position(p, field) for p in ring]
        if not points:
            raise GeometryRejected("empty", field=field)
        if len(points) < 4:
            raise GeometryRejected("ring_too_few_positions", field=field, location=points[0], detail=str(len(points)))
        if points[0] != points[-1]:
            raise GeometryRejected("ring_not_closed", field=field, location=points[0])
        rings.append(points)
    return rings


def _position(p: object, field: str) -> tuple[float, float]:
    if not isinstance(p, list | tuple) or not 2 <= len(p) <= 4:
        raise GeometryRejected("bad_position", field=field, detail=str(p)[:40])
    x, y = p[0], p[1]
    for v in p:  # Z and M are dropped below, but must still be numbers
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise GeometryRejected("not_a_number", field=field, detail=str(v)[:40])
    _check_range(x, y, field)
    return (float(x), float(y))


def _check_range(x: float, y: float, field: str) -> None:
    if -180 <= x <= 180 and -90 <= y <= 90:
        return
    # Values in the thousands are metres of a projected CRS (Gauss-Krüger, Web Mercator) posing as lon/lat.
    code = "looks_projected" if abs(x) > 1000 or abs(y) > 1000 else "out_of_range"
    raise GeometryRejected(code, field=field, location=(x, y))


def _finish(geom: shapely.MultiPolygon, limits: Limits, field: str) -> shapely.MultiPolygon:
    if geom.is_empty:
        raise GeometryRejected("empty", field=field)
    for part in geom.geoms:
        # All vertices on one line: GEOS calls it a self-intersection; the user's word is "zero area".
        if part.convex_hull.area == 0:
            raise GeometryRejected("zero_area", field=field, location=part.exterior.coords[0])
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        match = _GEOS_REASON.match(reason)
        text = match.group("text") if match else reason
        location = (float(match.group("x")), float(match.group("y"))) if match else None
        code = re.sub(r"[^a-z]+", "_", text.lower()).strip("_")
        # The code is GEOS's words made a key; the reason table of the app may not know a newer GEOS's words
        # ("Holes are nested" in GEOS 3.14), so the words travel along for a translated generic message.
        raise GeometryRejected(code, field=field, location=location, extra={"geos": text})
    if geodesic_area_m2(geom) < limits.min_area_m2:
        raise GeometryRejected("zero_area", field=field, location=geom.geoms[0].exterior.coords[0])
    clean = shapely.remove_repeated_points(geom)
    clean = shapely.orient_polygons(clean)
    if clean.geom_type == "Polygon":  # defensive: keep the promised type
        clean = shapely.MultiPolygon([clean])
    return clean


def validate_line(data: object, *, field: str = "line", max_vertices: int = 1000) -> shapely.LineString:
    """A GeoJSON LineString (a split line): 2 to ``max_vertices`` finite lon/lat positions, Z dropped."""
    if isinstance(data, Mapping) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, Mapping) or data.get("type") != "LineString":
        raise GeometryRejected("bad_line", field=field)
    coords = data.get("coordinates")
    if not isinstance(coords, list | tuple) or not 2 <= len(coords) <= max_vertices:
        raise GeometryRejected("bad_line", field=field)
    line = shapely.LineString([_position(p, field) for p in coords])
    if line.length == 0:
        raise GeometryRejected("bad_line", field=field)
    return line


def validate_point(data: object, *, field: str = "location") -> tuple[float, float]:
    """A GeoJSON Point (or a bare ``{"lon", "lat"}`` pair) as finite WGS84 (lon, lat): the one point validator
    of the station, household and what-if paths, beside the polygon validator above.

    >>> validate_point({"type": "Point", "coordinates": [116.4, 39.9]})
    (116.4, 39.9)
    >>> validate_point({"type": "Point", "coordinates": [500000, 4400000]})
    Traceback (most recent call last):
    geodata.validation.GeometryRejected: looks_projected at 500000 4400000
    """
    if isinstance(data, Mapping) and data.get("type") == "Feature":
        data = data.get("geometry")
    if isinstance(data, Mapping) and "type" not in data and {"lon", "lat"} <= set(data):
        # the bare pair names the coordinate at fault: "lon", or "stations[0].lat" under field="stations[0]"
        for key in ("lon", "lat"):
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise GeometryRejected("not_a_number", field=f"{field}.{key}" if field else key, detail=str(value)[:40])
        lon, lat = data["lon"], data["lat"]
        key = "lon" if abs(lon) > 180 else "lat"
        _check_range(lon, lat, f"{field}.{key}" if field else key)  # the GeoJSON rule: metres are named so
        return (float(lon), float(lat))
    if not isinstance(data, Mapping) or data.get("type") != "Point":
        raise GeometryRejected("not_a_point", field=field)
    _check_crs(data.get("crs"), field)
    return _position(data.get("coordinates"), field)
