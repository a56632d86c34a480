"""The street map in a real browser: Debian's chromium driven by Playwright, every outside request blocked."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import DEMO_PASSWORD, ROLE_USERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
# Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain sync reads.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(django_db_setup):
    """gunicorn serving the test database (the demo street is committed there by django_db_setup)."""
    db = settings.DATABASES["default"]
    port = _free_port()
    env = {**os.environ, "DEMO_MODE": "true", "TILE_URL": "",
           "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "gridmap.wsgi", "--bind", f"127.0.0.1:{port}",
                               "--workers", "2", "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("gunicorn did not start")
    yield url
    server.terminate()
    server.wait(10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is installed by make setup"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class OfflinePage:
    """A page whose requests to any host but the app are aborted and recorded."""

    def __init__(self, browser, base_url: str, **context_args):
        self.context = browser.new_context(locale="zh-CN", **context_args)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.context.route("**/*", self._route)
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))

    def _route(self, route):
        if route.request.url.startswith(self.base_url):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def login(self, username: str) -> None:
        self.page.goto(self.base_url + "/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/map/")
        self.page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_each_role_logs_in_and_sees_grid_polygons_with_nothing_from_outside(browser, live_app, role):
    from gridmap import policy
    from gridmap.models import Household
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=ROLE_USERS[role])
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login(user.username)
    page = view.page
    polygons = page.locator("path.grid-polygon").count()
    assert polygons == policy.grids_for(user).count() > 0
    assert "已加载" in page.inner_text("#map-status")
    assert page.locator(".legend").is_visible()
    assert page.locator(".leaflet-control-scale").is_visible()
    if role != "planner":
        households = policy.households_for(user).count()
        assert households > 0 and f"住户（{households} 户）" in page.inner_text(".leaflet-control-layers")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"street_map_{role}.png"))
    assert view.outside == [] and view.failed == []
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
