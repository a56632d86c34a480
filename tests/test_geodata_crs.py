"""Coordinate conversion for imports: WGS84 / CGCS2000 pass through, GCJ-02 and BD-09 are undone."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.crs import from_wgs84, normalise_crs, to_wgs84

# AMap's coordinate-convert documentation example: GPS (WGS84) 116.481499,39.990475 is
# GCJ-02 116.487585177952,39.991754014757 (their service and the open formula agree to a few cm).
AMAP_WGS84 = (116.481499, 39.990475)
AMAP_GCJ02 = (116.487585177952, 39.991754014757)


def test_it_converts_amaps_documented_gcj02_point_back_to_wgs84():
    lon, lat = to_wgs84([AMAP_GCJ02[0]], [AMAP_GCJ02[1]], "GCJ02")
    assert lon[0] == pytest.approx(AMAP_WGS84[0], abs=1e-5)
    assert lat[0] == pytest.approx(AMAP_WGS84[1], abs=1e-5)


def test_it_offsets_wgs84_into_gcj02_by_hundreds_of_metres():
    lon, lat = from_wgs84([AMAP_WGS84[0]], [AMAP_WGS84[1]], "GCJ02")
    assert lon[0] == pytest.approx(AMAP_GCJ02[0], abs=1e-5)
    assert lat[0] == pytest.approx(AMAP_GCJ02[1], abs=1e-5)
    metres = np.hypot((lon[0] - AMAP_WGS84[0]) * 85_000, (lat[0] - AMAP_WGS84[1]) * 111_000)
    assert 100 < metres < 700


@pytest.mark.parametrize("crs", ["GCJ02", "BD09"])
def test_a_round_trip_closes_to_a_tenth_of_a_millimetre(crs):
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(75, 134, 2_000), rng.uniform(18, 53, 2_000)
    back_lon, back_lat = to_wgs84(*from_wgs84(lon, lat, crs), crs)
    assert np.abs(back_lon - lon).max() < 1e-8
    assert np.abs(back_lat - lat).max() < 1e-8


def test_bd09_is_gcj02_plus_baidus_own_offset():
    gcj = from_wgs84([101.68], [39.21], "GCJ02")
    bd = from_wgs84([101.68], [39.21], "BD09")
    assert 0.005 < bd[0][0] - gcj[0][0] < 0.008 and 0.004 < bd[1][0] - gcj[1][0] < 0.008


@pytest.mark.parametrize("crs", ["WGS84", "cgcs2000"])
def test_wgs84_and_cgcs2000_pass_through_unchanged(crs):
    lon, lat = to_wgs84([101.6812, 101.7], [39.2134, 39.3], crs)
    assert lon.tolist() == [101.6812, 101.7] and lat.tolist() == [39.2134, 39.3]


def test_points_outside_china_are_not_offset():
    lon, lat = to_wgs84([2.35], [48.85], "GCJ02")
    assert (lon[0], lat[0]) == (2.35, 48.85)


def test_it_names_the_accepted_systems_for_an_unknown_one():
    with pytest.raises(ValueError, match="WGS84, CGCS2000, GCJ02, BD09"):
        normalise_crs("EPSG:3857")
    assert normalise_crs("gcj-02") == "GCJ02" and normalise_crs("bd_09") == "BD09"


def test_it_refuses_non_finite_coordinates():
    with pytest.raises(ValueError, match="finite"):
        to_wgs84([np.nan], [39.0], "GCJ02")


def test_empty_arrays_convert_to_empty_arrays():
    lon, lat = to_wgs84([], [], "BD09")
    assert lon.shape == (0,) and lat.shape == (0,)
