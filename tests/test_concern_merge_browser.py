"""Merging duplicates in Debian's chromium (issue #17): a grid worker on a phone reports the same problem three
times (from the second on, the form offers the first: "same problem?"); the street admin on a desktop opens the
second, picks the first among the candidates, "merge this into #…", confirms, and the detail shows it void and
linked to the kept one, which lists it; community staff on a 390 px phone, in English, open the kept one and merge
the third into it the other way round ("Merge #… into this"). No outside request, no CSP violation; screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage, switch_language
from tests.test_concerns_browser import _open
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TABLES = ("gridmap_concernevent", "gridmap_concerndelivery", "gridmap_concern")
TEXTS = ("合并测试：7 号楼下垃圾堆了三天", "合并测试：7 号楼楼下一堆垃圾没人清", "合并测试：7 号楼垃圾还在")


def _report_twice_and_more(page) -> None:
    """Each text reported at the middle of the worker's map (inside her grid); from the second on, the form offers
    the open concern already there before she sends it anyway."""
    box = page.locator("#concerns-map").bounding_box()
    for i, text in enumerate(TEXTS):
        page.click("#report-open")
        page.wait_for_timeout(300)  # the grids fitted
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if i:
            page.locator("#duplicates", has_text=TEXTS[0]).wait_for(timeout=15_000)  # "same problem?"
        page.fill("#report-form [name=description]", text)
        page.click("#report-form button[type=submit]")
        page.locator("#concern-list li", has_text=text).wait_for(timeout=15_000)


def _ids(conn) -> list[int]:
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM gridmap_concern WHERE description LIKE '合并测试%%' ORDER BY id")
        return [i for (i,) in cur.fetchall()]


def _state(conn, pk: int) -> tuple[str, int | None]:
    with conn.cursor() as cur:
        cur.execute("SELECT state, merged_into_id FROM gridmap_concern WHERE id = %s", [pk])
        return cur.fetchone()


def test_a_street_admin_merges_a_duplicate_and_community_staff_merge_another_the_other_way(browser, live_app):
    ARTIFACTS.mkdir(exist_ok=True)
    with committed_cleanup(*TABLES) as conn:
        worker = _open(browser, live_app, "wanggeyuan", **PHONE)
        _report_twice_and_more(worker.page)
        first, second, third = _ids(conn)
        worker.context.close()

        admin = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 900})
        admin.login("jiedao")
        page = admin.page
        page.goto(f"{live_app}/concerns/?concern={second}")
        detail = page.locator("#concern-detail")
        detail.locator("[data-merge=open]").click()
        candidate = detail.locator(f".merge-candidates li[data-candidate='{first}']")
        candidate.wait_for(timeout=15_000)
        assert detail.locator(f".merge-candidates li[data-candidate='{third}']").count() == 1  # both within 250 m
        candidate.locator("[data-merge=away]").click()
        confirm = detail.locator(".merge-confirm")
        assert f"将 #{second} 合并到 #{first}？" in confirm.inner_text()
        confirm.locator("[name=note]").fill("同一处垃圾")
        confirm.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_merge_confirm_desktop.png"))
        confirm.locator("[data-merge=confirm]").click()
        kept_link = detail.locator(".concern-merged-into button.link", has_text=f"#{first}")
        kept_link.wait_for(timeout=15_000)
        assert "已作废" in detail.locator("h2").inner_text()
        page.locator("#panel-msg.ok", has_text=f"已将 #{second} 合并到 #{first}").wait_for(timeout=15_000)
        assert page.locator("#concern-list li", has_text=TEXTS[1]).count() == 0  # the list read again: void is not open
        assert _state(conn, second) == ("void", first)
        timeline = detail.locator(".concern-timeline").inner_text()
        assert f"合并到：#{first} 同一处垃圾" in timeline
        detail.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_merge_merged_desktop.png"))
        kept_link.click()  # the kept one lists what was merged into it
        detail.locator(".concern-merged li", has_text=f"#{second}").wait_for(timeout=15_000)
        assert f"合并重复诉求：#{second} 同一处垃圾" in detail.locator(".concern-timeline").inner_text()
        detail.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_merge_kept_desktop.png"))
        assert admin.outside == [] and admin.failed == [] and admin.csp_violations == []
        admin.context.close()

        staff = OfflinePage(browser, live_app, **PHONE)  # community staff on a phone, in English
        staff.login("shequ")
        page = staff.page
        switch_language(page, "en")
        page.goto(f"{live_app}/concerns/?concern={first}")
        detail = page.locator("#concern-detail")
        detail.locator(".concern-merged li", has_text=f"#{second}").wait_for(timeout=30_000)
        assert "Duplicates merged into this concern" in detail.inner_text()
        detail.locator("[data-merge=open]", has_text="Merge duplicates").click()
        candidate = detail.locator(f".merge-candidates li[data-candidate='{third}']")
        candidate.wait_for(timeout=15_000)
        assert detail.locator(f".merge-candidates li[data-candidate='{second}']").count() == 0  # void: no candidate
        here = candidate.locator("[data-merge=here]")
        assert here.inner_text() == f"Merge #{third} into this"
        here.click()
        confirm = detail.locator(".merge-confirm")
        assert f"Merge #{third} into #{first}?" in confirm.inner_text()
        confirm.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_merge_confirm_phone_en.png"))
        confirm.locator("[data-merge=confirm]").click()
        detail.locator(".concern-merged li", has_text=f"#{third}").wait_for(timeout=15_000)
        assert _state(conn, third) == ("void", first) and _state(conn, first) == ("reported", None)
        text = detail.inner_text()
        assert "Merge in duplicate: #" in text and " · Report" in text
        assert [w for w in ("合并重复", "已合并", "上报", "已上报") if w in text] == []  # only the residents' words
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        detail.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_merge_kept_phone_en.png"))
        page.screenshot(path=str(ARTIFACTS / "concern_merge_kept_phone_en_full.png"), full_page=True)
        assert staff.outside == [] and staff.failed == [] and staff.csp_violations == []
        staff.context.close()
