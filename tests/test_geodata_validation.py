"""The one geometry validator with hostile input (docs/security.md (b) "Geometry"). No database."""

from __future__ import annotations

import json
import time

import pytest
import shapely

from geodata.grid_fit import fit_grid
from geodata.validation import GeometryRejected, load_json, validate_geojson, validate_line, validate_shape

SQUARE = [[101.68, 39.21], [101.69, 39.21], [101.69, 39.22], [101.68, 39.22], [101.68, 39.21]]


def poly(*rings) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def rejected(data, **kwargs) -> GeometryRejected:
    with pytest.raises(GeometryRejected) as info:
        validate_geojson(data if isinstance(data, str) else json.dumps(data), **kwargs)
    return info.value


def test_it_names_the_self_intersection_of_a_bow_tie_with_its_location():
    bow_tie = poly([[101.68, 39.21], [101.69, 39.22], [101.69, 39.21], [101.68, 39.22], [101.68, 39.21]])
    exc = rejected(bow_tie)
    assert exc.code == "self_intersection"
    assert exc.location == pytest.approx((101.685, 39.215))


def test_it_refuses_a_hole_outside_the_shell():
    hole = [[101.70, 39.23], [101.71, 39.23], [101.71, 39.24], [101.70, 39.23]]
    exc = rejected(poly(SQUARE, hole))
    assert exc.code == "hole_lies_outside_shell" and exc.location == (101.70, 39.23)


@pytest.mark.parametrize(
    ("coords", "code"),
    [
        ([[101.68, 39.21], [101.69, 39.21], [101.68, 39.21]], "ring_too_few_positions"),
        (SQUARE[:-1], "ring_not_closed"),
        ([[101.68, 39.21], [101.69, 39.21], [101.70, 39.21], [101.68, 39.21]], "zero_area"),
        ([[200, 39.21], [201, 39.21], [201, 39.22], [200, 39.21]], "out_of_range"),
        ([[101.68, 95], [101.69, 95], [101.69, 96], [101.68, 95]], "out_of_range"),
        ([[500000, 4340000], [500100, 4340000], [500100, 4340100], [500000, 4340000]], "looks_projected"),
        ([[101.68, 39.21], [101.69, "39.21"], [101.69, 39.22], [101.68, 39.21]], "not_a_number"),
        ([[101.68, 39.21], [101.69, None], [101.69, 39.22], [101.68, 39.21]], "not_a_number"),
        ([[101.68, 39.21], [101.69], [101.69, 39.22], [101.68, 39.21]], "bad_position"),
    ],
)
def test_it_refuses_bad_rings_and_positions_with_a_reason(coords, code):
    assert rejected(poly(coords)).code == code


def test_z_and_m_values_are_dropped_not_refused():
    geom = validate_geojson(json.dumps(poly([p + [1500.0, 7] for p in SQUARE])))
    assert not geom.has_z and geom.geom_type == "MultiPolygon"


@pytest.mark.parametrize(
    "data",
    [
        poly(),
        {"type": "MultiPolygon", "coordinates": []},
        poly([]),
    ],
)
def test_empty_geometries_are_refused(data):
    assert rejected(data).code == "empty"


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Point", "coordinates": [101.68, 39.21]},
        {"type": "GeometryCollection", "geometries": [poly(SQUARE)]},
        {"type": "LineString", "coordinates": SQUARE},
        {"type": "FeatureCollection", "features": []},
    ],
)
def test_only_polygons_are_accepted(data):
    assert rejected(data).code == "geometry_type"


def test_a_million_vertices_are_refused_within_a_second_both_as_text_and_parsed():
    ring = [[101.68 + i * 1e-9, 39.21] for i in range(1_000_000)]
    parsed, text = poly(ring), json.dumps(poly(ring))
    started = time.perf_counter()
    with pytest.raises(GeometryRejected) as info:
        validate_geojson(parsed)
    assert info.value.code == "too_many_vertices" and info.value.too_large
    assert rejected(text).code == "too_large"
    assert time.perf_counter() - started < 1.0


def test_deep_nesting_and_non_finite_numbers_never_reach_the_parser():
    assert rejected("[" * 100_000 + "]" * 100_000).code == "too_deep"
    assert rejected('{"type":"Polygon","coordinates":[[[1e400,0],[1,0],[1,1],[1e400,0]]]}').code == "not_a_number"
    assert rejected('{"type":"Polygon","coordinates":[[[NaN,0],[1,0],[1,1],[NaN,0]]]}').code == "not_a_number"
    assert rejected("{not json").code == "malformed_json"


