"""A concern about one household (issue #17: "a point (GPS, map pick, or the household's location)"), in Debian's
chromium: a grid worker on a phone opens a household's card on 我的网格, taps 为此户上报诉求, and the report form opens
at the household's point with its address; the concern lands with that household and point. In English too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, switch_language
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_worker_reports_for_a_household_from_its_card(browser, live_app, language):
    text = f"浏览器测试：为此户上报 {language}"
    with committed_cleanup("gridmap_concernevent", "gridmap_concern") as conn:
        worker = OfflinePage(browser, live_app, **PHONE)
        worker.login("wanggeyuan")
        page = worker.page
        if language == "en":
            switch_language(page, "en")
        page.goto(live_app + "/my-grid/")
        page.locator("#hh-list li").first.wait_for(timeout=30_000)
        page.locator("#hh-list li").first.click()
        card = page.locator("#hh-card")
        card.locator("a.report").wait_for(timeout=15_000)
        household = int(card.get_attribute("data-id"))
        card.locator("a.report").click()
        page.wait_for_url(f"**/concerns/?household={household}")
        page.locator("#report-household:not([hidden])").wait_for(timeout=15_000)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT address, ST_X(location), ST_Y(location) FROM gridmap_household WHERE id = %s", [household]
            )
            address, lon, lat = cur.fetchone()
        assert address in page.inner_text("#report-household")
        assert page.input_value("#report-form [name=address]") == address
        page.fill("#report-form [name=description]", text)
        page.screenshot(path=str(ARTIFACTS / f"concern_for_household_{language}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.click("#report-form button[type=submit]")
        page.locator("#concern-list li", has_text=text).wait_for(timeout=15_000)
        assert page.locator("#report-household").is_hidden()
        with conn.cursor() as cur:
            cur.execute("SELECT household_id, ST_X(location), ST_Y(location) FROM gridmap_concern WHERE description = %s",
                        [text])  # fmt: skip
            rows = cur.fetchall()
        assert len(rows) == 1 and rows[0][0] == household
        assert abs(rows[0][1] - lon) < 1e-6 and abs(rows[0][2] - lat) < 1e-6
        assert worker.outside == [] and worker.csp_violations == []
        worker.context.close()
