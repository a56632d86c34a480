"""Household files through the import core: encodings, XLSX, the template, re-import, hostile input."""

from __future__ import annotations

import pytest
from django.db import connection

from gridmap.models import Household
from gridmap.services.households.files import read_table
from gridmap.services.households.importing import import_households
from gridmap.services.households.template import household_template_xlsx
from tests.household_files_support import HEADER, IDS, csv_bytes, hostile_cases, xlsx_bytes

WEST, EAST, OTHER = (116.402, 39.904), (116.407, 39.904), (116.415, 39.904)


def rows(n: int = 2, prefix: str = "F") -> list[list]:
    points = [WEST, EAST, OTHER]
    return [[*points[i % 3], f"幸福路{i + 1}号", "王建国", "13812345678", IDS[i], 2, f"{prefix}-{i}"] for i in range(n)]


def checksum() -> tuple[int, str]:
    """Row count and an md5 over every household row: 'exactly as before' means both are equal."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(h::text, '|' ORDER BY h.id), '')) FROM gridmap_household h"
        )
        return cursor.fetchone()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
def test_csv_in_every_excel_encoding_is_decoded(small_street, encoding):
    result = import_households(csv_bytes(rows(), encoding=encoding), source_crs="WGS84")
    assert result.ok and result.imported == 2
    assert Household.objects.filter(external_id="F-0", address="幸福路1号", head_name="王建国").exists()


def test_a_bom_never_ends_up_in_the_first_header():
    table = read_table(csv_bytes(rows(), encoding="utf-8-sig"))
    assert list(table.frame.columns) == HEADER
    table = read_table(csv_bytes(rows(), encoding="utf-16"))
    assert list(table.frame.columns) == HEADER and table.encoding == "UTF8"


def test_an_xlsx_file_imports_through_the_same_core(small_street):
    result = import_households(xlsx_bytes(rows(3)), source_crs="WGS84", filename="households.xlsx")
    assert result.ok and (result.imported, result.in_grid) == (3, 3)
    household = Household.objects.select_related("grid").get(external_id="F-2")
    assert household.id_number == IDS[2] and household.grid.code == "110105001002001"


def test_xlsx_with_english_headers_and_a_crs_column(small_street):
    from geodata.crs import from_wgs84

    lon, lat = from_wgs84([116.4048], [39.9040], "BD09")
    header = ["lon", "lat", "crs", "address", "head_name", "external_id"]
    result = import_households(
        xlsx_bytes([[lon[0], lat[0], "BD-09", "幸福路9号", "赵四", "B-1"]], header=header),
        source_crs=None,
        filename="h.xlsx",
    )
    assert result.ok
    household = Household.objects.select_related("grid").get(external_id="B-1")
    assert household.source_crs == "BD09" and household.grid.code == "110105001001001"


def test_a_crs_column_must_hold_one_system(small_street):
    header = ["经度", "纬度", "坐标系", "地址", "户主"]
    result = import_households(
        csv_bytes([[*WEST, "GCJ02", "a", "b"], [*EAST, "WGS84", "c", "d"]], header=header), source_crs=None
    )
    assert [(e.row, e.column) for e in result.errors] == [(3, "坐标系")]


def test_a_file_without_a_declared_crs_is_refused(small_street):
    before = checksum()
    result = import_households(csv_bytes(rows()), source_crs=None)
    assert [(e.row, e.column, e.code) for e in result.errors] == [(1, "坐标系/source_crs", "required")]
    assert "坐标系" in result.errors[0].reason and result.status == 400 and checksum() == before


def test_formula_cells_are_stored_verbatim(small_street):
    formulas = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+1"]
    data = xlsx_bytes([[*WEST, f, "王建国", "", "", 1, f"Q-{i}"] for i, f in enumerate(formulas)])
    result = import_households(data, source_crs="WGS84", filename="h.xlsx")
    assert result.ok
    stored = dict(Household.objects.filter(external_id__startswith="Q-").values_list("external_id", "address"))
    assert stored == {f"Q-{i}": f for i, f in enumerate(formulas)}


def test_the_template_reads_back_with_its_example_rows(small_street):
    data = household_template_xlsx()
    table = read_table(data, "template.xlsx")
    assert list(table.frame.columns)[:5] == ["经度", "纬度", "坐标系", "地址", "户主"] and len(table.frame) == 2
    result = import_households(data, source_crs=None, filename="template.xlsx", dry_run=True)
    assert result.ok and result.imported == 2 and not Household.objects.filter(external_id="HH-0001").exists()


def test_the_template_keeps_id_and_phone_columns_as_text():
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(household_template_xlsx())).worksheets[0]
    assert sheet["G2"].value == "11010519000101001X" and sheet["G500"].number_format == "@"
    assert sheet["F2"].value == "13812345678" and sheet["F2"].number_format == "@"


def test_reimporting_the_same_file_updates_and_never_duplicates(small_street):
    data = csv_bytes(rows(3))
    first = import_households(data, source_crs="WGS84")
    after_first = Household.objects.count()
    second = import_households(data, source_crs="WGS84")
    assert (first.imported, first.updated) == (3, 0) and (second.imported, second.updated) == (0, 3)
    assert Household.objects.count() == after_first
    assert Household.objects.filter(external_id__startswith="F-").count() == 3


def test_an_id_number_another_household_holds_is_a_409_row_error(small_street):
    assert import_households(csv_bytes(rows(1)), source_crs="WGS84").ok
    before = checksum()
    clash = [[*EAST, "另一个地址", "李四", "", IDS[0], 1, "OTHER-1"]]
    result = import_households(csv_bytes(clash), source_crs="WGS84")
    assert [(e.row, e.column, e.code) for e in result.errors] == [(2, "身份证号", "exists")]
    assert result.status == 409 and checksum() == before


def test_a_scoped_import_refuses_points_and_households_outside_the_scope(small_street):
    east = small_street["communities"]["110105001001"].pk
    assert import_households(csv_bytes([rows(3)[2]]), source_crs="WGS84").ok  # F-2 lives in the west community
    before = checksum()
    result = import_households(csv_bytes(rows(3)), source_crs="WGS84", communities=[east])
    # the point outside the scope is refused; the external id held there is not looked at (no oracle, below)
    assert [(e.row, e.column, e.code) for e in result.errors] == [(4, "经度", "out_of_scope")]
    assert checksum() == before


def test_keys_held_outside_the_importers_scope_neither_clash_nor_tell(small_street):
    """Trust finding 4: an importer learned which ID numbers and external ids another scope holds."""
    east = small_street["communities"]["110105001001"].pk
    assert import_households(csv_bytes([rows(3)[2]]), source_crs="WGS84").ok  # F-2, IDS[2], outside ``east``
    theirs = Household.objects.get(external_id="F-2")
    held = [*EAST, "东边新址", "赵六", "", IDS[2], 1, "F-2"]  # their ID number and external id, at his own point
    unknown = [*EAST, "东边新址", "赵六", "", IDS[3], 1, "F-9"]
    answers = [
        import_households(csv_bytes([row]), source_crs="WGS84", communities=[east], dry_run=True)
        for row in (held, unknown)
    ]
    assert [(a.ok, a.errors, a.imported, a.updated, a.status) for a in answers] == [
        (True, [], 1, 0, answers[1].status)
    ] * 2
    result = import_households(csv_bytes([held]), source_crs="WGS84", communities=[east])
    assert result.ok and (result.imported, result.updated) == (1, 0)
    assert Household.objects.get(pk=theirs.pk).address == theirs.address and theirs.community_id != east
    assert Household.objects.filter(external_id="F-2").count() == 2


def test_a_dry_run_counts_everything_and_saves_nothing(small_street):
    before = checksum()
    result = import_households(csv_bytes(rows(3)), source_crs="WGS84", dry_run=True)
    assert result.ok and (result.imported, result.in_grid, result.rows) == (3, 3, 3)
    assert len(result.points) == 3 and checksum() == before


@pytest.mark.parametrize("case", hostile_cases(*WEST), ids=lambda c: c.name)
def test_a_hostile_file_is_refused_naming_row_column_and_reason(small_street, case):
    before = checksum()
    result = import_households(case.data, source_crs="WGS84", filename=case.filename)
    assert not result.ok and 400 <= result.status < 500
    first = result.errors[0]
    assert (first.row, first.column) == (case.row, case.column), result.errors[:3]
    assert case.reason in first.reason
    assert checksum() == before


def test_the_command_shows_a_progress_bar_and_imports_xlsx(small_street, tmp_path):
    import io

    from django.core.management import call_command

    path = tmp_path / "households.xlsx"
    path.write_bytes(xlsx_bytes(rows(2)))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_households", str(path), "--crs", "WGS84", stdout=out, stderr=err)
    assert "imported 2 households: 2 in a grid" in out.getvalue()
    assert "[" + "#" * 30 + "] 100% 完成" in err.getvalue() and "校验" in err.getvalue()


def test_an_id_number_clash_is_found_also_between_rows_without_an_external_id(small_street):
    """Trust finding 11: NULL is distinct from NULL, so two households without external ids never clashed."""
    first = [[*EAST, "一号", "李四", "", IDS[1], 1, ""]]
    assert import_households(csv_bytes(first), source_crs="WGS84").ok
    before = checksum()
    again = [[*EAST, "二号", "王五", "", IDS[1], 1, ""]]
    result = import_households(csv_bytes(again), source_crs="WGS84")
    assert [(e.row, e.column, e.code) for e in result.errors] == [(2, "身份证号", "exists")]
    assert checksum() == before
