"""Publishing from the grid editor in Debian's chromium (#16 item 8), and the legend on a phone.

The street admin splits a grid so that one part falls below the household band, presses publish, sees the
server's band check (which grids, how many households, under or over) with the parts outlined on the map,
goes back once (nothing published), then publishes anyway; a second tab holding the older community state is
refused (412) and reloads; /map/ shows the new grid with its households. The test merges the parts back and
publishes again, so the demo street ends with its shapes and homes as loaded (plus one retired grid code).
Screenshots (desktop and 390 px, Chinese and English) go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
import shapely
import shapely.geometry
from django.conf import settings

from tests.browser_support import OfflinePage
from tests.test_grid_editor_browser import API, ARTIFACTS, click_at, households_in, open_editor, shape_of, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# The share of the map's box that the legend's box covers.
COVERED = """() => { const m = document.getElementById("map").getBoundingClientRect();
  const l = document.getElementById("editor-legend").getBoundingClientRect();
  const w = Math.max(0, Math.min(m.right, l.right) - Math.max(m.left, l.left));
  const h = Math.max(0, Math.min(m.bottom, l.bottom) - Math.max(m.top, l.top));
  return {covered: w * h / (m.width * m.height), map: [m.width, m.height], legend: [l.width, l.height]}; }"""
COMMUNITY_ETAG = """async (id) => (await (await fetch(`/api/communities/${id}/grids.geojson`)).json()).etag"""
# The street map is not a global: keep it when django-leaflet announces it.
KEEP_MAP = "window.addEventListener('map:init', (e) => { window.keptMap = e.detail.map; });"
OPEN_POPUP = """([code, lon, lat]) => { let text = null; const map = window.keptMap; map.eachLayer((l) => {
  if (l.feature && l.feature.properties && l.feature.properties.code === code && l.getPopup()) {
    map.fitBounds(l.getBounds(), {animate: false}); l.openPopup([lat, lon]);
    text = document.querySelector(".leaflet-popup-content").innerText; } });
  return text; }"""


def cut_line(grid) -> tuple[float, float, float]:
    """A west-east line across ``grid`` leaving a northern part with some households, but fewer than the band's
    minimum: (west, east, latitude)."""
    shape = shape_of(grid)
    x0, y0, x1, y1 = shape.bounds
    for share in (0.85, 0.8, 0.9, 0.75, 0.7, 0.65, 0.6):
        lat = y0 + (y1 - y0) * share
        north = shape.intersection(shapely.box(x0 - 1, lat, x1 + 1, y1 + 1))
        if north.geom_type == "Polygon" and 0 < households_in(north) < settings.GRID_HOUSEHOLDS_MIN:
            margin = (x1 - x0) * 0.1
            return x0 - margin, x1 + margin, lat
    raise AssertionError(f"no west-east cut of {grid.code} leaves a small northern part")


def restore(page, grid, piece) -> None:
    """Merge the split-off part back (the lower code keeps the union) and publish, or drop the drafts."""
    grid.refresh_from_db()
    piece.refresh_from_db()
    if piece.status == "published":
        tags = f'"{grid.version}", "{piece.version}"'
        assert page.evaluate(API, ["/api/v1/grids/merge", {"grids": [grid.pk, piece.pk]}, tags])[0] == 200
        etag = page.evaluate(COMMUNITY_ETAG, grid.community_id)
        status, body = page.evaluate(API, [f"/api/v1/communities/{grid.community_id}/publish", {}, etag])
        assert status == 200, body
    elif piece.status == "draft":
        page.evaluate(API, [f"/api/v1/grids/{piece.pk}/retire", {}, f'"{piece.version}"'])
        grid.refresh_from_db()
        page.evaluate(API, [f"/api/v1/grids/{grid.pk}/discard", {}, f'"{grid.version}"'])


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("() => { const b = document.getElementById('publish-check'); if (!b.hidden) b.scrollIntoView(); }")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def shoot_both_sizes(page, language: str) -> None:
    shoot(page, f"grid_editor_publish_check_desktop_{language}")
    assert page.locator("#editor-legend-items").is_visible()  # open on a desktop
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.locator("#editor-legend-items").is_hidden()  # folded once the screen is a phone's
    shoot(page, f"grid_editor_publish_check_390_{language}")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.wait_for_timeout(300)


def open_check(page) -> list[list[str]]:
    page.click("#publish-button")
    page.wait_for_selector("#publish-check li")
    return page.eval_on_selector_all("#publish-check li", "els => els.map((e) => [e.dataset.code, e.dataset.side])")


def test_publishing_warns_of_the_band_then_publishes_and_the_map_shows_the_new_grid(browser, live_app):
    from gridmap.models import Community, Grid, GridVersion, Household

    community = Community.objects.order_by("-code").first()  # not the community the other editor tests use
    grids = list(Grid.objects.filter(community=community, status="published"))
    homes = {g.pk: Household.objects.filter(grid=g).count() for g in grids}
    grid = max(grids, key=lambda g: homes[g.pk])
    original = shape_of(grid)
    west, east, lat = cut_line(grid)
    low, high = settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX

    view = open_editor(browser, live_app, "jiedao")
    page = view.page
    page.goto(f"{live_app}/editor/?community={community.pk}&grid={grid.pk}")  # that grid selected and in view
    page.wait_for_selector(f"#grid-list li.selected[data-code='{grid.code}']")
    piece = None
    stale = None
    try:
        page.click("#tool-split")
        for lon in (west, east, east):  # clicking the last vertex again ends the line
            click_at(page, lon, lat)
        wait_text(page, "已分割为")
        piece = Grid.objects.filter(community=community, status="draft").order_by("-code").first()
        counts = {grid.code: households_in(shape_of(grid)), piece.code: households_in(shape_of(piece))}
        expected = [
            [code, "under" if n < low else "over"] for code, n in sorted(counts.items()) if not low <= n <= high
        ]
        assert [piece.code, "under"] in expected

        # A second tab of the same admin, read before the publish.
        stale = OfflinePage(browser, live_app, viewport={"width": 1000, "height": 800})
        stale.login("jiedao")
        stale.page.goto(f"{live_app}/editor/?community={community.pk}")
        stale.page.wait_for_selector(f"#grid-list li[data-code='{piece.code}']")

        versions = GridVersion.objects.count()
        assert open_check(page) == expected
        check = page.inner_text("#publish-check")
        assert f"{piece.name}（{piece.code}）：{counts[piece.code]} 户，少于下限 {low} 户" in check
        assert f"个网格发布后将超出目标范围 {low}–{high} 户" in check
        assert page.locator("path.band-check-area").count() == len(expected)
        shoot_both_sizes(page, "zh")
        page.click("#publish-back")  # back to editing: nothing published
        assert page.locator("#publish-check").is_hidden() and page.locator("path.band-check-area").count() == 0
        piece.refresh_from_db()
        assert piece.status == "draft" and GridVersion.objects.count() == versions

        # The same check in English (the page's language from the top bar's cookie), then publish anyway.
        view.context.add_cookies([{"name": "django_language", "value": "en", "url": live_app}])
        page.reload()
        page.wait_for_selector(f"#grid-list li[data-code='{piece.code}']")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert open_check(page) == expected
        shoot_both_sizes(page, "en")
        page.click("#publish-confirm")
        wait_text(page, f"Published {len(counts)} grids")
        assert page.locator("#publish-check").is_hidden()
        piece.refresh_from_db()
        grid.refresh_from_db()
        assert piece.status == "published" and grid.draft_boundary is None
        assert GridVersion.objects.filter(grid__in=[grid, piece]).count() >= 2
        homed = Household.objects.filter(grid=piece).count()
        assert 0 < homed <= counts[piece.code]
        assert Household.objects.filter(grid=grid).count() + homed == homes[grid.pk]

        # The tab that read the community before the publish is refused, names why, and reloads.
        stale.page.click("#publish-button")
        wait_text(stale.page, "已被他人修改")
        stale.page.wait_for_function(
            "(code) => /已发布/.test(document.querySelector(`#grid-list li[data-code='${code}']`).textContent)"
            " && !/草稿/.test(document.querySelector(`#grid-list li[data-code='${code}']`).textContent)",
            arg=piece.code,
        )
        assert GridVersion.objects.filter(grid__in=[grid, piece]).count() >= 2
        assert stale.page.locator("#publish-check").is_hidden()

        # /map/ draws the new grid from the published layer, with the households now homed in it.
        page.add_init_script(KEEP_MAP)
        page.goto(live_app + "/map/")
        page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)
        spot = shape_of(piece).point_on_surface()
        popup = page.evaluate(OPEN_POPUP, [piece.code, spot.x, spot.y])
        assert popup is not None, f"{piece.code} is not on /map/"
        assert page.locator(".leaflet-popup-content").is_visible() and piece.name in popup and piece.code in popup
        assert re.search(r"[：:]\s*(\d+)", popup.split("\n")[3]).group(1) == str(homed), popup
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "grid_editor_published_on_map_en.png"))
        page.goto(live_app + "/editor/")
        assert view.outside == [] and stale.outside == []
    finally:
        if piece is not None:
            restore(page, grid, piece)
        if stale is not None:
            stale.context.close()
    grid.refresh_from_db()
    assert shape_of(grid).symmetric_difference(original).area < 1e-12
    assert Household.objects.filter(grid=grid).count() == homes[grid.pk]
    view.context.close()


def test_the_legend_folds_away_on_a_phone_in_both_languages(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 390, "height": 844})
    view.login("jiedao")
    page = view.page
    ARTIFACTS.mkdir(exist_ok=True)
    for language in ("zh-hans", "en"):
        view.context.add_cookies([{"name": "django_language", "value": language, "url": live_app}])
        page.goto(live_app + "/editor/")
        page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)
        assert page.evaluate("document.documentElement.lang") == language
        toggle, items = page.locator("#editor-legend summary"), page.locator("#editor-legend-items")
        assert toggle.is_visible() and items.is_hidden()
        folded = page.evaluate(COVERED)
        assert folded["map"][0] >= 380 and folded["map"][1] >= 300, folded  # the map has room of its own
        assert folded["covered"] <= 0.05, folded
        page.screenshot(path=str(ARTIFACTS / f"grid_editor_legend_390_{language}.png"))
        toggle.click()
        assert items.is_visible()
        opened = page.evaluate(COVERED)
        assert opened["covered"] <= 0.3, opened  # open, it still leaves at least 70 % of the map
        text = page.inner_text("#editor-legend")
        assert (CJK.search(text) is None) if language == "en" else ("草稿" in text and "社区边界" in text), text
        page.screenshot(path=str(ARTIFACTS / f"grid_editor_legend_390_{language}_open.png"))
        toggle.click()
        assert items.is_hidden()
    assert view.outside == []
    view.context.close()
