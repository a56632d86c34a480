"""The concern map of the KPI panel in Debian's chromium (issue #17): the street admin opens 统计 on /concerns/ and
sees grids coloured by their concerns with a legend, the heat layer in its own pane above the grids with its own
legend, and switches the category; on a desktop and at phone width (390 px), with no request leaving the app and
no CSP violation. Screenshots in test-artifacts/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, zoom_of, zoom_to
from tests.test_concerns_browser import _open
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# 5 concerns in each of the first 6 grids (3 sanitation, 2 facilities), through the API as the street admin, all at
# the grid's label point: five points metres apart could straddle a heat cell's edge (the cells are one fixed grid)
# and leave two cells under 5, which a planner does not see.
REPORT = """async () => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  const grids = await (await fetch("/api/layers/grids.geojson")).json();
  for (const f of grids.features.slice(0, 6)) {
    const [lon, lat] = f.properties.label_point;
    for (let j = 0; j < 5; j += 1) {
      const r = await fetch("/api/v1/concerns", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({category: j < 3 ? "sanitation" : "facilities", description: "地图测试 " + j,
                              location: {type: "Point", coordinates: [lon, lat]}})});
      if (r.status !== 201) { throw new Error("report " + r.status); }
    }
  }
}"""
Z = "(e) => Number(getComputedStyle(e).zIndex)"


def _open_map(page):
    with page.expect_response(lambda r: "/api/v1/concern-heat" in r.url, timeout=60_000) as heat:
        page.click("#kpi-open")
    page.locator("#concern-legend").wait_for(timeout=30_000)
    return heat.value.json()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_concern_map_shows_a_choropleth_and_a_heat_layer_above_it(browser, live_app, width):
    phone = width < 500
    context = {"viewport": {"width": width, "height": 844 if phone else 800}}
    if phone:
        context.update(is_mobile=True, has_touch=True)
    with committed_cleanup("gridmap_concernevent", "gridmap_concern"):
        view = _open(browser, live_app, "jiedao", **context)
        page = view.page
        page.evaluate(REPORT)
        heat = _open_map(page)
        assert heat["total"] >= 30 and heat["points"]
        legend = page.inner_text("#concern-legend")
        assert "诉求数" in legend and "件" in legend
        assert page.locator("path[data-area]").count() > 0
        page.locator("#concern-heat-legend").wait_for()
        assert "热力图" in page.inner_text("#concern-heat-legend")
        canvas = page.locator(".leaflet-concern-heat-pane canvas")
        assert canvas.count() == 1
        pane = page.locator(".leaflet-concern-heat-pane").evaluate(Z)
        assert pane > page.locator(".leaflet-overlay-pane").evaluate(Z)  # above the grids' SVG
        assert page.locator("path.leaflet-interactive:not([data-area])").count() == 0  # no concern's marker

        with page.expect_response(lambda r: "/api/v1/concern-areas" in r.url and "facilities" in r.url) as areas:
            page.select_option("#cm-category", "facilities")
        table = areas.value.json()
        assert table["category"] == "facilities"
        assert sum(a["concerns"] for a in table["areas"]) >= 12  # 2 in each of the 6 grids, more if others added
        page.locator("#concern-legend").wait_for()
        start = zoom_of(page)
        zoom_to(page, start + 1)
        assert page.locator(".leaflet-concern-heat-pane canvas").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"concern_map_{width}.png"), full_page=phone)
        page.click("#kpi-open")  # closed: the aggregates go, the concerns' markers come back
        page.locator("#concern-legend").wait_for(state="detached")
        assert page.locator(".leaflet-concern-heat-pane canvas").count() == 0
        assert view.outside == [] and view.csp_violations == []
        view.context.close()


def test_a_planner_sees_the_figures_and_the_map_but_no_concern(browser, live_app):
    """Planners plan with the concern figures too: /concerns/ shows them the KPI table and the concern map (counts
    only, fewer than 5 withheld), no board, no list, no description; the menu leads there."""
    with committed_cleanup("gridmap_concernevent", "gridmap_concern"):
        admin = _open(browser, live_app, "jiedao")
        admin.page.evaluate(REPORT)
        admin.context.close()
        view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
        view.login("guihua")
        page = view.page
        assert page.locator(".topnav a[href='/concerns/']").count() == 1
        with page.expect_response(lambda r: "/api/v1/concern-heat" in r.url, timeout=60_000) as heat:
            page.goto(live_app + "/concerns/")
        assert heat.value.status == 200 and heat.value.json()["total"] >= 30
        page.locator("#concern-legend").wait_for(timeout=30_000)
        page.locator("#kpi-rows tr").first.wait_for(timeout=30_000)
        assert page.locator("#concern-list, #report-form, #bulk-bar").count() == 0
        with page.expect_response(lambda r: "/api/v1/concern-areas" in r.url and "facilities" in r.url) as areas:
            page.select_option("#cm-category", "facilities")
        shown = [a["concerns"] for a in areas.value.json()["areas"] if a["concerns"] not in (0, None)]
        assert shown and all(c == "<5" or int(c) >= 5 for c in shown)  # 2 per grid: withheld
        assert "地图测试" not in page.content()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "concern_map_planner.png"))
        assert view.outside == [] and view.csp_violations == []
        view.context.close()
