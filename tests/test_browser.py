"""The street map in a real browser: Debian's chromium driven by Playwright, every outside request blocked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage
from tests.conftest import ROLE_USERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
# Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain sync reads.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_each_role_logs_in_and_sees_grid_polygons_with_nothing_from_outside(browser, live_app, role):
    from django.contrib.auth import get_user_model

    from gridmap import policy
    from gridmap.models import Household

    user = get_user_model().objects.get(username=ROLE_USERS[role])
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login(user.username)
    page = view.page
    polygons = page.locator("path.grid-polygon").count()
    assert polygons == policy.grids_for(user).published().count() > 0
    assert "已加载" in page.inner_text("#map-status")
    assert page.locator(".legend").is_visible()
    assert page.locator(".leaflet-control-scale").is_visible()
    if role != "planner":
        households = policy.households_for(user).count()
        assert households > 0 and f"住户（{households} 户）" in page.inner_text(".leaflet-control-layers")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"street_map_{role}.png"))
    assert view.outside == [] and view.failed == [] and view.csp_violations == []
    assert Household.objects.exists()
    view.context.close()


def test_clicking_a_grid_shows_its_leader_workers_and_household_count(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login("wanggezhang")
    page = view.page
    for overlay in ("住户", "服务站"):  # markers sit above the polygon: hide them as a user would
        page.locator(".leaflet-control-layers-overlays label", has_text=overlay).locator("input").uncheck()
    page.locator("path.grid-polygon").first.click()
    card = page.locator(".grid-card")
    card.wait_for()
    text = card.inner_text()
    assert "网格长" in text and "住户数" in text and "专职网格员" in text
    assert view.outside == []
    view.context.close()


def test_the_map_works_on_a_phone_for_a_grid_leader(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    view.login("wanggezhang")
    assert view.page.locator("path.grid-polygon").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    view.page.screenshot(path=str(ARTIFACTS / "street_map_phone.png"))
    assert view.outside == []
    view.context.close()
