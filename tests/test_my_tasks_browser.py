"""'My tasks' on /my-grid/ in Debian's chromium, on a phone (issue #17 item 4): the grid worker's open concerns,
due soonest first and the overdue marked, each one tap from its page with its timeline; 上报诉求 opens the form."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage
from tests.test_concerns_bulk_browser import REPORT
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_my_tasks_lists_her_open_concerns_and_opens_one(browser, live_app):
    texts = ["任务测试：楼道灯不亮", "任务测试：井盖破损"]
    with committed_cleanup("gridmap_concernevent", "gridmap_concern") as conn:
        view = OfflinePage(browser, live_app, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        view.login("wanggeyuan")
        page = view.page
        page.evaluate(REPORT, texts)
        with conn.cursor() as cur:  # the second one is late: it comes first
            cur.execute(
                "UPDATE gridmap_concern SET due_at = now() - interval '2 hours' WHERE description = %s", [texts[1]]
            )
        page.goto(live_app + "/my-grid/")
        page.wait_for_selector("#my-tasks[data-loaded=true]", timeout=30_000)
        items = page.locator("#my-tasks .task-list li")
        assert items.count() == 2 and page.locator("#my-tasks h2 .badge").inner_text() == "2"
        assert texts[1] in items.nth(0).inner_text() and "overdue" in items.nth(0).get_attribute("class")
        assert texts[0] in items.nth(1).inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "my_tasks_phone.png"))
        items.nth(1).locator("a").click()
        page.wait_for_selector("#concerns-root[data-loaded=true]", timeout=30_000)
        page.locator("#concern-detail", has_text=texts[0]).wait_for(timeout=15_000)
        page.goto(live_app + "/my-grid/")
        page.click("#my-tasks a.report")
        page.wait_for_selector("#report-form:not([hidden])", timeout=30_000)
        assert view.outside == [] and view.csp_violations == []
        view.context.close()
