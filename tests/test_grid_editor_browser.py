"""The grid editor in Debian's chromium: draw with live household counts, overlap refusal, split and merge,
and the stale-version conflict. Every test undoes its drafts, so the demo street stays as loaded."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import shapely
import shapely.affinity
import shapely.geometry

from tests.browser_support import OfflinePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TO_PIXEL = """([lon, lat]) => { const m = GridEditor.state.map; const p = m.latLngToContainerPoint([lat, lon]);
  const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }"""
API = """async ([url, body, etag]) => { const r = await fetch(url, {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json", "If-Match": etag,
            "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value},
  body: JSON.stringify(body)}); return [r.status, await r.json()]; }"""


def open_editor(browser, live_app, username: str) -> OfflinePage:
    view = OfflinePage(browser, live_app, viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    view.page.on("pageerror", lambda e: errors.append(str(e)))
    pending: set[str] = set()
    view.page.on("request", lambda r: pending.add(r.url))
    view.page.on("requestfinished", lambda r: pending.discard(r.url))
    view.page.on("console", lambda m: errors.append(m.text))
    view.login(username)
    view.page.goto(live_app + "/editor/")
    try:
        view.page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        view.page.screenshot(path=str(ARTIFACTS / "grid_editor_failure.png"))
        pytest.fail(f"the editor did not load: {errors} {pending} {view.failed}")
    return view


def first_community_grids():
    from gridmap.models import Community, Grid, Household

    community = Community.objects.order_by("code").first()
    grids = list(Grid.objects.filter(community=community, status="published").order_by("code"))
    counts = {g.pk: Household.objects.filter(location__intersects=g.boundary).count() for g in grids}
    return community, sorted(grids, key=lambda g: -counts[g.pk]), counts


def shape_of(grid) -> shapely.Geometry:
    grid.refresh_from_db()
    return shapely.from_wkb(bytes((grid.draft_boundary or grid.boundary).wkb))


def households_in(geom: shapely.Geometry) -> int:
    from django.contrib.gis.geos import GEOSGeometry

    from gridmap.models import Household

    return Household.objects.filter(location__intersects=GEOSGeometry(geom.wkt, srid=4326)).count()


def click_at(page, lon: float, lat: float) -> None:
    x, y = page.evaluate(TO_PIXEL, [lon, lat])
    page.mouse.click(x, y)


def split_across(page, grid) -> None:
    """Select ``grid`` and cut it with a west-east line through its centre."""
    shape = shape_of(grid)
    x0, _, x1, _ = shape.bounds
    lat = shape.centroid.y
    page.click(f"#grid-list li[data-code='{grid.code}']")
    page.click("#tool-split")
    margin = (x1 - x0) * 0.15
    click_at(page, x0 - margin, lat)
    click_at(page, x1 + margin, lat)
    click_at(page, x1 + margin, lat)  # clicking the last vertex again ends the line
    wait_text(page, "已分割为")


def wait_text(page, text: str, selector: str = "#editor-message") -> str:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "([s, t]) => document.querySelector(s).textContent.includes(t)", arg=[selector, text], timeout=15_000
        )
    except PlaywrightTimeout:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "grid_editor_failure.png"))
        pytest.fail(f"waited for {text!r}, the page says {page.inner_text(selector)!r}")
    return page.inner_text(selector)


def post(page, url: str, grid) -> tuple[int, dict]:
    """A grid write from the page, as the editor sends it: If-Match names the grid's version."""
    return tuple(page.evaluate(API, [url, {}, f'"{grid.version}"']))


def test_splitting_then_merging_gives_the_grid_back_with_the_same_households(browser, live_app):
    from gridmap.models import Grid

    _, grids, counts = first_community_grids()
    grid = grids[0]
    view = open_editor(browser, live_app, "jiedao")
    page = view.page
    split_across(page, grid)
    assert "已分割为" in page.inner_text("#editor-message")
    new = Grid.objects.filter(community=grid.community, status="draft").order_by("-code").first()
    kept, cut = shape_of(grid), shape_of(new)
    assert kept.is_valid and cut.is_valid and not kept.overlaps(cut)
    assert households_in(kept) + households_in(cut) == counts[grid.pk] > 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "grid_editor_split.png"))

    page.click(f"#grid-list li[data-code='{grid.code}']")
    page.click("#tool-merge")
    page.click(f"#grid-list li[data-code='{new.code}']")
    wait_text(page, "已合并为")
    merged = shape_of(grid)
    original = shapely.from_wkb(bytes(grid.boundary.wkb))
    assert merged.symmetric_difference(original).area < 1e-12
    assert households_in(merged) == counts[grid.pk]
    new.refresh_from_db()
    assert new.status == "retired"
    grid.refresh_from_db()
    assert post(page, f"/api/v1/grids/{grid.pk}/discard", grid)[0] == 200
    assert view.outside == []
    view.context.close()


