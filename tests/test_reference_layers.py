"""Reference layers (issue #16): the synthetic city brings roads, a river, compounds and buildings; the map
layer answers by box (buildings only when zoomed in, clipped, capped); a street admin imports a layer in
any CRS and format, replacing his street's layer of that kind; wrong geometry names the row; rights hold."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile

from gridmap import policy
from gridmap.models import AuditEvent, ReferenceFeature, Street


def _layer(client, bbox):
    response = client.get("/api/layers/reference.geojson", {"bbox": ",".join(f"{v:.6f}" for v in bbox)})
    assert response.status_code == 200, response.content
    return response.json()


def _street_box(user):
    street = policy.streets_for(user).first()
    return street, street.boundary.extent


def test_the_demo_street_has_roads_water_compounds_and_buildings(db):
    kinds = set(ReferenceFeature.objects.values_list("kind", flat=True))
    assert kinds == {"road", "water", "compound", "building"}
    named = ReferenceFeature.objects.filter(kind="compound").exclude(name="")
    assert named.count() == ReferenceFeature.objects.filter(kind="compound").count() > 10


def test_a_wide_box_has_no_buildings_and_a_narrow_one_has_them_clipped(client_for, user_for):
    _street, (x0, y0, x1, y1) = _street_box(user_for("street_admin"))
    wide = _layer(client_for("planner"), (x0, y0, x1, y1))
    assert {f["properties"]["kind"] for f in wide["features"]} >= {"road", "compound"}
    assert "building" not in {f["properties"]["kind"] for f in wide["features"]}
    compound = ReferenceFeature.objects.filter(kind="compound").order_by("pk").first()
    cx0, cy0, cx1, cy1 = compound.geometry.extent
    narrow = _layer(client_for("grid_worker"), (cx0, cy0, cx1, cy1))
    kinds = [f["properties"]["kind"] for f in narrow["features"]]
    assert "building" in kinds
    margin = (max(cx1 - cx0, cy1 - cy0)) * 0.05 + 1e-6
    for feature in narrow["features"]:  # clipped to the box and its margin
        bx0, by0, bx1, by1 = shapely.geometry.shape(feature["geometry"]).bounds
        assert bx0 >= cx0 - margin and bx1 <= cx1 + margin and by0 >= cy0 - margin and by1 <= cy1 + margin


def test_the_box_is_required_and_checked(client_for):
    client = client_for("community_staff")
    assert client.get("/api/layers/reference.geojson").json()["field"] == "bbox"
    assert client.get("/api/layers/reference.geojson", {"bbox": "1,2,3"}).status_code == 400
    assert client.get("/api/layers/reference.geojson", {"bbox": "200,0,201,1"}).status_code == 400


def _gpkg(frame: gpd.GeoDataFrame) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roads.gpkg"
        frame.to_file(path, driver="GPKG")
        return path.read_bytes()


def _shapefile_zip(frame: gpd.GeoDataFrame) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        frame.to_file(Path(tmp) / "b.shp", encoding="utf-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for part in Path(tmp).iterdir():
                archive.write(part, part.name)
        return buffer.getvalue()


def _post(client, data, name, **fields):
    return client.post("/api/v1/reference-layers", {"file": SimpleUploadedFile(name, data), **fields})


def test_a_street_admin_imports_roads_in_web_mercator_and_a_second_import_replaces_them(client_for, user_for):
    street, (x0, y0, x1, y1) = _street_box(user_for("street_admin"))
    cy = (y0 + y1) / 2
    lines = [shapely.LineString([(x0, cy + d), (x1, cy + d)]) for d in (-0.001, 0.0, 0.001)]
    frame = gpd.GeoDataFrame({"name": ["甲路", "乙路", "丙路"]}, geometry=lines, crs=4326).to_crs(3857)
    client = client_for("street_admin")
    before = ReferenceFeature.objects.count()
    response = _post(client, _gpkg(frame), "roads.gpkg", kind="road", street=street.pk)
    assert response.status_code == 201, response.content
    assert response.json()["features"] == 3
    stored = ReferenceFeature.objects.filter(street=street, kind="road").order_by("name")
    assert [r.name for r in stored] == ["丙路", "乙路", "甲路"]
    assert abs(stored.get(name="乙路").geometry.centroid.y - cy) < 1e-6  # back in WGS84, where it was
    again = _post(client, _gpkg(frame.iloc[:2]), "roads.gpkg", kind="road", street=street.pk)
    assert again.status_code == 201 and again.json()["replaced"] == 3
    assert ReferenceFeature.objects.count() == before + 2
    assert AuditEvent.objects.filter(object_type="reference", object_id="road").count() == 2


def test_buildings_from_a_zipped_shapefile_in_cgcs2000(client_for, user_for):
    street, (x0, y0, x1, y1) = _street_box(user_for("street_admin"))
    c = street.boundary.point_on_surface
    boxes = [shapely.box(c.x + 0.0005 * i, c.y, c.x + 0.0005 * i + 0.0003, c.y + 0.0003) for i in range(3)]
    boxes.append(shapely.box(x1 + 0.05, y1 + 0.05, x1 + 0.051, y1 + 0.051))  # far outside the street: left out
    frame = gpd.GeoDataFrame({"名称": ["1栋", "2栋", "3栋", "远"]}, geometry=boxes, crs=4490)
    response = _post(client_for("street_admin"), _shapefile_zip(frame), "b.zip", kind="building", street=street.pk)
    assert response.status_code == 201, response.content
    assert set(ReferenceFeature.objects.filter(street=street, kind="building").values_list("name", flat=True)) == {
        "1栋",
        "2栋",
        "3栋",
    }


def test_a_wrong_geometry_names_its_row_and_saves_nothing(client_for, user_for):
    street, (x0, y0, x1, y1) = _street_box(user_for("street_admin"))
    line = shapely.LineString([(x0, y0), (x1, y1)])
    square = shapely.box(x0, y0, x0 + 0.001, y0 + 0.001)
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"name": "a"}, "geometry": json.loads(shapely.to_geojson(g))}
                for g in (square, line)
            ],
        }
    ).encode()
    before = ReferenceFeature.objects.count()
    response = _post(client_for("street_admin"), data, "c.geojson", kind="compound", street=street.pk)
    assert response.status_code == 400 and response.json()["field"] == "rows[2]"
    assert ReferenceFeature.objects.count() == before


def test_rights_planner_refused_other_street_404_city_wide_only_for_the_system_admin(client_for, user_for):
    street, (x0, y0, x1, y1) = _street_box(user_for("street_admin"))
    data = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.LineString([(x0, y0), (x1, y1)])], crs=4326)
    payload = data.to_json().encode()
    assert _post(client_for("planner"), payload, "r.geojson", kind="road", street=street.pk).status_code == 403
    other = Street.objects.exclude(pk=street.pk).first() or Street.objects.create(
        code="152922199", name="邻街道", boundary=street.boundary
    )
    assert _post(client_for("street_admin"), payload, "r.geojson", kind="road", street=other.pk).status_code == 404
    assert _post(client_for("street_admin"), payload, "r.geojson", kind="road").json()["field"] == "street"
    city = _post(client_for("system_admin"), payload, "r.geojson", kind="road")
    assert city.status_code == 201 and city.json()["street"] is None
