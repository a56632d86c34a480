"""Importing households from CSV: all or nothing, errors by row and column, coordinates converted."""

from __future__ import annotations

import io

import pytest
from django.db import connection

from geodata.crs import from_wgs84
from gridmap.models import Household
from gridmap.services.households.importing import MAX_ERRORS, import_households_csv
from gridmap.storage import bulk

HEADER = "经度,纬度,地址,户主,电话,身份证号,人数,外部编号\n"
# Points inside the three grids of fixtures/small_street.geojson (WGS84).
WEST, EAST, OTHER = (116.402, 39.904), (116.407, 39.904), (116.415, 39.904)


def csv(*rows: str, header: str = HEADER) -> io.BytesIO:
    return io.BytesIO((header + "".join(r + "\n" for r in rows)).encode("utf-8"))


def row(
    lon,
    lat,
    address="幸福路1号",
    name="王建国",
    phone="13812345678",
    id_number="11010519000101001X",
    residents="3",
    external="",
) -> str:
    return f"{lon},{lat},{address},{name},{phone},{id_number},{residents},{external}"


def test_a_good_file_imports_every_row_into_its_grid(small_street):
    before = Household.objects.count()
    result = import_households_csv(
        csv(
            row(*WEST, external="T-1"),
            row(*EAST, id_number="", external="T-2"),
            row(*OTHER, phone="", id_number="110105198001010016", residents=""),
        ),
        source_crs="WGS84",
    )
    assert result.ok and (result.imported, result.in_grid, result.without_grid) == (3, 3, 0)
    assert Household.objects.count() == before + 3
    west = Household.objects.select_related("grid", "community").get(external_id="T-1")
    assert (west.grid.code, west.community.code) == ("110105001001001", "110105001001")
    assert (west.address, west.head_name, west.phone, west.residents) == ("幸福路1号", "王建国", "13812345678", 3)
    other = Household.objects.get(address="幸福路1号", grid__code="110105001002001")
    assert other.residents == 1 and other.phone == "" and other.external_id is None


def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_saved(small_street):
    before = Household.objects.count()
    result = import_households_csv(
        csv(row(*WEST), row(*EAST, phone="1381234567", id_number=""), row(*OTHER, id_number="110105194912310021")),
        source_crs="WGS84",
    )
    assert not result.ok and result.imported == 0 and Household.objects.count() == before
    assert [(e.row, e.column) for e in result.errors] == [(3, "电话"), (4, "身份证号")]
    assert "手机" in result.errors[0].reason and "校验位" in result.errors[1].reason


def test_a_gcj02_file_lands_in_the_grid_of_its_true_position(small_street):
    # 116.4048 is in the west grid in WGS84; its GCJ-02 coordinates read as WGS84 would be ~500 m east.
    lon, lat = from_wgs84([116.4048], [39.9040], "GCJ02")
    result = import_households_csv(csv(row(lon[0], lat[0], external="G-1")), source_crs="GCJ-02")
    assert result.ok
    household = Household.objects.select_related("grid").get(external_id="G-1")
    assert household.grid.code == "110105001001001" and household.source_crs == "GCJ02"
    assert household.location.x == pytest.approx(116.4048, abs=1e-8)
    assert household.location.y == pytest.approx(39.9040, abs=1e-8)


def test_a_point_outside_every_grid_is_imported_without_one(small_street):
    result = import_households_csv(csv(row(116.430, 39.904)), source_crs="WGS84")
    assert (result.imported, result.in_grid, result.without_grid) == (1, 0, 1)


@pytest.mark.parametrize(
    "cells, column, reason",
    [
        (row("", 39.9), "经度", "必填"),
        (row("东经116", 39.9), "经度", "数字"),
        (row(116.4, 95), "纬度", "范围"),
        (row(*WEST, address=""), "地址", "必填"),
        (row(*WEST, name=" "), "户主", "必填"),
        (row(*WEST, phone="138-1234-5678"), "电话", "手机"),
        (row(*WEST, phone="１３８１２３４５６７８"), "电话", "手机"),  # full-width digits
        (row(*WEST, id_number="1101051949123100"), "身份证号", "18 位"),
        (row(*WEST, residents="0"), "人数", "1 到 99"),
        (row(*WEST, residents="2.5"), "人数", "1 到 99"),
    ],
)
def test_it_names_what_is_wrong_with_a_cell(small_street, cells, column, reason):
    result = import_households_csv(csv(cells), source_crs="WGS84")
    assert [(e.row, e.column) for e in result.errors] == [(2, column)]
    assert reason in result.errors[0].reason


