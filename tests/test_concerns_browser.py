"""Residents' concerns in Debian's chromium (issue #17): a grid worker on a phone reports a concern by picking its
point on the map; the street admin accepts and dispatches it from the same page; the worker sees it to handle,
with nothing loaded from outside the server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _open(browser, live_app, username, **context):
    view = OfflinePage(browser, live_app, **context)
    view.login(username)
    view.page.goto(live_app + "/concerns/")
    view.page.wait_for_selector("#concerns-root[data-loaded=true]", timeout=30_000)
    return view


def test_report_on_a_phone_then_accept_and_dispatch_on_the_board(browser, live_app):
    text = "浏览器测试：5 号楼前路灯不亮"
    with committed_cleanup("gridmap_concernevent", "gridmap_concern"):
        worker = _open(browser, live_app, "wanggeyuan", viewport={"width": 390, "height": 844}, is_mobile=True,
                       has_touch=True)  # fmt: skip
        page = worker.page
        page.click("#report-open")
        page.wait_for_timeout(300)  # the grids fitted
        box = page.locator("#concerns-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # inside her grid
        page.fill("#report-form [name=description]", text)
        page.click("#report-form button[type=submit]")
        page.locator("#concern-list li", has_text=text).wait_for(timeout=15_000)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "concern_reported_phone.png"), full_page=True)
        assert worker.outside == [] and worker.csp_violations == []
        worker.context.close()

        admin = _open(browser, live_app, "jiedao", viewport={"width": 1280, "height": 800})
        page = admin.page
        item = page.locator("#concern-list li", has_text=text)
        item.locator("[data-act=accept]").click()
        page.locator("#panel-msg.ok").wait_for(timeout=15_000)
        item = page.locator("#concern-list li", has_text=text)
        item.locator("[data-act=dispatch]").click()
        item.locator(".concern-step select[name=handler_level]").select_option("grid")
        item.locator(".concern-step button.primary").click()
        page.locator("#concern-list li", has_text=text).locator(".state", has_text="已派遣").wait_for(timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "concern_dispatched_board.png"))
        page.click("#kpi-open")
        page.locator("#kpi-rows tr").first.wait_for(timeout=15_000)
        cells = page.locator("#kpi-rows tr").evaluate_all("(rows) => rows.map((r) => r.cells.length)")
        assert cells and set(cells) == {9}  # the area, 8 figures (concern_kpis.js)
        open_counts = page.locator("#kpi-rows tr td:nth-child(7)").all_inner_texts()
        assert sum(int(n) for n in open_counts if n.isdigit()) >= 1  # the concern just dispatched is open
        assert admin.outside == [] and admin.csp_violations == []
        admin.context.close()

        worker = _open(browser, live_app, "wanggeyuan", viewport={"width": 390, "height": 844}, is_mobile=True)
        item = worker.page.locator("#concern-list li", has_text=text)
        assert item.locator("[data-act=handle]").is_visible() and item.locator("[data-act=accept]").count() == 0
        worker.context.close()
