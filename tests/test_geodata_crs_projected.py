"""Projected systems of survey files: CGCS2000 3° Gauss-Krüger (with and without the zone prefix) and Web
Mercator. Expected values come from a second path, not from the code under test: closed-form Web Mercator,
the GRS80 meridian arc integrated numerically here, symmetry about the central meridian, and PROJ
pipelines written from the published zone parameters instead of the EPSG codes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Transformer

from geodata.crs import from_wgs84, resolve_crs, to_wgs84

GRS80_A = 6378137.0
GRS80_F = 1 / 298.257222101
R_SPHERE = 6378137.0


def meridian_arc(lat_deg: float) -> float:
    """Distance along the GRS80 meridian from the equator, by Simpson's rule on 20,000 intervals."""
    e2 = GRS80_F * (2 - GRS80_F)
    phi = np.linspace(0.0, math.radians(lat_deg), 20_001)
    f = GRS80_A * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    h = phi[1] - phi[0]
    return float(h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum()))


def test_web_mercator_matches_the_closed_form_spherical_formula():
    lon, lat = np.array([116.391, 101.68, -73.98]), np.array([39.907, 39.21, 40.75])
    x, y = from_wgs84(lon, lat, "EPSG:3857")
    assert np.allclose(x, R_SPHERE * np.radians(lon), atol=1e-3)
    assert np.allclose(y, R_SPHERE * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)), atol=1e-3)
    back_lon, back_lat = to_wgs84(
        R_SPHERE * np.radians(lon), R_SPHERE * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)), "Web Mercator"
    )
    assert np.abs(back_lon - lon).max() < 1e-9 and np.abs(back_lat - lat).max() < 1e-9


@pytest.mark.parametrize(
    ("declared", "zone", "prefixed"),
    [
        ("EPSG:4547", 38, False),
        ("GK3-CM114", 38, False),
        ("gk3-38", 38, False),
        ("EPSG:4526", 38, True),
        ("EPSG:4549", 40, False),
        ("EPSG:4528", 40, True),
    ],
)
def test_a_point_on_the_central_meridian_lies_at_the_false_easting_and_the_meridian_arc(declared, zone, prefixed):
    easting = 500_000.0 + (zone * 1_000_000 if prefixed else 0)
    for lat in (22.5, 30.0, 39.9):
        x, y = from_wgs84([3.0 * zone], [lat], declared)
        assert x[0] == pytest.approx(easting, abs=1e-3)
        assert y[0] == pytest.approx(meridian_arc(lat), abs=1e-3)
        lon_back, lat_back = to_wgs84([easting], [meridian_arc(lat)], declared)
        assert lon_back[0] == pytest.approx(3.0 * zone, abs=1e-9) and lat_back[0] == pytest.approx(lat, abs=1e-9)


def test_points_either_side_of_the_central_meridian_mirror_each_other():
    x, y = from_wgs84([114 - 1.2, 114 + 1.2], [30.5, 30.5], "EPSG:4547")
    assert x[0] + x[1] == pytest.approx(1_000_000.0, abs=1e-6)
    assert y[0] == pytest.approx(y[1], abs=1e-6)
    assert 500_000 - x[0] == pytest.approx(115_000, rel=0.02)  # 1.2° of longitude at 30.5°N is ~115 km


@pytest.mark.parametrize("zone", [25, 38, 39, 45])
def test_every_zone_agrees_with_a_pipeline_written_from_the_published_parameters(zone):
    rng = np.random.default_rng(zone)
    lon = 3.0 * zone + rng.uniform(-1.5, 1.5, 500)
    lat = rng.uniform(18, 53, 500)
    for prefixed, epsg in ((True, 4513 + zone - 25), (False, 4534 + zone - 25)):
        false_easting = 500_000 + (zone * 1_000_000 if prefixed else 0)
        pipeline = Transformer.from_crs(
            "EPSG:4326",
            f"+proj=tmerc +lat_0=0 +lon_0={3 * zone} +k=1 +x_0={false_easting} +y_0=0 +ellps=GRS80",
            always_xy=True,
        )
        ex, ey = pipeline.transform(lon, lat)
        x, y = from_wgs84(lon, lat, f"EPSG:{epsg}")
        assert np.abs(x - ex).max() < 1e-4 and np.abs(y - ey).max() < 1e-4
        back_lon, back_lat = to_wgs84(x, y, f"EPSG:{epsg}")
        assert np.abs(back_lon - lon).max() < 1e-9 and np.abs(back_lat - lat).max() < 1e-9


def test_a_prefixed_zone_is_read_from_x_and_gives_the_same_point_as_the_declared_zone():
    x, y = np.array([512_345.678, 498_000.0]), np.array([3_320_000.0, 4_420_000.0])
    assert resolve_crs("GK3", x + 38_000_000) == "EPSG:4526"
    prefixed = to_wgs84(x + 38_000_000, y, "GK3")
    plain = to_wgs84(x, y, "GK3-38")
    assert np.allclose(prefixed, plain, atol=1e-12)


def test_coordinates_without_prefix_need_the_zone_declared():
    with pytest.raises(ValueError, match="declare the zone or central meridian"):
        to_wgs84([512_345.0], [3_320_000.0], "GK3")
    with pytest.raises(ValueError, match="declare the zone"):
        resolve_crs("CGCS2000 GK3")


@pytest.mark.parametrize(
    ("declared", "x", "message"),
    [
        ("GK3-39", [38_512_345.0], "declared zone 39 but the x values carry zone prefix 38"),
        ("GK3", [38_512_345.0, 39_500_000.0], "several Gauss-Krüger zone prefixes"),
        ("GK3", [38_512_345.0, 500_000.0], "some x values carry a Gauss-Krüger zone prefix"),
        ("GK3", [12_500_000.0], "not a Gauss-Krüger zone of China"),
        ("GK3-CM115", None, "not one of a 3° zone"),
        ("GK3-50", None, "outside China's zones"),
        ("EPSG:4547", [38_512_345.0], "has no zone prefix"),
        ("EPSG:4526", [512_345.0], "expects x values prefixed with zone 38"),
        ("EPSG:2383", None, "unsupported coordinate system"),
        ("Beijing54", None, "unknown coordinate system"),
    ],
)
def test_contradictory_or_unknown_declarations_are_refused_with_the_reason(declared, x, message):
    with pytest.raises(ValueError, match=message):
        resolve_crs(declared, x)


def test_lon_lat_names_still_resolve_to_themselves():
    assert [resolve_crs(n) for n in ("wgs-84", "EPSG:4326", "EPSG:4490", "gcj_02", "BD09")] == [
        "WGS84",
        "WGS84",
        "CGCS2000",
        "GCJ02",
        "BD09",
    ]
