"""Public intake by QR code (issue #17 item 6) in Debian's chromium: the street admin opens it for a community and
sees the QR code and the poster; a resident on a 390 px phone, without an account, opens the public page, picks a
point on the map, fills the form and sends it, and sees only a receipt; the street admin then finds it on the
board marked "扫码填报". No outside request, no CSP violation; screenshots in both languages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, switch_language, tap_map_at
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TABLES = ("gridmap_concernevent", "gridmap_concerndelivery", "gridmap_concerncontact", "gridmap_concernphoto",
          "gridmap_concern", "gridmap_intakehit", "gridmap_intakerefusal", "gridmap_communityintake")  # fmt: skip
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_a_resident_reports_by_qr_code_and_the_street_admin_sees_it(browser, live_app):
    ARTIFACTS.mkdir(exist_ok=True)
    with committed_cleanup(*TABLES) as conn:
        admin = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 900})
        admin.login("jiedao")
        page = admin.page
        page.goto(live_app + "/concerns/deadlines/")
        page.click("text=扫码填报")
        page.wait_for_url("**/concerns/intake/")
        row = page.locator("tr[data-community]").first
        community_id = int(row.get_attribute("data-community"))
        row.locator("button[value=on]").click()
        page.locator("p.ok").wait_for(timeout=15_000)
        row = page.locator(f"tr[data-community='{community_id}']")
        page.wait_for_function("() => document.querySelector('tr[data-community] .qr img').complete")
        assert row.locator(".qr img").evaluate("img => img.naturalWidth > 0")  # the SVG made on the server loaded
        page.screenshot(path=str(ARTIFACTS / "concern_intake_settings.png"), full_page=True)
        row.locator("text=打印海报").click()
        page.wait_for_url(f"**/concerns/intake/{community_id}/poster/")
        page.emulate_media(media="print")
        page.screenshot(path=str(ARTIFACTS / "concern_intake_poster.png"), full_page=True)
        page.emulate_media(media="screen")
        page.click(".sizes >> text=A6")  # a counter card: the print starts on A6 paper and fits on one sheet
        page.wait_for_url("**/poster/?size=a6")
        pdf = page.pdf(prefer_css_page_size=True)  # the paper the page asks for: A6 (105 x 148 mm), one sheet
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert len(boxes) == 1 and abs(float(boxes[0][0]) - 297.6) < 1 and abs(float(boxes[0][1]) - 419.5) < 1, boxes
        page.emulate_media(media="print")
        page.screenshot(path=str(ARTIFACTS / "concern_intake_poster_a6.png"), full_page=True)
        page.emulate_media(media="screen")
        with conn.cursor() as cur:
            cur.execute("SELECT token FROM gridmap_communityintake WHERE community_id = %s", [community_id])
            token = cur.fetchone()[0]
            cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) p FROM gridmap_grid "
                        "WHERE community_id = %s AND status = 'published' ORDER BY code LIMIT 1) g", [community_id])  # fmt: skip
            lon, lat = cur.fetchone()

        resident = OfflinePage(browser, live_app, **PHONE)
        phone = resident.page
        phone.goto(f"{live_app}/r/{token}/")
        phone.wait_for_function("() => document.getElementById('intake-map').leafletMap !== undefined")
        phone.screenshot(path=str(ARTIFACTS / "concern_intake_public_zh.png"), full_page=True)
        assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        phone.select_option("#category", index=1)
        phone.locator("#intake-map").scroll_into_view_if_needed()
        tap_map_at(phone, "intake-map", lon, lat)
        assert phone.input_value("#lon") != ""
        phone.fill("#description", "小区东门路灯不亮 <b>已经三天</b>")
        phone.fill("#phone", "13912345678")
        phone.check("#consent")
        phone.click("#intake-form button[type=submit]")
        phone.locator("#receipt").wait_for(state="visible", timeout=15_000)
        receipt = phone.inner_text("#receipt")
        assert "13912345678" not in receipt and "139****5678" not in receipt and "路灯" not in receipt
        number = phone.inner_text("#receipt-number")
        phone.screenshot(path=str(ARTIFACTS / "concern_intake_receipt_zh.png"), full_page=True)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, state, source, reporter_id FROM gridmap_concern WHERE description LIKE '小区东门%%'"
            )
            concern_id, state, source, reporter = cur.fetchone()
        assert number.endswith(f"-{concern_id}") and (state, source, reporter) == ("reported", "qr_form", None)

        english = OfflinePage(browser, live_app, **PHONE)  # another device: the language menu, English
        page_en = english.page
        page_en.goto(f"{live_app}/r/{token}/")
        switch_language(page_en, "en")
        page_en.wait_for_selector("text=Submit")
        page_en.screenshot(path=str(ARTIFACTS / "concern_intake_public_en.png"), full_page=True)

        page.goto(live_app + "/concerns/")
        item = page.locator(f"li[data-concern='{concern_id}']")
        item.wait_for(timeout=30_000)
        assert item.locator(".source-public").inner_text() == "扫码填报"
        assert "<b>已经三天</b>" in item.locator(".desc").inner_text()  # shown as typed, not as markup
        page.screenshot(path=str(ARTIFACTS / "concern_intake_board.png"))
        for view in (admin, resident, english):
            assert view.outside == [] and view.csp_violations == [], (view.outside, view.csp_violations)
            view.context.close()
