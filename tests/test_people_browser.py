"""Issue #5 in a real browser (Debian's chromium, every outside request blocked): assigning a leader on the
staffing map recolours the grid; a grid leader on a phone sees only his households and gets 404 for
another grid's household; designating a central household and accepting the suggestion draws its lines.

The live server commits what the browser writes, so each writing test removes its rows afterwards
through its own autocommit connection (the test's transaction cannot see past a rollback)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from gridmap import policy
from gridmap.models import Household
from tests.browser_support import OfflinePage
from tests.people_support import household_in, leader_grid, leaderless_grid, other_grid_in_community

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@contextmanager
def committed_cleanup(*tables: str):
    """Delete the rows the live server adds to ``tables`` during the block (ids above today's maximum)."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        tops = {}
        for table in tables:
            cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            tops[table] = cur.fetchone()[0]
    try:
        yield conn
    finally:
        with conn.cursor() as cur:
            for table in tables:
                cur.execute(f"DELETE FROM {table} WHERE id > %s", [tops[table]])
        conn.close()


def _login(browser, live_app, username, **context):
    view = OfflinePage(browser, live_app, **context)
    view.login(username)
    return view


def test_a_street_admin_assigns_a_leader_on_the_map_and_the_grid_recolours(browser, live_app, user_for):
    grid = leaderless_grid(user_for("street_admin"))
    with committed_cleanup("gridmap_gridassignment"):
        view = _login(browser, live_app, "jiedao", viewport={"width": 1280, "height": 800})
        page = view.page
        page.goto(live_app + "/staffing/")
        page.wait_for_selector("#staffing-root[data-loaded=true]", timeout=30_000)
        polygon = page.locator(f'path[data-grid="{grid.pk}"]')
        assert "staff-no_leader" in polygon.get_attribute("class")
        before = polygon.get_attribute("fill")
        polygon.click()
        page.wait_for_selector("#member-list li")
        page.select_option("#assign-role", "leader")
        page.uncheck("#member-free")  # every demo member serves somewhere; a leader may also volunteer elsewhere
        page.locator("#member-list [data-assign]").first.wait_for()
        page.locator("#member-list [data-assign]").first.click()
        # No wait_for_function: the page's CSP forbids eval, so wait on a selector instead.
        page.wait_for_selector(f'path[data-grid="{grid.pk}"]:not(.staff-no_leader)', state="attached", timeout=15_000)
        after = page.locator(f'path[data-grid="{grid.pk}"]').get_attribute("fill")
        assert after != before
        page.locator("#staff-drop li", has_text="网格长：").first.wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "staffing_map.png"))
        assert view.outside == []
        view.context.close()


def test_a_grid_leader_on_a_phone_sees_only_his_households(browser, live_app, user_for):
    leader = user_for("grid_leader")
    grid = leader_grid(leader)
    own = policy.households_for(leader)
    view = _login(
        browser, live_app, "wanggezhang", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = view.page
    page.goto(live_app + "/my-grid/")
    page.wait_for_selector("#leader-root[data-loaded=true]", timeout=30_000)
    assert page.locator("path.hh-marker").count() == own.count() == Household.objects.filter(grid=grid).count()
    assert f"/ {own.count()} 户" in page.inner_text("#hh-count")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "my_grid_phone.png"))
    # The card of one of his households, masked; the search narrows the list.
    first = own.order_by("address").first()
    page.fill("#hh-search", first.address)
    page.locator(".hh-item").first.click()
    page.wait_for_selector("#hh-card .pii-phone")
    if first.phone:
        assert first.phone not in page.inner_text("#hh-card") and "****" in page.inner_text("#hh-card .pii-phone")
    page.screenshot(path=str(ARTIFACTS / "my_grid_card_phone.png"), full_page=True)
    # Another grid's household by URL: 404.
    other = household_in(other_grid_in_community(grid))
    response = page.goto(live_app + f"/my-grid/households/{other.pk}/")
    assert response.status == 404
    assert view.outside == []
    view.context.close()


def test_designating_a_central_household_and_accepting_the_suggestion_draws_links(browser, live_app, user_for):
    staff = user_for("community_staff")
    grid = leader_grid(staff)
    candidate = (
        Household.objects.filter(grid=grid, is_party_member=True, central__isnull=True, central_link__isnull=True)
        .order_by("id")
        .first()
    )
    with committed_cleanup("gridmap_centrallink", "gridmap_centralhousehold"):
        view = _login(browser, live_app, "shequ", viewport={"width": 1280, "height": 800})
        page = view.page
        page.goto(live_app + "/staffing/")
        page.wait_for_selector("#staffing-root[data-loaded=true]", timeout=30_000)
        page.locator(f'path[data-grid="{grid.pk}"]').click()
        dot = page.locator(f'path[data-household="{candidate.pk}"]')
        dot.wait_for()
        dot.dispatch_event("click")  # dots may touch at this zoom; Leaflet resolves the target from the event
        page.locator(".leaflet-popup .designate").click()
        page.locator("#suggest").click()
        page.wait_for_selector("path.suggestion-line", state="attached")
        assert page.locator("path.suggestion-line").count() == 10
        page.locator("#accept").click()
        page.locator(f"path.link-from-{candidate.pk}").nth(9).wait_for(state="attached", timeout=15_000)
        assert page.locator(f"path.link-from-{candidate.pk}").count() == 10
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "central_household_links.png"))
        assert view.outside == []
        view.context.close()
