"""Exports of every layer in every format: scoped by the policy, masked by default, audited, formula-safe,
streamed from a temporary file that is gone afterwards; and read back, each format gives the same data."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import shapely

from geodata.io import read_features
from geodata.tables import read_table
from gridmap import policy
from gridmap.models import AuditEvent, Household, ServiceStation
from tests.exchange_support import download, small_people  # noqa: F401  (fixture)

SPATIAL = ("geojson", "gpkg", "shp", "xlsx", "csv")
CASES = [
    (layer, fmt) for layer in ("streets", "communities", "grids", "stations", "households", "links") for fmt in SPATIAL
] + [("members", "xlsx"), ("members", "csv")]
UNMASKED = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


def read_back(body: bytes, fmt: str):
    if fmt in ("csv", "xlsx"):
        return (
            read_table(body, source_crs="WGS84")
            if fmt != "csv"
            or "经度" in body[:400].decode("utf-8-sig", "ignore")
            or "WKT" in body[:400].decode("utf-8-sig", "ignore")
            else None
        )
    return read_features(body)


@pytest.mark.parametrize(("layer", "fmt"), CASES, ids=[f"{layer}.{fmt}" for layer, fmt in CASES])
def test_a_street_admin_exports_every_layer_as_a_file_and_it_is_audited(small_people, layer, fmt):
    response, body = download(small_people["street_admin"], layer, fmt)
    assert response.status_code == 200, body[:300]
    disposition = response["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="{layer}-\d{{8}}\.{fmt.replace("shp", "shp.zip")}"', disposition)
    assert response["Cache-Control"] == "private, no-store"
    rows = int(response["X-Export-Rows"])
    event = AuditEvent.objects.filter(action="export", object_type=layer).latest("id")
    assert (event.username, event.object_id, event.fields) == ("ss_street_admin", fmt, f"rows={rows},masked")
    assert not UNMASKED.search(body.decode("utf-8", "ignore"))
    if layer != "members":
        assert len(read_back(body, fmt)) == rows


def test_the_export_file_is_removed_once_it_has_been_sent(small_people):
    before = set(Path(tempfile.gettempdir()).glob("gridexport-*"))
    response, body = download(small_people["street_admin"], "grids", "gpkg")
    assert response.status_code == 200 and body.startswith(b"SQLite format 3\x00")
    assert set(Path(tempfile.gettempdir()).glob("gridexport-*")) == before


def test_household_exports_are_masked_by_default(small_people, small_street):
    response, body = download(small_people["street_admin"], "households", "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    west = next(r for r in rows if r["地址"] == "东社区一号")
    assert (west["户主"], west["电话"], west["身份证号"]) == ("王**", "138****5678", "110105********002X")
    assert "13812345678" not in body.decode("utf-8-sig") and "王建国" not in body.decode("utf-8-sig")


def test_full_values_need_post_and_a_reason_and_are_audited_as_full(small_people):
    client = small_people["street_admin"]
    response, body = download(client, "households", "xlsx", reason="")
    assert response.status_code == 400 and b"reason_required" in body
    response, body = download(client, "households", "csv", reason="民政局低保核查")
    assert response.status_code == 200
    text = body.decode("utf-8-sig")
    assert "13812345678" in text and "11010519491231002X" in text and "王建国" in text
    event = AuditEvent.objects.filter(action="export", object_type="households").latest("id")
    assert event.fields.endswith(",full") and event.reason == "民政局低保核查"


@pytest.mark.parametrize(
    ("layer", "fmt"), [("households", "csv"), ("households", "geojson"), ("links", "gpkg"), ("members", "xlsx")]
)
def test_planners_get_no_resident_level_export(small_people, layer, fmt):
    before = AuditEvent.objects.filter(action="export").count()
    response, _ = download(small_people["planner"], layer, fmt)
    assert response.status_code == 403
    response, _ = download(small_people["planner"], layer, fmt, reason="规划")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="export").count() == before


def test_planners_export_areas_and_stations(small_people):
    response, body = download(small_people["planner"], "grids", "geojson")
    assert response.status_code == 200
    assert sorted(read_features(body)["code"]) == ["110105001001001", "110105001001002", "110105001002001"]


def test_community_staff_export_only_their_communitys_households(small_people, small_street):
    response, body = download(small_people["community_staff"], "households", "geojson")
    frame = read_features(body)
    user = small_people["users"]["community_staff"]
    assert sorted(frame["id"]) == sorted(policy.households_for(user).values_list("id", flat=True))
    assert "西社区一号" not in set(frame["address"]) and "东社区一号" in set(frame["address"])


def test_formula_text_is_neutralised_in_csv_and_xlsx_but_verbatim_in_geojson(small_people, small_street):
    formula = '=HYPERLINK("http://evil.example","点我")'
    Household.objects.filter(pk=small_street["households"]["west"].pk).update(address=formula)
    _, body = download(small_people["street_admin"], "households", "csv")
    cells = [r["地址"] for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))]
    assert "'" + formula in cells and formula not in cells
    _, body = download(small_people["street_admin"], "households", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    header = [c.value for c in sheet[1]]
    column = [row[header.index("地址")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'" + formula in column
    _, body = download(small_people["street_admin"], "households", "geojson")
    assert formula in set(read_features(body)["address"])
    _, body = download(small_people["street_admin"], "households", "csv")
    assert formula in set(read_table(body, source_crs="WGS84")["地址"])  # the import takes the ' off again


@pytest.mark.parametrize(
    ("layer", "fmt", "status"), [("members", "geojson", 400), ("grids", "kml", 400), ("people", "csv", 404)]
)
def test_impossible_exports_are_refused_with_the_reason(small_people, layer, fmt, status):
    response, body = download(small_people["street_admin"], layer, fmt)
    assert response.status_code == status and b'"field"' in body


def test_an_anonymous_export_is_401(client):
    response, _ = download(client, "grids", "csv")
    assert response.status_code == 401


@pytest.mark.parametrize("fmt", SPATIAL)
def test_households_read_back_from_every_format_match_the_database(small_people, fmt):
    _, body = download(small_people["street_admin"], "households", fmt)
    frame = read_back(body, fmt)
    key = "编号" if fmt in ("csv", "xlsx") else "id"
    user = small_people["users"]["street_admin"]
    stored = {h.pk: h for h in policy.households_for(user)}
    assert sorted(int(float(v)) for v in frame[key]) == sorted(stored)
    for pk, geom in zip(frame[key], frame.geometry.values):
        h = stored[int(float(pk))]
        assert abs(geom.x - h.location.x) < 1e-7 and abs(geom.y - h.location.y) < 1e-7


@pytest.mark.parametrize("fmt", SPATIAL)
def test_grids_read_back_from_every_format_match_the_database(small_people, small_street, fmt):
    _, body = download(small_people["street_admin"], "grids", fmt)
    frame = read_back(body, fmt)
    codes = frame["代码" if fmt in ("csv", "xlsx") else "code"].astype(str).tolist()
    for code, geom in zip(codes, frame.geometry.values):
        stored = shapely.normalize(shapely.from_wkb(bytes(small_street["grids"][code].boundary.wkb)))
        read = shapely.normalize(shapely.force_2d(geom))
        assert np.abs(shapely.get_coordinates(read) - shapely.get_coordinates(stored)).max() < 1e-7


def test_station_export_keeps_the_service_text(small_people, small_street):
    ServiceStation.objects.filter(pk=small_street["station"].pk).update(
        services="法律咨询;家政服务", opening_hours="8:30-17:30"
    )
    _, body = download(small_people["street_admin"], "stations", "xlsx")
    frame = read_table(body, source_crs="WGS84")
    assert frame["服务项目"].tolist() == ["法律咨询;家政服务"] and frame["开放时间"].tolist() == ["8:30-17:30"]


def test_members_are_exported_with_masked_phones_and_their_roles(small_people):
    _, body = download(small_people["street_admin"], "members", "csv")
    rows = {r["姓名"]: r for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    assert rows["赵网格"]["电话"] == "135****5678" and rows["赵网格"]["网格分工"] == "110105001001002:网格长"
    _, body = download(small_people["street_admin"], "members", "csv", reason="核对网格长名单")
    assert "13512345678" in body.decode("utf-8-sig")


def test_central_household_links_read_back_as_lines_between_the_two_households(small_people, small_street):
    _, body = download(small_people["community_staff"], "links", "gpkg")
    frame = read_features(body)
    east, edge = small_street["households"]["east"], small_street["households"]["edge"]
    assert (frame["central"].tolist(), frame["household"].tolist()) == ([east.pk], [edge.pk])
    line = frame.geometry.iloc[0]
    assert line.coords[0] == pytest.approx((east.location.x, east.location.y), abs=1e-7)
    assert line.coords[-1] == pytest.approx((edge.location.x, edge.location.y), abs=1e-7)
    assert 150 < frame["length_m"].iloc[0] < 200  # 0.002° of longitude at 39.9°N is ~171 m
