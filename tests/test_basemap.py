"""The base map served by the app (TILE_URL=/basemap/{z}/{x}/{y}.png): from a z/x/y directory or an MBTiles
file (TMS rows), only to signed-in users, 404 for a missing tile, an unknown type or coordinates off the
zoom's range."""

from __future__ import annotations

import sqlite3

import pytest
from django.test import Client

PNG = b"\x89PNG\r\n\x1a\n" + b"tile-bytes"


@pytest.fixture
def tile_dir(tmp_path, settings):
    (tmp_path / "14" / "13010").mkdir(parents=True)
    (tmp_path / "14" / "13010" / "6210.png").write_bytes(PNG)
    settings.BASEMAP_DIR, settings.BASEMAP_MBTILES = str(tmp_path), ""
    return tmp_path


def test_a_tile_from_a_directory(client_for, tile_dir):
    user = client_for("grid_worker")
    response = user.get("/basemap/14/13010/6210.png")
    assert response.status_code == 200 and response.content == PNG and response["Content-Type"] == "image/png"
    assert user.get("/basemap/14/13010/6211.png").status_code == 404  # not in the tree
    assert user.get("/basemap/14/13010/6210.exe").status_code == 404  # no other type
    assert user.get("/basemap/3/8/0.png").status_code == 404  # x off the zoom's range
    assert Client().get("/basemap/14/13010/6210.png").status_code == 302  # signed-in users only


def test_a_tile_from_an_mbtiles_file_with_tms_rows(client_for, tmp_path, settings):
    path = tmp_path / "city.mbtiles"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tiles (zoom_level int, tile_column int, tile_row int, tile_data blob)")
        db.execute("INSERT INTO tiles VALUES (14, 13010, ?, ?)", ((1 << 14) - 1 - 6210, PNG))
    settings.BASEMAP_DIR, settings.BASEMAP_MBTILES = "", str(path)
    user = client_for("planner")
    assert user.get("/basemap/14/13010/6210.png").content == PNG
    assert user.get("/basemap/14/13010/6209.png").status_code == 404
