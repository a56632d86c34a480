"""Imports of streets, communities and service stations: dry run, all or nothing, the one validator, rights,
audit; every export format imported back gives the same data; hostile files get a 4xx and save nothing."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import MultiPolygon, Polygon

from geodata.crs import from_wgs84
from gridmap.models import AuditEvent, Community, ServiceStation, Street
from tests.exchange_support import EAST, download, small_people, upload, zipped  # noqa: F401  (fixture)

NEW_STREET = (116.50, 39.95, 116.52, 39.96)


@pytest.fixture
def new_street(db):
    return Street.objects.create(
        code="110105002", name="新街道", boundary=MultiPolygon(Polygon.from_bbox(NEW_STREET), srid=4326)
    )


def geojson(*features) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}
                for props, geom in features
            ],
        },
        ensure_ascii=False,
    ).encode()


def counts():
    return Street.objects.count(), Community.objects.count(), ServiceStation.objects.count()


WEST_HALF, EAST_HALF = shapely.box(116.50, 39.95, 116.51, 39.96), shapely.box(116.51, 39.95, 116.52, 39.96)


def test_a_dry_run_previews_communities_then_the_real_run_creates_them_and_audits(small_people, new_street):
    client = small_people["system_admin"]
    data = geojson(
        ({"code": "110105002001", "name": "甲社区"}, WEST_HALF), ({"code": "110105002201", "name": "乙村"}, EAST_HALF)
    )
    before = counts()
    preview = upload(client, "communities", data, "c.geojson")
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["dry_run"] and [r["action"] for r in body["rows"]] == ["create", "create"]
    assert counts() == before
    response = upload(client, "communities", data, "c.geojson", dry_run="0")
    assert response.status_code == 201 and response.json()["created"] == 2
    made = {c.code: c for c in Community.objects.filter(street=new_street)}
    assert made["110105002001"].kind == "urban" and made["110105002201"].kind == "rural"  # docs/domain.md village part
    event = AuditEvent.objects.filter(action="import", object_type="communities").latest("id")
    assert (event.object_id, event.fields, event.reason) == ("+2 ~0", "rows=2", "c.geojson")


@pytest.mark.parametrize(
    ("props", "geom", "field", "code"),
    [
        ({"code": "11010500200", "name": "短"}, WEST_HALF, "code", "code_format"),
        ({"code": "110105002400", "name": "村级超范围"}, WEST_HALF, "code", "code_village_part"),
        ({"code": "110105003001", "name": "别的街道"}, WEST_HALF, "code", "street_not_in_scope"),
        (
            {"code": "110105002001", "name": "出界"},
            shapely.box(116.50, 39.95, 116.53, 39.96),
            "geometry",
            "outside_street",
        ),
        (
            {"code": "110105002001", "name": "自相交"},
            shapely.Polygon([(116.50, 39.95), (116.51, 39.96), (116.51, 39.95), (116.50, 39.96)]),
            "geometry",
            "self_intersection",
        ),
        ({"code": "110105002001", "name": "x" * 10_000}, WEST_HALF, "name", "too_long"),
        ({"code": "110105002001", "name": "\u202e反向"}, WEST_HALF, "name", "bidi_control"),
        ({"code": "110105002001", "name": ""}, WEST_HALF, "name", "required"),
    ],
)
def test_a_bad_community_row_is_named_and_nothing_is_saved(small_people, new_street, props, geom, field, code):
    good = ({"code": "110105002201", "name": "好村"}, EAST_HALF)
    before = counts()
    response = upload(
        small_people["system_admin"], "communities", geojson(good, (props, geom)), "c.geojson", dry_run="0"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [(2, field, code)]
    assert counts() == before
    assert AuditEvent.objects.filter(action="import", result="refused").latest("id").object_type == "communities"


def test_a_nul_byte_is_refused_in_a_geojson_file_and_in_a_table_row(small_people, small_street, new_street):
    before = counts()
    data = geojson(({"code": "110105002001", "name": "空\x00字节"}, WEST_HALF))
    response = upload(small_people["system_admin"], "communities", data, "c.geojson", dry_run="0")
    assert response.status_code == 400 and response.json()["code"] == "nul_byte"
    csv = "名称,经度,纬度,坐标系\n空\x00字节,116.403,39.905,WGS84\n".encode()
    response = upload(small_people["street_admin"], "stations", csv, "s.csv", dry_run="0")
    assert response.status_code == 400
    assert [(e["row"], e["field"], e["code"]) for e in response.json()["errors"]] == [(2, "name", "nul_byte")]
    assert counts() == before


def test_communities_in_one_file_must_not_overlap_each_other(small_people, new_street):
    data = geojson(
        ({"code": "110105002001", "name": "甲"}, WEST_HALF),
        ({"code": "110105002002", "name": "乙"}, shapely.box(116.505, 39.95, 116.52, 39.96)),
        ({"code": "110105002001", "name": "重复"}, EAST_HALF),
    )
    body = upload(small_people["system_admin"], "communities", data, "c.geojson").json()
    assert [(e["row"], e["code"]) for e in body["errors"]] == [(2, "overlaps_communities"), (3, "duplicate_code")]
    overlap = body["errors"][0]["detail"]  # the partner row, the area and a point inside the overlap
    assert "与相邻社区重叠" in overlap and "第 1 行（110105002001）" in overlap and "m² @ 116.50" in overlap
    assert "网格" not in overlap


def test_a_street_admin_imports_communities_only_into_his_street(small_people, new_street):
    data = geojson(({"code": "110105002001", "name": "甲"}, WEST_HALF))
    body = upload(small_people["street_admin"], "communities", data, "c.geojson").json()
    assert [e["code"] for e in body["errors"]] == ["street_not_in_scope"]


@pytest.mark.parametrize("role", ["community_staff", "planner"])
def test_only_system_and_street_admins_import(small_people, role):
    data = geojson(({"code": "110105001003", "name": "甲"}, WEST_HALF))
    for layer in ("communities", "stations", "streets"):
        assert upload(small_people[role], layer, data, "c.geojson").status_code == 403


def test_streets_are_imported_by_the_system_admin_only_and_may_not_overlap(small_people, small_street):
    data = geojson(({"code": "110105009", "name": "新区街道"}, shapely.box(116.60, 39.95, 116.62, 39.96)))
    assert upload(small_people["street_admin"], "streets", data, "s.geojson").status_code == 403
    overlapping = geojson(({"code": "110105009", "name": "重叠"}, shapely.box(116.41, 39.90, 116.43, 39.91)))
    body = upload(small_people["system_admin"], "streets", overlapping, "s.geojson").json()
    assert [e["code"] for e in body["errors"]] == ["overlaps_streets"]
    assert "与相邻街道重叠" in body["errors"][0]["detail"] and "网格" not in body["errors"][0]["detail"]
    response = upload(small_people["system_admin"], "streets", data, "s.geojson", dry_run="0")
    assert response.status_code == 201 and Street.objects.filter(code="110105009", name="新区街道").exists()


def test_a_street_boundary_that_would_leave_its_communities_outside_is_refused(small_people, small_street):
    shrunk = geojson(({"code": "110105001", "name": "测试街道"}, shapely.box(116.40, 39.90, 116.41, 39.908)))
    body = upload(small_people["system_admin"], "streets", shrunk, "s.geojson").json()
    assert [(e["code"], e["detail"].endswith("110105001002）")) for e in body["errors"]] == [("children_outside", True)]


def test_stations_from_csv_convert_each_rows_coordinate_system_and_find_their_community(small_people, small_street):
    gcj = from_wgs84([116.403], [39.905], "GCJ02")
    csv = (
        f"名称,类型,经度,纬度,坐标系,服务半径(米)\n东站二,便民服务站,{float(gcj[0][0])!r},{float(gcj[1][0])!r},GCJ-02,300\n"
        "西站,党群服务站,116.415,39.905,WGS84,\n"
    ).encode("utf-8-sig")
    response = upload(small_people["street_admin"], "stations", csv, "stations.csv", dry_run="0")
    assert response.status_code == 201, response.content
    east = ServiceStation.objects.get(name="东站二")
    assert (east.location.x, east.location.y) == pytest.approx((116.403, 39.905), abs=1e-8)
    assert (east.kind, east.radius_m, east.community.code) == ("convenience", 300, EAST)
    assert ServiceStation.objects.get(name="西站").radius_m == 500


@pytest.mark.parametrize(
    ("row", "field", "code"),
    [
        ("站,,116.43,39.905,WGS84,", "geometry", "outside_scope"),
        ("站,,116.403,39.905,WGS84,-5", "radius_m", "bad_number"),
        ("站,卫星站,116.403,39.905,WGS84,", "kind", "bad_kind"),
    ],
)
def test_a_bad_station_row_is_named_and_nothing_is_saved(small_people, small_street, row, field, code):
    before = counts()
    csv = f"名称,类型,经度,纬度,坐标系,服务半径\n{row}\n".encode()
    response = upload(small_people["street_admin"], "stations", csv, "s.csv", dry_run="0")
    assert response.status_code == 400
    assert [(e["row"], e["field"], e["code"]) for e in response.json()["errors"]] == [(2, field, code)]
    assert counts() == before


def test_a_station_table_without_a_coordinate_system_is_refused(small_people, small_street):
    response = upload(small_people["street_admin"], "stations", "名称,经度,纬度\n站,116.403,39.905\n".encode(), "s.csv")
    assert response.status_code == 400 and response.json()["code"] == "crs_required"
    ok = upload(
        small_people["street_admin"],
        "stations",
        "名称,经度,纬度\n站,116.403,39.905\n".encode(),
        "s.csv",
        source_crs="WGS84",
    )
    assert ok.status_code == 200


# -- Export, then import: the same data -------------------------------------------------------------------

FORMATS = ("geojson", "gpkg", "shp", "xlsx", "csv")


def _stored(model, key):
    return {getattr(o, key): o for o in model.objects.all()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_communities_exported_and_imported_again_are_unchanged(small_people, small_street, fmt):
    client = small_people["street_admin"]
    Community.objects.filter(code=EAST).update(name='=HYPERLINK("http://x","东")')
    before = {
        c.code: (c.name, shapely.from_wkb(bytes(c.boundary.wkb)))
        for c in Community.objects.filter(street=small_street["street"])
    }
    _, body = download(client, "communities", fmt)
    response = upload(client, "communities", body, f"c.{fmt}", dry_run="0")
    assert response.status_code == 201, response.content
    assert (response.json()["created"], response.json()["updated"]) == (0, 2)
    for code, (name, shape) in before.items():
        after = Community.objects.get(code=code)
        assert after.name == name
        a, b = shapely.normalize(shapely.from_wkb(bytes(after.boundary.wkb))), shapely.normalize(shape)
        assert np.abs(shapely.get_coordinates(a) - shapely.get_coordinates(b)).max() < 1e-7


@pytest.mark.parametrize("fmt", FORMATS)
def test_stations_exported_and_imported_again_are_unchanged(small_people, small_street, fmt):
    client = small_people["street_admin"]
    ServiceStation.objects.filter(pk=small_street["station"].pk).update(
        name="@SUM(1) 东社区站", services="法律咨询;家政服务", opening_hours="=8:30-17:30"
    )
    station = ServiceStation.objects.get(pk=small_street["station"].pk)
    _, body = download(client, "stations", fmt)
    response = upload(client, "stations", body, f"s.{fmt}", dry_run="0")
    assert response.status_code == 201, response.content
    assert (response.json()["created"], response.json()["updated"]) == (0, 1)
    after = ServiceStation.objects.get(pk=station.pk)
    assert (after.name, after.services, after.opening_hours, after.kind, after.radius_m, after.active) == (
        station.name,
        station.services,
        station.opening_hours,
        station.kind,
        station.radius_m,
        station.active,
    )
    assert abs(after.location.x - station.location.x) < 1e-7 and abs(after.location.y - station.location.y) < 1e-7


@pytest.mark.parametrize("fmt", FORMATS)
def test_streets_exported_and_imported_again_are_unchanged(small_people, small_street, fmt):
    client = small_people["street_admin"]
    _, body = download(client, "streets", fmt)
    response = upload(small_people["system_admin"], "streets", body, f"s.{fmt}")
    assert response.status_code == 200, response.content
    (row,) = response.json()["rows"]
    assert (row["code"], row["name"], row["action"]) == ("110105001", "测试街道", "update")
    a = shapely.normalize(shapely.geometry.shape(row["geometry"]))
    b = shapely.normalize(shapely.from_wkb(bytes(small_street["street"].boundary.wkb)))
    assert np.abs(shapely.get_coordinates(a) - shapely.get_coordinates(b)).max() < 1e-7


# -- Hostile files ----------------------------------------------------------------------------------------


def _shapefile(tmp_path, names, encoding, drop=()) -> bytes:
    frame = gpd.GeoDataFrame(
        {"code": ["110105002001"] * len(names), "name": names}, geometry=[WEST_HALF] * len(names), crs=4326
    )
    frame.to_file(tmp_path / "c.shp", encoding=encoding)
    return zipped({p.name: p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.suffix not in drop})


def test_gbk_shapefile_without_cpg_is_refused_and_with_the_encoding_declared_names_round_trip(
    small_people, new_street, tmp_path
):
    data = _shapefile(tmp_path, ["张三社区"], "GBK", drop=(".cpg",))
    before = counts()
    response = upload(small_people["system_admin"], "communities", data, "c.zip", dry_run="0")
    assert response.status_code == 400 and response.json()["code"] == "encoding_required"
    assert counts() == before
    response = upload(small_people["system_admin"], "communities", data, "c.zip", dry_run="0", encoding="GBK")
    assert response.status_code == 201
    assert Community.objects.get(code="110105002001").name == "张三社区"


def _bomb() -> bytes:
    return zipped({"c.shp": b"\0" * 30_000_000, "c.shx": b"\0" * 100, "c.dbf": b"\0" * 100})


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("bomb.zip", _bomb(), 413, "zip_bomb"),
        ("slip.zip", zipped({"../c.shp": b"x", "c.shx": b"x", "c.dbf": b"x"}), 400, "zip_unsafe_entry"),
        ("abs.zip", zipped({"/etc/c.shp": b"x"}), 400, "zip_unsafe_entry"),
        ("part.zip", zipped({"c.shp": b"x" * 200, "c.dbf": b"x" * 200}), 400, "shapefile_part_missing"),
        ("html.geojson", b"<html><body>not json</body></html>", 400, "unsupported_format"),
        ("fake.gpkg", b"SQLite format 2\x00" + b"\0" * 100, 400, "unsupported_format"),
        ("none.geojson", b'{"type":"FeatureCollection","features":[]}', 400, "no_features"),
        ("entity.kml", b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "b">]><kml></kml>', 400, "xml_entities"),
        (
            "mixed.geojson",
            geojson(
                ({"code": "110105002001", "name": "面"}, WEST_HALF),
                ({"code": "110105002002", "name": "点"}, shapely.Point(116.515, 39.955)),
            ),
            400,
            "mixed_geometry_types",
        ),
        (
            "points.geojson",
            geojson(({"code": "110105002001", "name": "点"}, shapely.Point(116.515, 39.955))),
            400,
            "geometry_type",
        ),
    ],
)
def test_hostile_files_get_a_4xx_with_the_reason_and_save_nothing(small_people, new_street, name, data, status, code):
    before, events = counts(), AuditEvent.objects.filter(action="import", result="ok").count()
    response = upload(small_people["system_admin"], "communities", data, name, dry_run="0")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code and response.json()["detail"]
    assert counts() == before
    assert AuditEvent.objects.filter(action="import", result="ok").count() == events


def test_a_missing_part_is_named(small_people, new_street, tmp_path):
    response = upload(
        small_people["system_admin"], "communities", _shapefile(tmp_path, ["甲"], "UTF-8", (".shx",)), "c.zip"
    )
    assert response.json()["code"] == "shapefile_part_missing" and ".shx" in response.json()["detail"]


def test_formula_names_are_stored_verbatim_and_exported_neutralised(small_people, new_street):
    formula = '=HYPERLINK("http://evil","点我")'
    data = geojson(({"code": "110105002001", "name": formula}, WEST_HALF))
    assert upload(small_people["system_admin"], "communities", data, "c.geojson", dry_run="0").status_code == 201
    assert Community.objects.get(code="110105002001").name == formula
    _, body = download(small_people["system_admin"], "communities", "csv")
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ',"=HYPERLINK' not in text and "\n=HYPERLINK" not in text


def test_an_upload_that_is_not_multipart_is_415_and_a_missing_file_400(small_people):
    client = small_people["system_admin"]
    assert client.post("/api/v1/imports/communities", data="{}", content_type="application/json").status_code == 415
    assert client.post("/api/v1/imports/communities").status_code == 400
    assert client.post("/api/v1/imports/grids-of-mars").status_code == 404


def test_communities_are_imported_from_kml(small_people, new_street, tmp_path):
    frame = gpd.GeoDataFrame({"Name": ["甲社区"], "code": ["110105002001"]}, geometry=[WEST_HALF], crs=4326)
    frame.to_file(tmp_path / "c.kml", driver="KML")
    response = upload(
        small_people["system_admin"], "communities", (tmp_path / "c.kml").read_bytes(), "c.kml", dry_run="0"
    )
    assert response.status_code == 201, response.content
    made = Community.objects.get(code="110105002001")
    assert made.name == "甲社区"
    a, b = (
        shapely.normalize(shapely.from_wkb(bytes(made.boundary.wkb))),
        shapely.normalize(shapely.MultiPolygon([WEST_HALF])),
    )
    assert np.abs(shapely.get_coordinates(a) - shapely.get_coordinates(b)).max() < 1e-7


def test_the_first_street_of_an_empty_installation_can_be_imported(small_people, small_street):
    from gridmap.models import Grid, Household, Profile, Role

    admin = small_people["users"]["system_admin"]
    Profile.objects.all().delete()  # profiles hold streets and communities (PROTECT); the admin's comes back
    for model in (ServiceStation, Household, Grid, Community, Street):
        model.objects.all().delete()
    Profile.objects.create(user=admin, role=Role.SYSTEM_ADMIN)
    data = geojson(({"code": "110105001", "name": "第一个街道"}, shapely.box(116.4, 39.9, 116.42, 39.908)))
    response = upload(small_people["system_admin"], "streets", data, "s.geojson", dry_run="0")
    assert response.status_code == 201 and list(Street.objects.values_list("name", flat=True)) == ["第一个街道"]


def test_a_preview_reports_the_gaps_the_communities_leave_in_their_street(small_people, new_street):
    """Gaps are warnings: the street's code, the area, a point inside; the import itself goes on."""
    data = geojson(({"code": "110105002001", "name": "甲"}, WEST_HALF),
                   ({"code": "110105002002", "name": "乙"}, shapely.box(116.511, 39.95, 116.52, 39.96)))  # fmt: skip
    body = upload(small_people["system_admin"], "communities", data, "c.geojson").json()
    assert body["errors"] == [] and len(body["gaps"]) == 1
    gap = body["gaps"][0]
    assert gap["parent"] == "110105002" and 85_000 < gap["area_m2"] < 95_000  # 0.001° × 0.01° at 40° N
    assert 116.510 < gap["location"][0] < 116.511
    whole = geojson(
        ({"code": "110105002001", "name": "甲"}, WEST_HALF), ({"code": "110105002002", "name": "乙"}, EAST_HALF)
    )
    assert upload(small_people["system_admin"], "communities", whole, "c.geojson").json()["gaps"] == []


def test_a_preview_of_a_large_layer_sums_up_its_rows_and_draws_a_capped_sample(small_people, new_street, settings):
    """120 communities of ~510 vertices each: every row is summed up, 50 are drawn, the answer stays small (in the
    request here: the job path answers the same body, tests/test_import_jobs_web.py)."""
    settings.LAYER_IMPORT_INLINE_BYTES = 20 * 1024 * 1024
    cells = []
    for k in range(120):
        x, y = 116.50 + (k % 12) * 0.02 / 12, 39.95 + (k // 12) * 0.01 / 10
        ring = shapely.segmentize(shapely.box(x, y, x + 0.02 / 12, y + 0.001), 0.02 / 12 / 160)
        cells.append(({"code": f"110105002{k + 1:03d}", "name": f"社区{k + 1}"}, ring))
    response = upload(small_people["system_admin"], "communities", geojson(*cells), "c.geojson")
    body = response.json()
    assert body["errors"] == [] and len(body["rows"]) == 120 and body["shapes_capped"] is True
    assert sum("geometry" in r for r in body["rows"]) == 50
    assert all(r["vertices"] > 500 and r["area_m2"] > 0 for r in body["rows"])
    assert len(response.content) < 500_000
