"""Reading files without a database: Shapefile encodings and parts, declared projected CRS, CSV/XLSX point
tables, and every writer's output read back by our own readers (the round trip of each format)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from geodata.crs import from_wgs84, to_wgs84
from geodata.io import read_features
from geodata.tables import read_table
from geodata.validation import GeometryRejected
from geodata.writers import FORMATS, Table, WriteRefused, write_table

SQUARE = shapely.box(116.4, 39.9, 116.41, 39.91)
NAMES = ["张三", '=HYPERLINK("http://x","点我")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+1", "\t前导制表符"]


def shapefile_zip(
    tmp_path: Path,
    *,
    encoding: str = "UTF-8",
    drop: tuple = (),
    cpg: bytes | None = None,
    names=("张三",),
    geoms=(SQUARE,),
    crs=4326,
) -> bytes:
    folder = tmp_path / f"shp-{encoding}-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    frame = gpd.GeoDataFrame({"name": list(names)}, geometry=list(geoms), crs=crs)
    frame.to_file(folder / "a.shp", encoding=encoding)
    if cpg is not None:
        (folder / "a.cpg").write_bytes(cpg)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted(folder.iterdir()):
            if part.suffix not in drop:
                archive.write(part, part.name)
    return buffer.getvalue()


def test_a_cpg_naming_gbk_is_honoured(tmp_path):
    data = shapefile_zip(tmp_path, encoding="GBK")
    assert read_features(data)["name"].tolist() == ["张三"]


def test_gbk_without_cpg_and_without_a_declared_encoding_is_refused_never_read_as_mojibake(tmp_path):
    data = shapefile_zip(tmp_path, encoding="GBK", drop=(".cpg",))
    with pytest.raises(GeometryRejected) as refused:
        read_features(data)
    assert refused.value.code == "encoding_required" and refused.value.field == "encoding"


def test_gbk_without_cpg_reads_correctly_with_the_encoding_declared(tmp_path):
    data = shapefile_zip(tmp_path, encoding="GBK", drop=(".cpg",))
    assert read_features(data, encoding="GBK")["name"].tolist() == ["张三"]


def test_utf8_without_cpg_is_read_as_utf8(tmp_path):
    data = shapefile_zip(tmp_path, encoding="UTF-8", drop=(".cpg",))
    assert read_features(data)["name"].tolist() == ["张三"]


@pytest.mark.parametrize(("cpg", "code"), [(b"UTF-8", "encoding_mismatch"), (b"KOI8-R", "unknown_encoding")])
def test_a_cpg_that_lies_or_is_unknown_is_refused(tmp_path, cpg, code):
    data = shapefile_zip(tmp_path, encoding="GBK", cpg=cpg)
    with pytest.raises(GeometryRejected) as refused:
        read_features(data)
    assert refused.value.code == code


@pytest.mark.parametrize("part", [".shx", ".dbf", ".shp"])
def test_a_missing_shapefile_part_is_named(tmp_path, part):
    with pytest.raises(GeometryRejected) as refused:
        read_features(shapefile_zip(tmp_path, drop=(part,)))
    assert refused.value.code == "shapefile_part_missing" and refused.value.detail == part


def test_a_missing_prj_requires_a_declared_crs_and_then_converts_gauss_krueger(tmp_path):
    x, y = from_wgs84([116.405, 116.41], [39.905, 39.91], "EPSG:4548")  # zone CM 117°E
    square = shapely.box(x[0], y[0], x[1], y[1])
    data = shapefile_zip(tmp_path, drop=(".prj",), geoms=(square,), crs=None)
    with pytest.raises(GeometryRejected) as refused:
        read_features(data)
    assert refused.value.code == "crs_required"
    frame = read_features(data, source_crs="GK3-CM117")
    minx, miny, maxx, maxy = frame.geometry.iloc[0].bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((116.405, 39.905, 116.41, 39.91), abs=1e-4)


def test_a_declared_zone_prefix_is_read_from_geojson_metres():
    x, y = from_wgs84([116.405], [39.905], "EPSG:4527")  # zone 39 (117°E) with prefix
    frame = gpd.GeoDataFrame({"name": ["点"]}, geometry=[shapely.Point(x[0], y[0])], crs=4326)
    back = read_features(frame.to_json().encode(), source_crs="GK3")
    assert back.geometry.iloc[0].x == pytest.approx(116.405, abs=1e-9)
    assert back.geometry.iloc[0].y == pytest.approx(39.905, abs=1e-9)


def test_a_gcj02_declaration_moves_geojson_points_by_the_offset():
    lon, lat = from_wgs84([116.405], [39.905], "GCJ02")
    frame = gpd.GeoDataFrame({"name": ["点"]}, geometry=[shapely.Point(lon[0], lat[0])], crs=4326)
    back = read_features(frame.to_json().encode(), source_crs="gcj-02")
    assert (back.geometry.iloc[0].x, back.geometry.iloc[0].y) == pytest.approx((116.405, 39.905), abs=1e-8)


def test_a_csv_declares_its_system_per_row_and_each_row_is_converted():
    gcj = from_wgs84([116.405], [39.905], "GCJ02")
    bd = from_wgs84([116.406], [39.906], "BD09")
    csv = (
        f"名称,经度,纬度,坐标系\n甲,116.404,39.904,WGS84\n乙,{float(gcj[0][0])!r},{float(gcj[1][0])!r},GCJ-02\n"
        f"丙,{float(bd[0][0])!r},{float(bd[1][0])!r},百度\n"
    )
    with pytest.raises(GeometryRejected) as refused:
        read_table(csv.encode("utf-8"))
    assert refused.value.code == "unknown_crs" and "row 4" in refused.value.detail
    frame = read_table(csv.replace("百度", "BD09").encode("utf-8-sig"))
    assert frame["名称"].tolist() == ["甲", "乙", "丙"]
    assert np.allclose(
        np.c_[frame.geometry.x, frame.geometry.y], [[116.404, 39.904], [116.405, 39.905], [116.406, 39.906]], atol=1e-8
    )


def test_a_table_without_a_coordinate_system_is_refused():
    with pytest.raises(GeometryRejected) as refused:
        read_table("名称,经度,纬度\n甲,116.4,39.9\n".encode())
    assert refused.value.code == "crs_required"
    assert read_table("名称,经度,纬度\n甲,116.4,39.9\n".encode("gbk"), source_crs="WGS84")["名称"].tolist() == ["甲"]


def test_a_non_numeric_coordinate_names_its_column_and_row():
    with pytest.raises(GeometryRejected) as refused:
        read_table("名称,经度,纬度,坐标系\n甲,116.4,39.9,WGS84\n乙,东经116,39.9,WGS84\n".encode())
    assert (refused.value.code, refused.value.field, refused.value.detail) == ("not_a_number", "经度", "row 3")


def test_xlsx_formula_cells_are_read_as_their_text_never_evaluated():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "经度", "纬度", "坐标系"])
    sheet.append(['=HYPERLINK("http://evil","点我")', 116.4, 39.9, "WGS84"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert read_table(buffer.getvalue())["名称"].tolist() == ['=HYPERLINK("http://evil","点我")']


def table(geoms) -> Table:
    rows = [(name, "110105001001", i, 1.5 * i) for i, name in enumerate(NAMES)]
    return Table("layer", ["name", "code", "n", "x"], ["名称", "代码", "数量", "数值"], rows, geoms)


def read_back(path: Path, fmt: str) -> gpd.GeoDataFrame:
    data = path.read_bytes()
    if fmt in ("csv", "xlsx"):
        frame = read_table(data, source_crs="WGS84")
        return frame.rename(columns={"名称": "name", "代码": "code"})
    return read_features(data)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["polygon", "point"])
def test_every_format_reads_back_the_same_names_codes_and_geometry(tmp_path, fmt, kind):
    rng = np.random.default_rng(7)
    if kind == "polygon":
        geoms = [
            shapely.MultiPolygon(
                [shapely.box(116.4 + i * 1e-3, 39.9, 116.4 + i * 1e-3 + 7.123456789e-4, 39.9 + 3.3333333e-4)]
            )
            for i in range(len(NAMES))
        ]
    else:
        geoms = [shapely.Point(p) for p in rng.uniform([116.4, 39.9], [116.42, 39.91], (len(NAMES), 2))]
    path = write_table(table(geoms), fmt, tmp_path)
    back = read_back(path, fmt)
    assert back["name"].tolist() == NAMES
    assert back["code"].astype(str).tolist() == ["110105001001"] * len(NAMES)
    for original, read in zip(geoms, back.geometry.values):
        # Shapefiles store rings clockwise: compare the normalised shapes (same vertices, same order).
        original, read = shapely.normalize(shapely.force_2d(original)), shapely.normalize(read)
        assert shapely.get_num_coordinates(read) == shapely.get_num_coordinates(original)
        assert np.abs(shapely.get_coordinates(read) - shapely.get_coordinates(original)).max() < 1e-7


def test_csv_and_xlsx_neutralise_formula_cells_and_keep_codes_as_text(tmp_path):
    path = write_table(table([shapely.Point(116.4, 39.9)] * len(NAMES)), "csv", tmp_path)
    text = path.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert lines[0] == ["名称", "代码", "数量", "数值", "经度", "纬度", "坐标系"]
    assert [line[0] for line in lines[1:]] == [
        "张三",
        "'" + NAMES[1],
        "'" + NAMES[2],
        "'@SUM(1)",
        "'-1+1",
        "'\t前导制表符",
    ]
    xlsx = write_table(table([shapely.Point(116.4, 39.9)] * len(NAMES)), "xlsx", tmp_path)
    sheet = openpyxl.load_workbook(xlsx).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert [v[0] for v in values[1:]] == ["'" + n if n[0] in "=+-@\t" else n for n in NAMES]
    assert sheet.cell(row=2, column=2).data_type == "s" and sheet.cell(row=2, column=2).value == "110105001001"


def test_a_shapefile_export_carries_cpg_utf8_and_a_prj(tmp_path):
    path = write_table(table([SQUARE] * len(NAMES)), "shp", tmp_path)
    archive = zipfile.ZipFile(path)
    assert sorted(n.rsplit(".", 1)[1] for n in archive.namelist()) == ["cpg", "dbf", "prj", "shp", "shx"]
    assert archive.read("layer.cpg").strip() == b"UTF-8"
    assert b"WGS" in archive.read("layer.prj")


def test_text_longer_than_a_dbf_field_is_refused_not_cut(tmp_path):
    long = Table("layer", ["name"], ["名称"], [("服" * 100,)], [SQUARE])
    with pytest.raises(WriteRefused) as refused:
        write_table(long, "shp", tmp_path)
    assert refused.value.code == "too_long_for_shapefile"


def test_a_layer_without_geometry_is_only_written_as_a_table(tmp_path):
    members = Table("members", ["name"], ["姓名"], [("张三",)], None)
    with pytest.raises(WriteRefused):
        write_table(members, "gpkg", tmp_path)
    assert write_table(members, "csv", tmp_path).read_bytes().decode("utf-8-sig").splitlines() == ["姓名", "张三"]


def test_to_wgs84_undoes_what_from_wgs84_did_for_the_files_systems():
    for crs in ("EPSG:3857", "EPSG:4548", "EPSG:4527"):
        x, y = from_wgs84([116.405], [39.905], crs)
        lon, lat = to_wgs84(x, y, crs)
        assert (lon[0], lat[0]) == pytest.approx((116.405, 39.905), abs=1e-9)


ESRI_JSON = (
    b'{"geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 4326},'
    b' "fields": [{"name": "name", "type": "esriFieldTypeString"}], "features": [{"attributes": {"name": "a"},'
    b' "geometry": {"rings": [[[116.4, 39.9], [116.4, 39.91], [116.41, 39.91], [116.41, 39.9], [116.4, 39.9]]]}}]}'
)


def test_an_esri_json_file_sniffed_as_geojson_is_refused_by_the_driver_gdal_chose():
    # Both start with "{": the first bytes promise GeoJSON, GDAL would open it with its Esri-JSON driver.
    with pytest.raises(GeometryRejected) as refused:
        read_features(ESRI_JSON)
    assert refused.value.code == "driver_mismatch" and refused.value.field == "file"
    assert "ESRIJSON" in refused.value.detail


def test_reading_a_geojson_file_raises_no_warning_about_an_ignored_driver(recwarn):
    frame = read_features(
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "a"},'
        b' "geometry": {"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.4, 39.91], [116.41, 39.91],'
        b" [116.41, 39.9], [116.4, 39.9]]]}}]}"
    )
    assert len(frame) == 1
    assert [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)] == []
