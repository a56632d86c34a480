"""The street admin's concern deadlines in Debian's chromium, on a phone: from the concerns page to the settings,
his street's own hours for one category saved, and the page fits the screen (the table scrolls inside)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_the_street_admin_sets_his_own_hours_on_a_phone(browser, live_app):
    with committed_cleanup("gridmap_streetdeadline") as conn:
        view = OfflinePage(browser, live_app, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        view.login("jiedao")
        page = view.page
        page.goto(live_app + "/concerns/")
        page.click("text=时限设置")
        page.wait_for_url("**/concerns/deadlines/")
        row = page.locator("tr[data-category=sanitation]")
        row.locator("input[name=own-sanitation]").check()
        row.locator("input[name=sanitation-accept]").fill("6")
        row.locator("input[name=wd-sanitation]").check()
        page.click("main button[type=submit]")
        page.locator("p.ok").wait_for(timeout=15_000)
        assert page.locator("input[name=sanitation-accept]").input_value() == "6"
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "concern_deadlines_phone.png"), full_page=True)
        with conn.cursor() as cur:
            cur.execute("SELECT accept_hours, working_days FROM gridmap_streetdeadline")
            assert cur.fetchall() == [(6, True)]
        assert view.outside == [] and view.csp_violations == []
        view.context.close()