def test_duplicates_in_the_file_point_at_the_first_occurrence(small_street):
    result = import_households_csv(
        csv(row(*WEST, external="D-1"), row(*EAST, id_number="", external="D-1"), row(*OTHER, external="D-2")),
        source_crs="WGS84",
    )
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (3, "外部编号", "与第 2 行重复"),
        (4, "身份证号", "与第 2 行重复"),
    ]


def test_an_external_id_already_in_the_database_updates_that_household(small_street):
    assert import_households_csv(csv(row(*WEST, external="E-1")), source_crs="WGS84").ok
    before = Household.objects.count()
    result = import_households_csv(csv(row(*EAST, name="李秀英", external="E-1")), source_crs="WGS84")
    assert result.ok and (result.imported, result.updated, result.in_grid) == (0, 1, 1)
    assert Household.objects.count() == before
    moved = Household.objects.select_related("grid").get(external_id="E-1")
    assert moved.head_name == "李秀英" and moved.grid.code == "110105001001002"


def test_english_headers_gbk_files_and_stray_spaces_are_accepted(small_street):
    text = "lon,lat,address,head_name\n 116.402 ,39.904, 幸福路2号 ,\u3000李秀英\n"
    result = import_households_csv(io.BytesIO(text.encode("gb18030")), source_crs="WGS84")
    assert result.ok and result.imported == 1
    household = Household.objects.get(address="幸福路2号")
    assert household.head_name == "李秀英" and household.grid.code == "110105001001001"


def test_a_missing_required_column_is_reported_against_the_header(small_street):
    result = import_households_csv(csv("116.4,39.9,x", header="经度,纬度,地址\n"), source_crs="WGS84")
    assert [(e.row, e.column) for e in result.errors] == [(1, "户主/head_name")]


def test_an_unknown_coordinate_system_is_refused(small_street):
    before = Household.objects.count()
    result = import_households_csv(csv(row(*WEST)), source_crs="EPSG:3857")
    assert [(e.row, e.column) for e in result.errors] == [(1, "坐标系/source_crs")]
    assert "GCJ02" in result.errors[0].reason and Household.objects.count() == before


def test_a_ragged_file_is_refused_with_the_line(small_street):
    result = import_households_csv(csv(row(*WEST), row(*EAST) + ",extra,cells"), source_crs="WGS84")
    assert not result.ok and "3" in result.errors[0].reason


def test_errors_are_capped_but_counted(small_street):
    rows = [row("", 39.9, id_number="") for _ in range(MAX_ERRORS + 5)]
    result = import_households_csv(csv(*rows), source_crs="WGS84")
    assert result.error_count == MAX_ERRORS + 5 and len(result.errors) == MAX_ERRORS


def test_a_large_import_rebuilds_indexes_and_keys_as_they_were(small_street, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 2)
    monkeypatch.setattr(bulk, "BULK_MAX_EXISTING", 10**9)
    definitions = """SELECT string_agg(pg_get_indexdef(indexrelid), ';' ORDER BY indexrelid::regclass::text)
                       FROM pg_index WHERE indrelid = 'gridmap_household'::regclass"""
    keys = """SELECT string_agg(conname || pg_get_constraintdef(oid), ';' ORDER BY conname)
                FROM pg_constraint WHERE conrelid = 'gridmap_household'::regclass"""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the fixture's rows: no deferred checks pending
        cursor.execute(definitions)
        indexes_before = cursor.fetchone()[0]
        cursor.execute(keys)
        keys_before = cursor.fetchone()[0]
    result = import_households_csv(
        csv(row(*WEST, external="B-1"), row(*EAST, id_number="", external="B-2")), source_crs="WGS84"
    )
    assert result.ok and result.in_grid == 2
    with connection.cursor() as cursor:
        cursor.execute(definitions)
        assert cursor.fetchone()[0] == indexes_before
        cursor.execute(keys)
        assert cursor.fetchone()[0] == keys_before
    assert Household.objects.filter(external_id__in=["B-1", "B-2"], grid__isnull=False).count() == 2


def test_the_command_prints_errors_and_imports_nothing(small_street, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "households.csv"
    path.write_bytes(csv(row(*WEST), row(*EAST, phone="12", id_number="")).getvalue())
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_households", str(path), "--crs", "WGS84")
    path.write_bytes(csv(row(*WEST, external="C-1")).getvalue())
    out = io.StringIO()
    call_command("import_households", str(path), "--crs", "WGS84", stdout=out)
    assert "imported 1 households: 1 in a grid" in out.getvalue()
