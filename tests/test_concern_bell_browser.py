"""The concerns bell in Debian's chromium (issue #17 item 7): on a phone a grid worker sees how many of her concerns
want someone on every page, the tooltip names each count in the page's language, and a click opens the overdue
tab of the concerns page; a planner has no bell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, switch_language
from tests.test_concerns_bulk_browser import REPORT  # the same reports through the API
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_the_bell_counts_her_concerns_and_opens_the_overdue_ones_on_a_phone(browser, live_app):
    with committed_cleanup("gridmap_concernevent", "gridmap_concern") as conn:
        view = OfflinePage(browser, live_app, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        view.login("wanggeyuan")
        page = view.page
        page.evaluate(REPORT, ["浏览器测试：井盖松动", "浏览器测试：路灯不亮"])
        with conn.cursor() as cur:  # one of the two is past its deadline
            cur.execute(
                "UPDATE gridmap_concern SET due_at = now() - interval '1 hour' WHERE id = (SELECT max(id) FROM gridmap_concern)"
            )
        page.goto(live_app + "/my-grid/")
        badge = page.locator(".topbar .bell .badge")
        badge.wait_for(state="visible", timeout=15_000)
        assert badge.inner_text() == "2"
        bell = page.locator(".topbar .bell")
        assert "已超期 1" in bell.get_attribute("title") and "新上报 2" in bell.get_attribute("title")
        box = bell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390  # on the bar of a 390 px phone
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "concern_bell_phone.png"))
        bell.click()
        page.wait_for_selector("#concerns-root[data-loaded=true]", timeout=30_000)
        assert "state=overdue" in page.url
        assert page.locator(".concern-tabs [data-state=overdue]").get_attribute("class") == "active"
        assert page.locator("#concern-list li").count() == 1
        switch_language(page, "en", ".topbar select[name=language]")
        page.locator(".topbar .bell .badge").wait_for(state="visible", timeout=15_000)
        title = page.locator(".topbar .bell").get_attribute("title")
        assert "overdue 1" in title.lower() and "已超期" not in title, title
        assert view.outside == [] and view.csp_violations == []
        view.context.close()
    planner = OfflinePage(browser, live_app)
    planner.login("guihua")
    assert planner.page.locator(".topbar .bell").count() == 0
    planner.context.close()
