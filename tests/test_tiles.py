"""Vector tiles on the demo street, read back with GDAL's MVT driver (pyogrio): scope, aggregation,
planners without points, cache headers, bad coordinates."""

from __future__ import annotations

import math

import pyogrio
import pytest
from django.contrib.gis.geos import Polygon

from gridmap import policy
from gridmap.models import Household


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def bounds_of(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 2**z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def read(tmp_path, content: bytes, z: int, x: int, y: int) -> dict:
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"  # the z/x/y name georeferences the tile for GDAL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if not content:
        return {}
    return {name: pyogrio.read_dataframe(path, layer=name) for name, _ in pyogrio.list_layers(path)}


def busiest_tile(households, z: int) -> tuple[int, int, int]:
    point = households.order_by("id")[len(households) // 2].location
    return (z, *tile_of(point.x, point.y, z))


def test_anonymous_401_and_bad_coordinates_404(client, client_for):
    assert client.get("/api/tiles/grids/14/0/0.mvt").status_code == 401
    admin = client_for("street_admin")
    for url in ("/api/tiles/grids/14/16384/0.mvt", "/api/tiles/grids/23/0/0.mvt", "/api/tiles/people/14/0/0.mvt"):
        assert admin.get(url).status_code == 404, url


def test_grid_tile_holds_the_scoped_grids_with_cache_headers(client_for, user_for, tmp_path):
    user = user_for("grid_leader")
    own = policy.grids_for(user).published().first()
    z = 15
    _, x, y = busiest_tile(Household.objects.filter(grid=own), z)
    response = client_for("grid_leader").get(f"/api/tiles/grids/{z}/{x}/{y}.mvt")
    assert response.status_code == 200 and response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert response["Cache-Control"] == "private, max-age=300"
    grids = read(tmp_path, response.content, z, x, y)["grids"]
    assert set(grids["code"]) <= set(policy.grids_for(user).values_list("code", flat=True))
    assert own.code in set(grids["code"])


def test_household_points_at_high_zoom_are_scoped_and_carry_no_personal_attributes(client_for, user_for, tmp_path):
    user = user_for("grid_leader")
    mine = policy.households_for(user)
    z, x, y = busiest_tile(mine, 17)
    layers = read(tmp_path, client_for("grid_leader").get(f"/api/tiles/households/{z}/{x}/{y}.mvt").content, z, x, y)
    points = layers["households"]
    in_tile = mine.filter(location__intersects=Polygon.from_bbox(bounds_of(z, x, y)))
    assert sorted(points["mvt_id"]) == sorted(in_tile.values_list("id", flat=True))
    assert set(points.columns) <= {"mvt_id", "grid_id", "central", "linked", "geometry"}  # mvt_id: the feature id


def test_low_zoom_and_planners_get_counts_per_cell_only(client_for, user_for, tmp_path):
    households = policy.households_for(user_for("street_admin"))
    z, x, y = busiest_tile(households, 12)
    admin = read(tmp_path, client_for("street_admin").get(f"/api/tiles/households/{z}/{x}/{y}.mvt").content, z, x, y)
    assert set(admin) == {"household_cells"}
    in_tile = households.filter(location__intersects=Polygon.from_bbox(bounds_of(z, x, y))).count()
    assert admin["household_cells"]["count"].sum() == in_tile > 0
    z, x, y = busiest_tile(households, 17)
    planner = read(tmp_path / "p", client_for("planner").get(f"/api/tiles/households/{z}/{x}/{y}.mvt").content, z, x, y)
    assert set(planner) == {"household_cells"}
    cells = planner["household_cells"]
    assert (cells["count"].isna() == cells["small"].astype(bool)).all()
    assert cells["count"].dropna().min() >= 5


@pytest.mark.parametrize("z", [0, 8, 12, 14, 16, 20])
def test_every_zoom_answers_a_small_tile(client_for, user_for, z):
    households = policy.households_for(user_for("system_admin"))
    _, x, y = busiest_tile(households, z)
    for layer in ("grids", "households"):
        response = client_for("system_admin").get(f"/api/tiles/{layer}/{z}/{x}/{y}.mvt")
        assert response.status_code == 200 and len(response.content) <= 500_000
