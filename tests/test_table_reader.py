"""One table reader (geodata/sheets.py) for every import: the household and member imports and the layer
import's point tables read the same file into the same cells, keep a formula as its text, take an export's
quote off, and refuse the same zip bomb by the same limits; no other module opens a workbook."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from geodata import sheets, tables
from geodata.validation import GeometryRejected
from gridmap.services.households import files
from tests.household_files_support import zip_bomb

ROOT = Path(__file__).resolve().parent.parent


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS = [
    ["名称", "经度", "纬度", "坐标系", "备注"],
    ["站一", 116.4, 39.9, "WGS84", '=HYPERLINK("http://x")'],
    ["'=SUM(1)", 116.41, 39.91, "WGS84", 13812345678],
]


def test_the_household_reader_and_the_layer_reader_see_the_same_cells():
    data = _xlsx(ROWS)
    cells = files.read_table(data, "h.xlsx").frame
    points = tables.read_table(data)
    assert cells["名称"].tolist() == points["名称"].tolist() == ["站一", "=SUM(1)"]
    assert cells["备注"].tolist() == points["备注"].tolist() == ['=HYPERLINK("http://x")', "13812345678"]
    assert points.geometry.x.round(6).tolist() == [116.4, 116.41]


def test_the_same_csv_reads_alike_in_utf8_gbk_and_utf16():
    text = "名称,经度,纬度,坐标系\n站一,116.4,39.9,WGS84\n"
    frames = [sheets.read_cells(text.encode(enc)).frame for enc in ("utf-8-sig", "gb18030", "utf-16")]
    assert all(frame.equals(frames[0]) for frame in frames)
    assert tables.read_table(text.encode("utf-16"))["名称"].tolist() == ["站一"]


def test_a_zip_bomb_is_refused_alike_before_anything_is_inflated():
    data = zip_bomb()
    with pytest.raises(files.UnreadableFile) as household:
        files.read_table(data, "h.xlsx")
    with pytest.raises(GeometryRejected) as layer:
        tables.read_table(data)
    assert household.value.code == layer.value.code == "zip_bomb"


def test_layer_table_rows_are_numbered_as_the_spreadsheet_shows_them():
    text = "名称,经度,纬度,坐标系\n站一,116.4,39.9,WGS84\n,,,\n站二,abc,39.9,WGS84\n"
    with pytest.raises(GeometryRejected) as refused:
        tables.read_table(text.encode())
    assert (refused.value.code, refused.value.field, refused.value.detail) == ("not_a_number", "经度", "row 4")


def test_no_other_module_opens_a_workbook_or_parses_an_uploaded_csv():
    openers = re.compile(r"load_workbook|csv\.reader|csv\.DictReader|pd\.read_csv|pd\.read_excel")
    found = sorted(
        str(path.relative_to(ROOT))
        for folder in ("gridmap", "geodata")
        for path in (ROOT / folder).rglob("*.py")
        if openers.search(path.read_text(encoding="utf-8"))
    )
    # queries/coverage.py reads PostgreSQL's own COPY output, not an upload
    assert found == ["geodata/sheets.py", "gridmap/queries/coverage.py"]
