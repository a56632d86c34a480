"""Readable maps (issue #16, item 5) in Debian's chromium: grid labels never overlap each other or a station
symbol at any zoom they show at; radius rings are outlined, not filled; household clusters are not in the grid
bands' colours; every symbol has a legend entry; on the planner the heat layer lies above the choropleth and
has its own legend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, zoom_of, zoom_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
BAND_COLOURS = {"rgb(0, 158, 115)", "rgb(230, 159, 0)", "rgb(213, 94, 0)"}  # street_map.js bandColour

BOXES = """(sel) => Array.from(document.querySelectorAll(sel)).map((e) => {
  const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def test_street_map_labels_do_not_collide_and_every_symbol_is_explained(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login("jiedao")
    page = view.page
    start = zoom_of(page)
    for level in (15, 16):  # to the zoom where labels show, then one closer
        zoom_to(page, level)
        page.wait_for_timeout(400)  # the labels are placed after the zoom ends
        labels = page.evaluate(BOXES, ".grid-label")
        stations = page.evaluate(BOXES, ".station-icon")
        for i, a in enumerate(labels):
            assert not any(_overlap(a, b) for b in labels[i + 1 :]), "two grid labels overlap"
            assert not any(_overlap(a, s) for s in stations), "a grid label covers a station"
    assert page.locator(".grid-label").count() > 0
    rings = page.locator("path.leaflet-interactive, svg path").evaluate_all(
        "(ps) => ps.filter((p) => p.getAttribute('stroke') === '#6a3d9a').map((p) => p.getAttribute('fill'))"
    )
    assert rings and set(rings) == {"none"}  # outlined radius rings
    zoom_to(page, start - 1, button=".leaflet-control-zoom-out")  # households cluster further out
    cluster = page.locator(".marker-cluster div").first
    cluster.wait_for()
    assert cluster.evaluate("(e) => getComputedStyle(e).backgroundColor").replace("a", "") not in BAND_COLOURS
    legend = page.inner_text(".legend")
    for entry in ("服务站", "服务半径", "困难户", "住户聚合", "党员中心户", "中心户联系线"):
        assert entry in legend, entry
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "street_map_readable.png"))
    assert view.outside == []
    view.context.close()


def test_the_planners_heat_layer_lies_above_the_choropleth_with_its_own_legend(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login("guihua")
    page = view.page
    page.goto(live_app + "/planner/")
    page.wait_for_selector("#planner-root[data-loaded=true]", timeout=30_000)
    with page.expect_response(lambda r: "/heat" in r.url, timeout=60_000) as heat:
        page.select_option("#heat", "households")
    assert heat.value.status == 200 and heat.value.json()["points"]
    page.locator("#heat-legend").wait_for()
    canvas = page.locator(".leaflet-heat-pane canvas")
    assert canvas.count() == 1
    z = page.locator(".leaflet-heat-pane").evaluate("(e) => Number(getComputedStyle(e).zIndex)")
    overlay = page.locator(".leaflet-overlay-pane").evaluate("(e) => Number(getComputedStyle(e).zIndex)")
    assert z > overlay
    assert "住户分布" in page.inner_text("#heat-legend")
    page.screenshot(path=str(ARTIFACTS / "planner_heat_above.png"))
    page.select_option("#heat", "")
    page.locator("#heat-legend").wait_for(state="detached")
    assert page.locator(".leaflet-heat-pane canvas").count() == 0
    assert view.outside == []
    view.context.close()
