"""Issue #6 reports: the XLSX ledger (台账), GeoJSON and GeoPackage of the figures per grid and the A4 print
page: the same numbers as grid_coverage, scoped by the policy, audited, safe for spreadsheets."""

from __future__ import annotations

import io
import re

import geopandas as gpd
import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from gridmap import policy
from gridmap.models import AuditEvent, Grid
from gridmap.planner.exports import COLUMNS, neutralise
from gridmap.queries.coverage import grid_coverage
from gridmap.queries.coverage_areas import area_coverage

SAFE_NAME = re.compile(r'^attachment; filename="[A-Za-z0-9._-]+"$')


def _sheet(response):
    assert response.status_code == 200, response.content[:300]
    return load_workbook(io.BytesIO(response.content)).active


@pytest.mark.parametrize(
    "text, expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("第1网格", "第1网格"),
        (-5, -5),
        (None, None),
    ],
)
def test_formula_like_text_is_neutralised(text, expected):
    assert neutralise(text) == expected


def test_the_ledger_has_title_headers_text_codes_and_the_totals_of_the_same_query(client_for, user_for):
    admin = user_for("street_admin")
    grids = policy.grids_for(admin).published()
    first = grids.order_by("code").first()
    Grid.objects.filter(pk=first.pk).update(name="=1+1")  # a name that would run as a formula
    response = client_for("street_admin").get(reverse("planner-ledger"))
    assert SAFE_NAME.match(response["Content-Disposition"]) and response["Content-Disposition"].endswith('.xlsx"')
    sheet = _sheet(response)
    assert "网格覆盖台账" in sheet["A1"].value and "A1:Q1" in [str(r) for r in sheet.merged_cells.ranges]
    assert [c.value for c in sheet[2]] == [str(h) for _k, h, _t in COLUMNS] and sheet["A2"].value == "网格代码"
    rows = grid_coverage(grids)
    body = list(sheet.iter_rows(min_row=3, max_row=2 + len(rows), values_only=True))
    assert [r[0] for r in body] == [r["code"] for r in rows]
    assert all(isinstance(r[0], str) and len(r[0]) == 15 for r in body)
    assert sheet["A3"].number_format == "@" and sheet["L3"].number_format == "@"
    assert body[0][1] == "'=1+1"
    assert [r[2] for r in body] == [r["households"] for r in rows]
    assert [r[3] for r in body] == [r["covered"] for r in rows]
    phones = [r[11] for r in body if r[11]]
    assert phones and all(isinstance(p, str) and "****" in p for p in phones)  # masked, as text
    total = list(sheet.iter_rows(min_row=3 + len(rows), max_row=3 + len(rows), values_only=True))[0]
    [expected] = area_coverage(grids, "selection")
    assert total[1] == "合计" and total[2] == expected["households"] == 15_000 and total[3] == expected["covered"]
    assert total[15] == expected["vulnerable"]
    event = AuditEvent.objects.filter(object_type="planner_ledger").latest("id")
    assert event.user == admin and event.action == "export"


def test_planners_get_small_sensitive_counts_as_less_than_5_in_the_ledger(client_for, user_for):
    sheet = _sheet(client_for("planner").get(reverse("planner-ledger")))
    rows = grid_coverage(policy.grids_for(user_for("planner")).published())
    body = list(sheet.iter_rows(min_row=3, max_row=2 + len(rows), values_only=True))
    for row, cells in zip(rows, body):
        value = row["vulnerable_uncovered"]
        assert cells[16] == (f"<{settings.SMALL_COUNT_MIN}" if 0 < value < settings.SMALL_COUNT_MIN else value)
    assert any(c[16] == "<5" for c in body)


@pytest.mark.parametrize("name, suffix", [("planner-geojson", ".geojson"), ("planner-gpkg", ".gpkg")])
def test_geo_files_carry_the_figures_per_grid(client_for, user_for, tmp_path, name, suffix):
    response = client_for("community_staff").get(reverse(name))
    assert response.status_code == 200 and SAFE_NAME.match(response["Content-Disposition"])
    assert response["Content-Disposition"].endswith(suffix + '"')
    path = tmp_path / ("out" + suffix)
    path.write_bytes(b"".join(response.streaming_content))
    frame = gpd.read_file(path, engine="pyogrio")
    rows = grid_coverage(policy.grids_for(user_for("community_staff")).published())
    assert frame.crs.to_epsg() == 4326 and len(frame) == len(rows) > 0
    assert frame["code"].tolist() == [r["code"] for r in rows]  # text, every digit kept
    assert frame["households"].tolist() == [r["households"] for r in rows]
    assert frame["covered"].tolist() == [r["covered"] for r in rows]
    assert set(frame.geom_type) <= {"MultiPolygon", "Polygon"} and frame.is_valid.all()
    assert "head_name" not in frame.columns and "phone" not in frame.columns
    assert AuditEvent.objects.filter(object_type="planner_" + suffix[1:], action="export").exists()


def test_the_planners_geojson_suppresses_small_counts(client_for):
    data = client_for("planner").get(reverse("planner-geojson"))
    text = b"".join(data.streaming_content).decode()
    assert '"vulnerable_uncovered": "<5"' in text


def test_the_print_page_is_a4_landscape_with_map_furniture_and_local_assets(client_for):
    response = client_for("planner").get(reverse("planner-print"), {"metric": "linked_pct"})
    assert response.status_code == 200
    page = response.content.decode()
    for marker in (
        'id="print-title"',
        'id="print-date"',
        'id="north-arrow"',
        'id="print-legend"',
        "print-map",
        "planner_print.js",
        "planner_print.css",
    ):
        assert marker in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    css = (settings.BASE_DIR / "gridmap" / "static" / "gridmap" / "planner_print.css").read_text()
    assert "size: A4 landscape" in css and "@media print" in css
    assert client_for("planner").get(reverse("planner-print"), {"metric": "nope"}).status_code == 400


@pytest.mark.parametrize("role", ["grid_leader", "grid_worker"])
def test_grid_staff_get_no_exports(client_for, role):
    client = client_for(role)
    for name in ("planner-ledger", "planner-geojson", "planner-gpkg", "planner-print"):
        assert client.get(reverse(name)).status_code == 403
