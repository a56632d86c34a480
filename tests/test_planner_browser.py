"""Issue #6 in a real browser (Debian's chromium, every outside request blocked): a planner opens the
dashboard, switches the metric, the legend and ranking change, clicks a grid and reads why it fails."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _legend(page) -> list[str]:
    return [t.strip() for t in page.locator("#legend .legend-class").all_inner_texts()]


def test_a_planner_switches_the_metric_and_the_legend_changes(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 1400, "height": 850})
    view.login("guihua")
    page = view.page
    page.goto(live_app + "/planner/")
    page.wait_for_selector("#planner-root[data-loaded=true][data-metric=covered_pct]", timeout=30_000)
    coverage_legend = _legend(page)
    assert coverage_legend and all("%" in label for label in coverage_legend)
    assert page.locator("#ranking tr").count() == 44

    page.select_option("#metric", "vulnerable_uncovered")
    page.wait_for_selector("#planner-root[data-loaded=true][data-metric=vulnerable_uncovered]", timeout=30_000)
    legend = _legend(page)
    assert legend != coverage_legend and legend[1].startswith("<5")       # planners: small counts hidden
    assert "<5" in page.locator("#ranking").inner_text()

    page.select_option("#heat", "uncovered")
    page.wait_for_selector("canvas.leaflet-heatmap-layer", state="attached", timeout=15_000)

    # A click on the map (whole street in view) explains that grid: the worst one fails at least one rule.
    worst = page.locator("#ranking tr").first.get_attribute("data-grid")
    page.locator(f'path[data-grid="{worst}"]').click(force=True)
    page.wait_for_selector("#grid-problems li")
    assert page.locator("#ranking tr.selected").get_attribute("data-grid") == worst
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "planner_dashboard.png"))

    page.select_option("#metric", "size_band")
    page.wait_for_selector("#planner-root[data-loaded=true][data-metric=size_band]", timeout=30_000)
    assert len(_legend(page)) == 3
    # A click on a ranking row explains that grid and zooms to it.
    second = page.locator("#ranking tr").nth(1)
    name = second.locator("td").nth(1).inner_text().splitlines()[0]
    second.click()
    page.wait_for_selector(f'#ranking tr.selected[data-grid="{second.get_attribute("data-grid")}"]')
    assert name in page.locator("#grid-detail h2").inner_text()
    page.screenshot(path=str(ARTIFACTS / "planner_dashboard_size_band.png"))
    assert view.outside == [] and view.csp_violations == [] and view.failed == []
    view.context.close()


def test_the_report_opens_from_a_file_with_the_network_off(browser, client_for, tmp_path):
    page_html = client_for("planner").get("/planner/report.html", {"metric": "covered_pct"}).content
    path = tmp_path / "report.html"
    path.write_bytes(page_html)
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    outside = []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                  else (outside.append(route.request.url), route.abort()))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container path.leaflet-interactive", state="attached", timeout=15_000)
    assert page.locator(".leaflet-container path.leaflet-interactive").count() >= 44
    assert page.locator("#report-table tbody tr").count() == 44
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "planner_report_file.png"))
    assert outside == [] and errors == []
    context.close()
