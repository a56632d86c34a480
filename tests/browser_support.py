"""Browser-test support: a gunicorn serving the test database, Debian's chromium, and pages whose
requests to any other host are aborted and recorded. Fixtures are exported through tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "GridMap-demo-2026"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(django_db_setup):
    """gunicorn serving the test database (the demo street is committed there by django_db_setup)."""
    db = settings.DATABASES["default"]
    port = _free_port()
    env = {
        **os.environ,
        "DEMO_MODE": "true",
        "TILE_URL": "",
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "gridmap.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
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
        self.page.on("requestfailed", self._failed)
        self.csp_violations: list[str] = []
        self.page.on("console", lambda m: "Content Security Policy" in m.text and self.csp_violations.append(m.text))

    def _failed(self, request) -> None:
        """A request that got no answer: refused connection, reset, empty reply. Not one the page itself cancelled
        (net::ERR_ABORTED: it navigated away, or a map dropped a box it no longer shows), which a loaded machine
        makes more likely and which no server fault causes."""
        if request.failure != "net::ERR_ABORTED":
            self.failed.append(request.url)

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
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)  # the role's start page
        self.page.wait_for_load_state("networkidle")  # its requests done (a navigation would abort them)
        self.page.goto(self.base_url + "/map/")  # the page most tests start from
        self.page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)


def switch_language(page, code: str, menu: str = "select[name=language]") -> None:
    """Choose ``code`` in the top bar's language menu, as a user does, and wait for the page it posts back to:
    a next page asked for before that (goto) aborts the post, and the session keeps its old language."""
    with page.expect_navigation():
        page.select_option(menu, code)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == code


def tap_map_at(page, map_id: str, lon: float, lat: float) -> None:
    """Tap a Leaflet map (its box's ``leafletMap``) at a point: Leaflet turns the point into the box's pixels."""
    x, y = page.evaluate(
        "([id, lon, lat]) => { const box = document.getElementById(id); const m = box.leafletMap;"
        " const p = m.latLngToContainerPoint([lat, lon]); const r = box.getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [map_id, lon, lat],
    )
    page.mouse.click(x, y)


def zoom_of(page) -> float:
    """The zoom a page's map shows (data-zoom, written by reference_layers.js; the street map fits at quarter steps)."""
    return float(page.locator(".leaflet-container[data-zoom]").first.get_attribute("data-zoom"))


def zoom_to(page, level: float, button: str = ".leaflet-control-zoom-in") -> float:
    """Click a zoom button until the map reaches ``level``, one click per finished zoom: Leaflet drops a click
    made while a zoom animates, so a click that changed nothing within 2 s is made again (a loaded machine).
    A fixed number of clicks stops short when a click is dropped or the map began between two steps."""
    closer = button.endswith("zoom-in")
    for _ in range(12):
        now = zoom_of(page)
        if (now >= level) if closer else (now <= level):
            return now
        page.click(button)
        for _ in range(20):
            page.wait_for_timeout(100)
            if zoom_of(page) != now:
                break
    raise AssertionError(f"the map stayed at zoom {zoom_of(page)}, not {level}")


@contextmanager
def job_server():
    """gunicorn on the test database where every import file goes to a worker process (inline limit 10 bytes), so
    a page follows a job; yields its base URL."""
    from bench.reliability.server import Gunicorn

    db = settings.DATABASES["default"]
    server = Gunicorn(f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}", workers=2)
    server.env.update(DEMO_MODE="true", LAYER_IMPORT_INLINE_BYTES="10")
    with server:
        yield server.base


def committed_sql(statement: str, params: list) -> None:
    """Run one statement on its own committed connection (what a server process committed is not rolled back)."""
    import psycopg2

    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    connection.close()
