"""Reference layers in a real browser (every outside request blocked): each map page draws roads, water and
compounds beneath the data from the server alone, names them in its layer control, and a planner's switch
hides them; zoomed in, buildings appear."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, zoom_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PATHS = ".leaflet-reference-pane path"


def _wait_paths(page, ok, seconds: float = 30) -> int:
    """Poll the number of reference paths until ``ok(count)`` (no string eval: the pages' CSP forbids it)."""
    count = page.locator(PATHS).count()
    for _ in range(int(seconds * 4)):
        if ok(count):
            return count
        page.wait_for_timeout(250)
        count = page.locator(PATHS).count()
    raise AssertionError(f"{count} reference paths")


@pytest.mark.parametrize(
    ("user", "url"), [("jiedao", "/map/"), ("jiedao", "/editor/"), ("guihua", "/planner/"), ("jiedao", "/staffing/")]
)
def test_every_map_page_draws_the_reference_layers_beneath_the_data(browser, live_app, user, url):
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login(user)
    page = view.page
    page.goto(live_app + url)
    _wait_paths(page, lambda n: n > 20)
    pane = page.locator(".leaflet-reference-pane")
    overlay = page.locator(".leaflet-overlay-pane")
    assert int(pane.evaluate("e => getComputedStyle(e).zIndex")) < int(
        overlay.evaluate("e => getComputedStyle(e).zIndex")
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reference{url.strip('/').replace('/', '_')}.png"))
    assert not view.outside and not view.csp_violations, (view.outside, view.csp_violations)


def test_the_layer_control_switches_them_and_buildings_show_zoomed_in(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login("jiedao")
    page = view.page
    page.goto(live_app + "/map/")
    wide = _wait_paths(page, lambda n: n > 20)
    zoom_to(page, 16)
    _wait_paths(page, lambda n: n != wide)
    # compound names from zoom 16, once the box on view has been read (the paths may change before that)
    page.locator(".gm-ref-label").first.wait_for(state="attached", timeout=15_000)
    assert page.locator(".gm-ref-label").count() > 0
    entry = page.locator(".leaflet-control-layers-overlays label", has_text="参考图层")
    assert entry.count() == 1
    entry.locator("input").uncheck()
    _wait_paths(page, lambda n: n == 0, seconds=10)
