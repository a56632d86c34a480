"""Grid editor (#16 item 8) on the small street: a clip never leaves an empty or sliver grid, split /
merge / reshape answer with a band warning when a result leaves the household band, and a retirement
counts the households it would leave outside every grid (a preview retires nothing)."""

from __future__ import annotations

from gridmap.models import Grid, GridStatus, Household, Role
from tests.test_grid_editing import EAST, EAST1, EAST2, box, client, post, street  # noqa: F401


def _shrink_east2(c, west_edge: float) -> None:
    east2 = Grid.objects.get(code=EAST2)
    got, _body = post(
        c, f"/api/v1/grids/{east2.pk}/boundary", {"geometry": box(west_edge, 39.9, 116.41, 39.908), "version": 1}
    )
    assert got == 200


def test_a_clip_leaving_a_sliver_is_refused_with_its_area_and_a_suggestion(street):
    c = client(street["users"][Role.STREET_ADMIN])
    _shrink_east2(c, 116.40505)  # a free strip ~4 m wide between 东一 and 东二
    body = {"community": street["communities"][EAST].pk, "geometry": box(116.404, 39.9, 116.406, 39.902), "clip": True}
    got, refused = post(c, "/api/v1/grids/drafts", body)
    assert (got, refused["code"], refused["field"]) == (400, "clip_leaves_sliver", "geometry")
    assert 0 < refused["area_m2"] < 1000 and refused["min_area_m2"] == 1000
    assert "裁剪后只剩" in refused["detail"] and "不勾选裁剪" in refused["detail"]
    assert not Grid.objects.filter(status=GridStatus.DRAFT).exists()


def test_a_clip_leaving_no_household_of_the_drawn_ones_is_refused(street):
    c = client(street["users"][Role.STREET_ADMIN])
    _shrink_east2(c, 116.4055)  # a free strip ~43 m wide
    Household.objects.create(location="SRID=4326;POINT(116.4045 39.901)", address="x", head_name="钱七")
    body = {"community": street["communities"][EAST].pk, "geometry": box(116.404, 39.9, 116.406, 39.903), "clip": True}
    got, refused = post(c, "/api/v1/grids/drafts", body)
    assert (got, refused["code"]) == (400, "clip_leaves_no_households")
    assert refused["households_drawn"] == 1 and refused["area_m2"] > 1000
    assert not Grid.objects.filter(status=GridStatus.DRAFT).exists()
    got, _refused = post(c, "/api/v1/grids/check", body)  # the dry run answers the same refusal
    assert got == 400


def test_split_merge_and_save_answer_a_band_warning_outside_the_band(street, settings):
    settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX = 2, 3
    c = client(street["users"][Role.STREET_ADMIN])
    grid = Grid.objects.get(code=EAST2)
    Household.objects.create(location="SRID=4326;POINT(116.408 39.906)", address="x", head_name="赵六")
    line = {"type": "LineString", "coordinates": [[116.404, 39.905], [116.411, 39.905]]}
    got, parts = post(c, f"/api/v1/grids/{grid.pk}/split", {"line": line, "version": 1})
    assert got == 200
    by_count = {p["households"]: p for p in parts}
    assert by_count[1]["band_warning"] and "1 户" in by_count[1]["band_warning"]
    assert by_count[2]["band_warning"] is None and by_count[2]["band"] == {"min": 2, "max": 3}
    east1 = Grid.objects.get(code=EAST1)
    settings.GRID_HOUSEHOLDS_MAX = 2
    got, merged = post(
        c, "/api/v1/grids/merge", {"grids": [east1.pk, grid.pk], "versions": {str(east1.pk): 1, str(grid.pk): 2}}
    )
    assert got == 200 and merged["households"] == 3  # 西, the edge one and the kept part's
    assert "3 户" in merged["band_warning"] and "2–2" in merged["band_warning"]
    east1.refresh_from_db()
    got, saved = post(
        c,
        f"/api/v1/grids/{east1.pk}/boundary",
        {"geometry": box(116.4, 39.9, 116.404, 39.908), "version": east1.version},
    )
    assert got == 200 and saved["households"] == 1 and saved["band_warning"]


def test_retiring_reports_the_households_left_in_a_gap_and_a_preview_retires_nothing(street):
    c = client(street["users"][Role.STREET_ADMIN])
    grid = Grid.objects.get(code=EAST2)
    got, preview = post(c, f"/api/v1/grids/{grid.pk}/retire", {"version": 1, "preview": True})
    assert got == 200 and preview["retired"] is False
    assert preview["gap_households"] == 1  # 东 at 116.407; the edge household stays in 东一
    grid.refresh_from_db()
    assert grid.version == 1 and not grid.retire_on_publish
    got, retired = post(c, f"/api/v1/grids/{grid.pk}/retire", {"version": 1})
    assert got == 200 and retired["retired"] is True and retired["gap_households"] == 1
    grid.refresh_from_db()
    assert grid.retire_on_publish
