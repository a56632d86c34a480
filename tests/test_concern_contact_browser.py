"""The call back (回访) in Debian's chromium: a resident on a 390 px phone reports through the QR page and leaves a
phone; the street admin on a desktop opens the concern and sees the phone masked, clicks "查看完整电话", types a
reason and sees the full number (a tel: link), which the audit trail records with the reason; community staff on a
phone do the same in English. No outside request, no CSP violation; screenshots of both sizes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, switch_language, tap_map_at
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TABLES = ("gridmap_concernevent", "gridmap_concerndelivery", "gridmap_concerncontact", "gridmap_concernphoto",
          "gridmap_concern", "gridmap_intakehit", "gridmap_intakerefusal", "gridmap_communityintake")  # fmt: skip
PHONE_SIZE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PHONE, MASKED = "13912345678", "139****5678"


def _open_intake(conn) -> tuple[str, float, float]:
    """Switch on the public intake of community staff "shequ"'s community (as /concerns/intake/ does); its token and
    a point inside one of its published grids."""
    token = secrets.token_urlsafe(24)
    with conn.cursor() as cur:
        cur.execute("SELECT p.community_id FROM gridmap_profile p JOIN auth_user u ON u.id = p.user_id "
                    "WHERE u.username = 'shequ'")  # fmt: skip
        community_id = cur.fetchone()[0]
        cur.execute("INSERT INTO gridmap_communityintake (community_id, enabled, token, changed_at) "
                    "VALUES (%s, true, %s, now()) ON CONFLICT (community_id) DO UPDATE SET enabled = true, "
                    "token = excluded.token", [community_id, token])  # fmt: skip
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) p FROM gridmap_grid "
                    "WHERE community_id = %s AND status = 'published' ORDER BY code LIMIT 1) g", [community_id])  # fmt: skip
        lon, lat = cur.fetchone()
    return token, lon, lat


def _resident_reports(browser, live_app, token, lon, lat) -> OfflinePage:
    resident = OfflinePage(browser, live_app, **PHONE_SIZE)
    page = resident.page
    page.goto(f"{live_app}/r/{token}/")
    page.wait_for_function("() => document.getElementById('intake-map').leafletMap !== undefined")
    page.select_option("#category", index=1)
    page.locator("#intake-map").scroll_into_view_if_needed()
    tap_map_at(page, "intake-map", lon, lat)
    page.fill("#description", "回访测试：3 号楼前井盖松动")
    page.fill("#phone", PHONE)
    page.check("#consent")
    page.click("#intake-form button[type=submit]")
    page.locator("#receipt").wait_for(state="visible", timeout=15_000)
    return resident


def _reveal_on_the_concern(view: OfflinePage, live_app, concern_id, reason, *, english=False, shot="") -> None:
    page = view.page
    page.goto(f"{live_app}/concerns/?concern={concern_id}")
    contact = page.locator("#concern-detail .concern-contact")
    contact.wait_for(timeout=30_000)
    assert contact.locator(".pii-phone").inner_text() == MASKED
    assert PHONE not in page.content()  # the full number is not in the page before the reveal
    button = contact.locator("[data-act=reveal-contact]")
    assert contact.locator(".reveal-form").is_hidden()  # asked for only after the button
    assert button.inner_text() == ("Show full phone" if english else "查看完整电话")
    button.click()
    contact.locator("[name=reason]").fill(reason)
    if shot:  # the reason form open, as the user sees it before confirming
        contact.locator(".reveal-form button[type=submit]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / shot))
    contact.locator(".reveal-form button[type=submit]").click()
    contact.locator(".pii-phone a", has_text=PHONE).wait_for(timeout=15_000)
    assert contact.locator(".pii-phone a").get_attribute("href") == f"tel:{PHONE}"
    assert button.is_hidden() and contact.locator(".reveal-form").is_hidden()


def test_staff_see_the_masked_phone_of_a_qr_concern_and_reveal_it_with_a_reason(browser, live_app):
    ARTIFACTS.mkdir(exist_ok=True)
    with committed_cleanup(*TABLES) as conn:
        token, lon, lat = _open_intake(conn)
        resident = _resident_reports(browser, live_app, token, lon, lat)
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM gridmap_concern WHERE description LIKE '回访测试%%' ORDER BY id DESC LIMIT 1")
            concern_id = cur.fetchone()[0]

        admin = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 900})
        admin.login("jiedao")
        page = admin.page
        page.goto(f"{live_app}/concerns/?concern={concern_id}")
        page.locator("#concern-detail .concern-contact").wait_for(timeout=30_000)
        page.locator("#concern-detail").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_contact_masked_desktop.png"))
        _reveal_on_the_concern(
            admin, live_app, concern_id, "回访：核实井盖是否修好", shot="concern_contact_reason_desktop.png"
        )
        page.locator("#concern-detail").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_contact_revealed_desktop.png"))
        with conn.cursor() as cur:
            cur.execute("SELECT u.username, e.reason, e.fields, e.result FROM gridmap_auditevent e JOIN auth_user u "
                        "ON u.id = e.user_id WHERE e.action = 'reveal' AND e.object_type = 'concern' "
                        "AND e.object_id = %s", [str(concern_id)])  # fmt: skip
            assert cur.fetchall() == [("jiedao", "回访：核实井盖是否修好", "contact_phone", "ok")]

        staff = OfflinePage(browser, live_app, **PHONE_SIZE)  # community staff on a phone, in English
        staff.login("shequ")
        switch_language(staff.page, "en")
        _reveal_on_the_concern(staff, live_app, concern_id, "call back", english=True,
                               shot="concern_contact_reason_phone_en.png")  # fmt: skip
        assert staff.page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        staff.page.locator("#concern-detail").scroll_into_view_if_needed()
        staff.page.screenshot(path=str(ARTIFACTS / "concern_contact_revealed_phone_en.png"))
        staff.page.screenshot(path=str(ARTIFACTS / "concern_contact_revealed_phone_en_full.png"), full_page=True)
        for view in (resident, admin, staff):
            assert view.outside == [] and view.failed == [] and view.csp_violations == [], (
                view.outside, view.failed, view.csp_violations)  # fmt: skip
            view.context.close()
