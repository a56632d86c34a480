"""Issue #16 items 6, 7 and 10 in Debian's chromium: a street admin starts at his work list, follows a staffing
gap to the staffing map (the grid open, the role the gap needs preselected, candidates listed without touching a
filter), assigns in one more click and sees it said; ending an assignment asks first. The work list and an error
page read well on a phone, in both languages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import DEMO_PASSWORD, OfflinePage
from tests.people_support import leaderless_grid
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _signed_in(view: OfflinePage, live_app, username: str) -> OfflinePage:
    """Signed in through the form, left on the page the sign-in leads to (the role's start page)."""
    page = view.page
    page.goto(live_app + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return view


def test_from_the_work_list_a_leader_is_assigned_in_two_clicks_and_ending_asks_first(browser, live_app, user_for):
    grid = leaderless_grid(user_for("street_admin"))
    with committed_cleanup("gridmap_gridassignment") as conn:
        view = _signed_in(OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800}), live_app, "jiedao")
        page = view.page
        assert page.url.endswith("/work/")  # the street admin starts at his work list
        page.locator(f'#work-staffing a[data-grid="{grid.pk}"]').click()  # click 1
        page.wait_for_selector("#staffing-root[data-loaded=true]", timeout=30_000)
        assert page.url.endswith(f"/staffing/?grid={grid.pk}")
        page.locator("#panel h2", has_text=grid.name).wait_for()
        assert page.locator("#assign-role").input_value() == "leader"  # the gap's role, preselected
        candidate = page.locator("#member-list [data-assign]").first
        candidate.wait_for()  # candidates without unticking any filter
        name = page.locator("#member-list li.member").first.get_attribute("data-name")
        candidate.click()  # click 2
        page.locator("#panel-msg", has_text="已分配").wait_for(timeout=15_000)
        assert name in page.inner_text("#panel-msg")
        page.wait_for_selector(f'path[data-grid="{grid.pk}"]:not(.staff-no_leader)', state="attached")
        page.screenshot(path=str(ARTIFACTS / "staffing_assigned.png"))
        end = page.locator("#staff-drop li", has_text=f"网格长：{name}").locator("[data-end]")
        end.click()
        assert end.inner_text() == "确认结束？" and "再点一次" in page.inner_text("#panel-msg")
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM gridmap_gridassignment WHERE grid_id = %s AND role = 'leader' "
                        "AND end_date IS NULL", [grid.pk])  # fmt: skip
            assert cur.fetchone()[0] == 1  # the first click ended nothing
        end.click()
        page.locator("#panel-msg", has_text="已结束").wait_for(timeout=15_000)
        page.wait_for_selector(f'path[data-grid="{grid.pk}"].staff-no_leader', state="attached")
        assert view.outside == []
        view.context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_work_list_and_a_404_read_well_on_a_phone(browser, live_app, language):
    view = OfflinePage(browser, live_app, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    view.context.add_cookies([{"name": "django_language", "value": language, "url": live_app}])
    page = _signed_in(view, live_app, "shequ").page
    assert page.url.endswith("/work/")
    page.wait_for_selector("#work-list")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.locator(".work-section li a").count() > 0 or page.locator("#work-clear").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"work_list_phone_{language}.png"), full_page=True)
    response = page.goto(live_app + "/no-such-page/")
    assert response.status == 404
    assert page.locator(".error-panel").is_visible() and page.locator(".topbar .menu-toggle").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=str(ARTIFACTS / f"error_404_phone_{language}.png"))
    assert view.outside == []
    view.context.close()