def test_a_crs_other_than_wgs84_is_refused_and_a_link_is_never_followed():
    named = {**poly(SQUARE), "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}}
    linked = {**poly(SQUARE), "crs": {"type": "link", "properties": {"href": "http://127.0.0.1:9/x"}}}
    assert rejected(named).code == rejected(linked).code == "crs_not_wgs84"
    ok = {**poly(SQUARE), "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    assert validate_geojson(ok).area > 0


def test_clockwise_shells_and_repeated_vertices_are_accepted_and_normalised():
    clockwise = list(reversed(SQUARE))
    clockwise.insert(2, clockwise[1])
    geom = validate_geojson({"type": "Feature", "properties": {}, "geometry": poly(clockwise)})
    shell = geom.geoms[0].exterior
    assert shapely.is_ccw(shell) and len(shell.coords) == 5


def test_validate_shape_applies_the_same_rules_to_file_geometries():
    assert validate_shape(shapely.Polygon([(x, y, 3) for x, y in SQUARE])).geom_type == "MultiPolygon"
    with pytest.raises(GeometryRejected, match="geometry_type"):
        validate_shape(shapely.Point(101.68, 39.21))
    with pytest.raises(GeometryRejected, match="self_intersection"):
        validate_shape(shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]))


def test_load_json_caps_size_before_parsing():
    with pytest.raises(GeometryRejected) as info:
        load_json("x" * 3_000_001)
    assert info.value.code == "too_large"


def test_a_split_line_needs_two_positions():
    assert validate_line({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}).length > 0
    with pytest.raises(GeometryRejected, match="bad_line"):
        validate_line({"type": "LineString", "coordinates": [[0, 0]]})


def test_fitting_refuses_an_overlap_with_its_area_and_polygon_and_clips_on_request():
    community = shapely.box(0, 0, 0.01, 0.01)
    neighbour = shapely.box(0.005, 0, 0.01, 0.01)
    drawn = validate_shape(shapely.box(0, 0, 0.006, 0.01))
    with pytest.raises(GeometryRejected) as info:
        fit_grid(drawn, community, {1: neighbour})
    overlap = info.value.extra["overlaps"][0]
    assert info.value.code == "overlaps_siblings" and overlap["id"] == 1
    assert overlap["area_m2"] == pytest.approx(111_320 * 0.001 * 110_574 * 0.01, rel=0.01)
    assert overlap["geometry"].bounds == pytest.approx((0.005, 0, 0.006, 0.01))
    clipped = fit_grid(drawn, community, {1: neighbour}, clip=True)
    assert clipped.geometry.bounds == pytest.approx((0, 0, 0.005, 0.01))


def test_fitting_snaps_a_vertex_drawn_a_few_centimetres_off_the_neighbours_edge():
    community = shapely.box(0, 0, 0.01, 0.01)
    drawn = validate_shape(shapely.box(0, 0, 0.0050004, 0.01))  # 4 cm into the neighbour
    fit = fit_grid(drawn, community, {1: shapely.box(0.005, 0, 0.01, 0.01)})
    assert fit.geometry.bounds[2] == pytest.approx(0.005, abs=1e-9)


def test_fitting_refuses_a_shape_leaving_its_community():
    with pytest.raises(GeometryRejected) as info:
        fit_grid(validate_shape(shapely.box(0, 0, 0.02, 0.01)), shapely.box(0, 0, 0.01, 0.01), {})
    assert info.value.code == "outside_community" and info.value.extra["area_m2"] > 1000


# A gap left in the demo street by the browser test: valid, with a needle-thin spike. Densifying the whole
# polygon made GEOS 3.14 return it EMPTY, so geodesic_area_m2 said 0 m² and the report lost the gap.
SPIKED_GAP = "POLYGON ((101.67953886632309 39.20521379156694, 101.67746283485339 39.20580257228858, 101.67693919504899 39.207633, 101.68137288530372 39.207633, 101.68297131194743 39.209741444490994, 101.67953886632309 39.20521379156694), (101.679309 39.2058, 101.680409 39.207251, 101.677748 39.207251, 101.678064 39.206154, 101.679309 39.2058))"  # noqa: E501  (a real polygon, as drawn)


def test_the_geodesic_area_of_a_valid_polygon_with_a_spike_is_not_zero():
    from geodata.topology import geodesic_area_m2

    gap = shapely.from_wkt(SPIKED_GAP)
    assert gap.is_valid
    assert geodesic_area_m2(gap) == pytest.approx(43_644, rel=1e-3)


def test_load_json_refuses_bytes_that_are_not_utf8_with_a_reason():
    with pytest.raises(GeometryRejected) as info:
        load_json(b'\x8d{"type": "Polygon"}', field="body")
    assert info.value.code == "malformed_json" and info.value.field == "body" and "UTF-8" in info.value.detail
