"""Coverage checks on hand-made rectangles whose areas are computed by hand (no database)."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
from shapely import Polygon, box

from geodata.topology import coverage_gaps_overlaps, geodesic_area_m2

# A 0.01° x 0.01° square near Badanjilin town, split in two rectangles that overlap on a 0.001° strip
# and leave a 0.001° strip uncovered on the east side:
#
#   101.680      101.685 101.686     101.689 101.690
#      | A ........|=overlap=|.... B ......| gap |
LAT0, LAT1 = 39.20, 39.21
PARENT = box(101.680, LAT0, 101.690, LAT1)
WEST = box(101.680, LAT0, 101.686, LAT1)
EAST = box(101.685, LAT0, 101.689, LAT1)


def strip_area_m2(width_deg: float, lat0: float = LAT0, lat1: float = LAT1) -> float:
    """Hand formula: a small lon/lat rectangle is (N cos φ dλ) x (M dφ) at its middle latitude on WGS84."""
    a, f = 6_378_137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = math.radians((lat0 + lat1) / 2)
    w = 1 - e2 * math.sin(phi) ** 2
    meridian, normal = a * (1 - e2) / w**1.5, a / math.sqrt(w)
    return normal * math.cos(phi) * math.radians(width_deg) * meridian * math.radians(lat1 - lat0)


def test_it_measures_the_gap_and_the_overlap_in_square_metres():
    report = coverage_gaps_overlaps(PARENT, [WEST, EAST])

    expected = strip_area_m2(0.001)  # about 95,900 m² at 39.2°N
    assert len(report.gaps) == 1 and len(report.overlaps) == 1
    gap, gap_area = report.gaps[0]
    assert gap_area == pytest.approx(expected, rel=0.01)
    assert gap.bounds == pytest.approx((101.689, LAT0, 101.690, LAT1))
    a, b, shared, shared_area = report.overlaps[0]
    assert (a, b) == (0, 1)
    assert shared_area == pytest.approx(expected, rel=0.01)
    assert shared.bounds == pytest.approx((101.685, LAT0, 101.686, LAT1))


def test_it_reports_the_share_of_the_parent_covered():
    report = coverage_gaps_overlaps(PARENT, [WEST, EAST])

    assert report.territory_coverage == pytest.approx(0.9, abs=1e-4)
    assert report.parent_area_m2 == pytest.approx(strip_area_m2(0.01), rel=0.01)
    assert not report.is_clean


def test_it_names_overlapping_children_by_their_ids():
    by_kw = coverage_gaps_overlaps(PARENT, [WEST, EAST], ids=["152922100001001", "152922100001002"])
    by_index = coverage_gaps_overlaps(PARENT, gpd.GeoSeries([WEST, EAST], index=["w", "e"], crs=4326))

    assert by_kw.overlaps[0][:2] == ("152922100001001", "152922100001002")
    assert by_index.overlaps[0][:2] == ("w", "e")


def test_it_finds_nothing_wrong_with_an_exact_tiling():
    halves = [box(101.680, LAT0, 101.685, LAT1), box(101.685, LAT0, 101.690, LAT1)]

    report = coverage_gaps_overlaps(PARENT, halves)

    assert report.is_clean
    assert report.territory_coverage == pytest.approx(1.0, abs=1e-9)


def test_it_ignores_pieces_below_the_tolerance_but_not_above_it():
    # a strip 0.01° long and 0.000000005° wide is about 0.5 m², one 0.00001° wide about 960 m²
    sliver = [box(101.680, LAT0, 101.690 - 5e-9, LAT1)]
    strip = [box(101.680, LAT0, 101.68999, LAT1)]

    assert coverage_gaps_overlaps(PARENT, sliver).gaps == []
    assert len(coverage_gaps_overlaps(PARENT, sliver, tolerance_m2=0.1).gaps) == 1
    [(_, area)] = coverage_gaps_overlaps(PARENT, strip).gaps
    assert area == pytest.approx(strip_area_m2(0.00001), rel=0.01)


def test_it_reports_children_that_spill_outside_the_parent():
    spilling = box(101.685, LAT0, 101.691, LAT1)

    report = coverage_gaps_overlaps(PARENT, [WEST, spilling])

    [(child, piece, area)] = report.outside
    assert child == 1
    assert area == pytest.approx(strip_area_m2(0.001), rel=0.01)
    assert piece.bounds == pytest.approx((101.690, LAT0, 101.691, LAT1))


def test_geodesic_area_depends_on_latitude_like_the_hand_formula():
    for lat in (0.0, 39.2, 60.0):
        cell = box(101.0, lat, 101.01, lat + 0.01)
        assert geodesic_area_m2(cell) == pytest.approx(strip_area_m2(0.01, lat, lat + 0.01), rel=0.001)
    assert geodesic_area_m2(box(101.0, 60.0, 101.01, 60.01)) < 0.6 * geodesic_area_m2(box(101.0, 0, 101.01, 0.01))


def test_geodesic_area_subtracts_holes_whatever_the_ring_orientation():
    outer = [(101.68, 39.20), (101.69, 39.20), (101.69, 39.21), (101.68, 39.21)]
    hole = [(101.684, 39.204), (101.685, 39.204), (101.685, 39.205), (101.684, 39.205)]
    expected = strip_area_m2(0.01) - strip_area_m2(0.001, 39.204, 39.205)

    for ring, inner in [(outer, hole), (outer[::-1], hole[::-1]), (outer, hole[::-1])]:
        assert geodesic_area_m2(Polygon(ring, [inner])) == pytest.approx(expected, rel=0.01)


def test_it_rejects_invalid_or_projected_geometry_with_the_reason():
    bow_tie = Polygon([(101.68, 39.20), (101.69, 39.21), (101.69, 39.20), (101.68, 39.21)])
    projected = box(500_000, 4_340_000, 501_000, 4_341_000)

    with pytest.raises(ValueError, match="Self-intersection"):
        coverage_gaps_overlaps(PARENT, [WEST, bow_tie])
    with pytest.raises(ValueError, match="EPSG:4326"):
        coverage_gaps_overlaps(projected, [WEST])
    with pytest.raises(ValueError, match="LinearRing, expected Polygon"):
        coverage_gaps_overlaps(PARENT, [WEST.exterior])
