"""Grid import from GeoJSON, GeoPackage, zipped Shapefile and KML: dry run, all-or-nothing, hostile files."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pytest
import shapely
from django.test import Client

from gridmap.models import Grid, Profile, Role

EAST = "110105001001"


@pytest.fixture
def east(small_street, django_user_model):
    """东社区 with its two grids' shapes made drafts of half size, leaving 116.4025-116.405 free."""
    user = django_user_model.objects.create_user("jd_import")
    Profile.objects.create(user=user, role=Role.STREET_ADMIN, street=small_street["street"])
    from django.contrib.gis.geos import MultiPolygon, Polygon

    Grid.objects.filter(pk=small_street["grids"]["110105001001001"].pk).update(
        draft_boundary=MultiPolygon(Polygon.from_bbox((116.4, 39.9, 116.4025, 39.908)), srid=4326)
    )
    c = Client()
    c.force_login(user)
    return c, small_street["communities"][EAST]


def upload(c: Client, community, data: bytes, name: str, **fields):
    return c.post(f"/api/v1/communities/{community.pk}/grid-import", {"file": _named(data, name), **fields})


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


FREE_NORTH = shapely.box(116.4025, 39.904, 116.405, 39.908)
FREE_SOUTH = shapely.box(116.4025, 39.9, 116.405, 39.904)


def frame(*shapes, names=("北片", "南片")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": list(names[: len(shapes)])}, geometry=list(shapes), crs=4326)


def as_file(gdf: gpd.GeoDataFrame, driver: str, tmp_path, suffix: str) -> bytes:
    path = tmp_path / f"grids{suffix}"
    gdf.to_file(path, driver=driver)
    return path.read_bytes()


def test_a_geojson_dry_run_previews_then_the_real_run_creates_drafts(east):
    c, community = east
    data = frame(FREE_NORTH, FREE_SOUTH).to_json().encode()
    before = Grid.objects.count()
    preview = upload(c, community, data, "grids.geojson")
    assert preview.status_code == 200 and preview.json()["dry_run"] is True
    assert [r["name"] for r in preview.json()["rows"]] == ["北片", "南片"] and Grid.objects.count() == before
    created = upload(c, community, data, "grids.geojson", dry_run="0")
    assert created.status_code == 201 and len(created.json()["created"]) == 2
    assert set(Grid.objects.filter(status="draft").values_list("name", flat=True)) == {"北片", "南片"}


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_row(east):
    c, community = east
    overlapping = shapely.box(116.403, 39.9, 116.406, 39.903)  # into the published 2nd grid
    data = frame(FREE_NORTH, overlapping).to_json().encode()
    response = upload(c, community, data, "grids.geojson", dry_run="0")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["row"] == 2 and error["code"] == "overlaps_siblings"
    assert not Grid.objects.filter(status="draft").exists()


def test_rows_of_one_file_may_not_overlap_each_other(east):
    c, community = east
    data = frame(FREE_NORTH, FREE_NORTH.buffer(-0.0005)).to_json().encode()
    errors = upload(c, community, data, "grids.geojson").json()["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [(2, "overlaps_siblings")]


def test_geopackage_zipped_shapefile_and_kml_are_read(east, tmp_path):
    c, community = east
    gdf = frame(FREE_NORTH)
    gpkg = as_file(gdf, "GPKG", tmp_path, ".gpkg")
    kml = as_file(gdf, "KML", tmp_path, ".kml")
    gdf.to_file(tmp_path / "grids.shp", encoding="UTF-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            if (tmp_path / f"grids{suffix}").exists():
                archive.write(tmp_path / f"grids{suffix}", f"folder/grids{suffix}")
    for data, name in ((gpkg, "a.gpkg"), (kml, "a.kml"), (buffer.getvalue(), "a.zip")):
        response = upload(c, community, data, name)
        assert response.status_code == 200, (name, response.json())
        assert response.json()["rows"][0]["name"] == "北片", name


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ({"../evil.shp": b"x"}, "zip_unsafe_entry"),
        ({"/etc/evil.shp": b"x"}, "zip_unsafe_entry"),
        ({"C:\\evil.shp": b"x"}, "zip_unsafe_entry"),
        ({"a.shp": b"x", "a.dbf": b"x"}, "shapefile_part_missing"),
        ({f"f{i}.txt": b"x" for i in range(25)}, "zip_too_many_entries"),
        ({"a.shp": b"\0" * 5_000_000, "a.shx": b"x", "a.dbf": b"x"}, "zip_bomb"),
    ],
)
def test_hostile_zips_are_refused_before_anything_is_extracted(east, entries, code, tmp_path):
    c, community = east
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    response = upload(c, community, buffer.getvalue(), "a.zip")
    assert response.status_code in (400, 413) and response.json()["code"] == code
    assert not (tmp_path.parent / "evil.shp").exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<html><body>not a map</body></html>", "unsupported_format"),
        (b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa">]><kml>&a;</kml>', "xml_entities"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "unreadable_file"),
        (b'{"type": "FeatureCollection", "features": []}', "no_features"),
    ],
)
def test_files_that_lie_about_their_kind_are_refused(east, data, code):
    c, community = east
    response = upload(c, community, data, "grids.shp")
    assert response.status_code == 400 and response.json()["code"] == code


def test_a_shapefile_without_prj_needs_a_declared_crs(east, tmp_path):
    c, community = east
    frame(FREE_NORTH).to_file(tmp_path / "g.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for suffix in (".shp", ".shx", ".dbf"):
            archive.write(tmp_path / f"g{suffix}", f"g{suffix}")
    refused = upload(c, community, buffer.getvalue(), "g.zip")
    assert refused.status_code == 400 and refused.json()["code"] == "crs_required"
    assert upload(c, community, buffer.getvalue(), "g.zip", source_crs="CGCS2000").status_code == 200


def test_readers_may_not_import(small_street, django_user_model):
    user = django_user_model.objects.create_user("gh_import")
    Profile.objects.create(user=user, role=Role.PLANNER, street=small_street["street"])
    c = Client()
    c.force_login(user)
    data = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    assert upload(c, small_street["communities"][EAST], data, "a.geojson").status_code == 403