def test_drawing_a_grid_shows_the_live_count_saves_it_and_refuses_an_overlap(browser, live_app):
    from gridmap.models import Grid

    _, grids, _ = first_community_grids()
    host = grids[1]
    view = open_editor(browser, live_app, "jiedao")
    page = view.page
    split_across(page, host)  # make room: cut a piece off a grid and retire that draft piece
    piece = Grid.objects.filter(community=host.community, status="draft").order_by("-code").first()
    piece.refresh_from_db()
    status, _ = post(page, f"/api/v1/grids/{piece.pk}/retire", piece)
    assert status == 200
    page.select_option("#community", str(host.community_id))  # reload the community
    page.wait_for_function("(code) => !document.querySelector(`#grid-list li[data-code='${code}']`)", arg=piece.code)
    room = shape_of(piece).geoms[0]
    x0, y0, x1, y1 = room.bounds
    page.evaluate(
        "([s, w, n, e]) => GridEditor.state.map.fitBounds([[s, w], [n, e]], {padding: [80, 80]})", [y0, x0, y1, x1]
    )
    centre = room.centroid
    drawn = shapely.affinity.scale(room, 0.6, 0.6, origin=centre)
    vertices = list(drawn.exterior.coords)[:-1]
    page.click("#tool-draw")
    for lon, lat in vertices:
        click_at(page, lon, lat)
    assert page.locator("#live-n").is_visible()  # counted while drawing
    click_at(page, *vertices[0])  # closing the ring finishes the shape
    page.wait_for_selector("#tool-save:not([disabled])")
    live = int(page.inner_text("#live-n"))
    assert "目标 200–500 户" in page.inner_text("#live-count")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "grid_editor_draw.png"))
    page.click("#tool-save")
    wait_text(page, "已保存")
    created = Grid.objects.filter(community=host.community, status="draft").order_by("-code").first()
    saved = int(re.search(r"（(\d+) 户）", page.inner_text("#editor-message")).group(1))
    assert created.code != piece.code and page.locator(f"#grid-list li[data-code='{created.code}']").is_visible()
    # The server snaps the clicked vertices (a pixel is ~1 m here): a household on the edge may flip.
    assert saved == households_in(shape_of(created)) and abs(saved - live) <= 1

    before = Grid.objects.count()
    page.click("#tool-draw")
    # A thin triangle from inside the new grid to inside the host grid (communities are convex here).
    host_shape = shape_of(host)
    host_centre = host_shape.centroid
    x0, y0, x1, y1 = shapely.union_all([room, host_shape]).bounds
    page.evaluate(
        "([s, w, n, e]) => GridEditor.state.map.fitBounds([[s, w], [n, e]], {padding: [40, 40]})", [y0, x0, y1, x1]
    )
    dx, dy = (host_centre.y - centre.y) * 0.15, (centre.x - host_centre.x) * 0.15
    corners = [(centre.x, centre.y), (host_centre.x + dx, host_centre.y + dy), (host_centre.x - dx, host_centre.y - dy)]
    for lon, lat in corners:
        click_at(page, lon, lat)
    click_at(page, *corners[0])
    page.wait_for_selector("#tool-save:not([disabled])")
    page.click("#tool-save")
    wait_text(page, "与相邻网格重叠")
    assert page.locator("path.overlap-area").count() >= 1
    assert Grid.objects.count() == before
    page.screenshot(path=str(ARTIFACTS / "grid_editor_overlap.png"))
    page.click("#tool-cancel")
    created.refresh_from_db()
    host.refresh_from_db()
    assert post(page, f"/api/v1/grids/{created.pk}/retire", created)[0] == 200
    assert post(page, f"/api/v1/grids/{host.pk}/discard", host)[0] == 200
    assert view.outside == []
    view.context.close()


def test_a_second_user_saving_a_stale_version_gets_the_conflict_message(browser, live_app):
    _, grids, _ = first_community_grids()
    grid = grids[2]
    first = open_editor(browser, live_app, "jiedao")
    second = open_editor(browser, live_app, "shequ")
    for view in (first, second):
        view.page.click(f"#grid-list li[data-code='{grid.code}']")
        view.page.click("#tool-edit")
    first.page.click("#tool-save")
    wait_text(first.page, "已保存")
    second.page.click("#tool-save")
    message = wait_text(second.page, "已被他人修改")
    assert "已被他人修改" in message and "没有丢失" in message
    assert second.page.evaluate("GridEditor.state.working !== null && GridEditor.state.mode === 'edit'")
    ARTIFACTS.mkdir(exist_ok=True)
    second.page.screenshot(path=str(ARTIFACTS / "grid_editor_conflict.png"))
    grid.refresh_from_db()
    assert post(first.page, f"/api/v1/grids/{grid.pk}/discard", grid)[0] == 200
    assert first.outside == [] and second.outside == []
    first.context.close()
    second.context.close()


def test_readers_are_refused_the_editor(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 1000, "height": 700})
    view.login("wanggezhang")
    response = view.page.goto(live_app + "/editor/")
    assert response.status == 403 and "只有街道管理员和社区工作者" in view.page.inner_text("main")
    assert json.dumps(view.outside) == "[]"
    view.context.close()


def test_an_import_preview_shows_each_row_on_the_map_with_its_reason(browser, live_app, tmp_path):
    from gridmap.models import Grid

    _, grids, _ = first_community_grids()
    inside = shapely.affinity.scale(shape_of(grids[0]).geoms[0], 0.5, 0.5)  # overlaps its own grid
    path = tmp_path / "grids.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "导入测试"},
                        "geometry": shapely.geometry.mapping(inside),
                    }
                ],
            }
        )
    )
    before = Grid.objects.count()
    view = open_editor(browser, live_app, "jiedao")
    page = view.page
    page.set_input_files("#import-file", str(path))
    page.click("#import-preview")
    wait_text(page, "未导入任何网格")
    assert "导入测试" in page.inner_text("#import-list") and "与相邻网格重叠" in page.inner_text("#import-list")
    assert page.locator("path.import-bad").count() == 1 and page.locator("#import-run").is_disabled()
    assert Grid.objects.count() == before and view.outside == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "grid_editor_import_preview.png"))
    view.context.close()
