"""No data reaches the page as markup: the names users type (grids, communities, stations, members) and
the households' addresses are set to HTML, then every page that lists or maps them is opened in a real
browser as the roles that see them, with the panels, popups and cards a user opens. The markup must show
as text and never become elements (it would, through any unescaped innerHTML, Leaflet tooltip or popup).

The live server reads the committed demo data, so the names are changed through an autocommit connection
and put back afterwards (the page caches notice the change through their revision triggers)."""

from __future__ import annotations

import os

import psycopg2
import pytest
from django.conf import settings

from gridmap import policy
from tests.browser_support import OfflinePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

MARKUP = '<img src=x class=xss><b class="xss">'  # 36 characters: fits every name column
PROBE = "img.xss, b.xss"
TABLES = {  # table -> the text column set to markup, for the rows of the demo street the pages show
    "gridmap_grid": "name",
    "gridmap_community": "name",
    "gridmap_servicestation": "name",
    "gridmap_member": "name",
    "gridmap_household": "address",
}


@pytest.fixture
def markup_names(user_for):
    """Every grid, community and station of the demo street and some members and households named in
    markup (through the same street admin's scope), restored afterwards."""
    admin = user_for("street_admin")
    ids = {
        "gridmap_grid": list(policy.grids_for(admin).values_list("pk", flat=True)),
        "gridmap_community": list(policy.communities_for(admin).values_list("pk", flat=True)),
        "gridmap_servicestation": list(policy.stations_for(admin).values_list("pk", flat=True)),
        "gridmap_member": list(policy.members_for(admin).order_by("pk").values_list("pk", flat=True)[:400]),
        "gridmap_household": list(policy.households_for(admin).order_by("pk").values_list("pk", flat=True)),
    }
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )
    conn.autocommit = True
    saved = {}
    with conn.cursor() as cur:
        for table, column in TABLES.items():
            cur.execute(f"SELECT id, {column} FROM {table} WHERE id = ANY(%s)", [ids[table]])
            saved[table] = cur.fetchall()
            cur.execute(f"UPDATE {table} SET {column} = %s || {column} WHERE id = ANY(%s)", [MARKUP, ids[table]])
    try:
        yield
    finally:
        with conn.cursor() as cur:
            for table, column in TABLES.items():
                cur.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", [(v, k) for k, v in saved[table]])
        conn.close()


def _open(browser, live_app, username: str, **context) -> OfflinePage:
    view = OfflinePage(browser, live_app, **context)
    view.login(username)
    return view


def _no_markup(view: OfflinePage, where: str) -> None:
    page = view.page
    assert page.locator(PROBE).count() == 0, where
    assert MARKUP in page.inner_text("body"), where  # the name is shown, as text


def test_the_street_admins_pages_show_markup_as_text(browser, live_app, markup_names):
    view = _open(browser, live_app, "jiedao", viewport={"width": 1280, "height": 800})
    page = view.page
    # The street map (logged in lands here): grid and station tooltips, a grid's popup.
    page.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click(force=True)
    page.wait_for_timeout(500)
    assert page.locator(PROBE).count() == 0, "street map"
    assert MARKUP in page.inner_text("#map-root"), "street map"
    # The grid editor: communities in the picker, the grid list and labels.
    page.goto(live_app + "/editor/")
    page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)
    page.wait_for_selector("#grid-list li", timeout=30_000)
    _no_markup(view, "grid editor")
    # The staffing map: a grid's staff panel with member names, and the member search.
    page.goto(live_app + "/staffing/")
    page.wait_for_selector("#staffing-root[data-loaded=true]", timeout=30_000)
    page.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click(force=True)
    page.wait_for_timeout(1000)
    _no_markup(view, "staffing map")
    # The member registry.
    page.goto(live_app + "/members/")
    page.wait_for_selector("#members-root", timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.locator(PROBE).count() == 0, "members"
    # The planner: the ranking of grids and the areas.
    page.goto(live_app + "/planner/")
    page.wait_for_selector("#planner-root[data-loaded=true]", timeout=60_000)
    _no_markup(view, "planner")
    assert not view.outside


def test_the_grid_leaders_phone_shows_markup_as_text(browser, live_app, markup_names):
    view = _open(browser, live_app, "wanggezhang", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = view.page
    page.goto(live_app + "/my-grid/")
    page.wait_for_selector("#leader-root[data-loaded=true]", timeout=30_000)
    _no_markup(view, "my grid")
    page.locator("#hh-list button.hh-item").first.click()
    page.wait_for_selector("#hh-card:not([hidden])", timeout=15_000)
    page.wait_for_timeout(500)
    _no_markup(view, "household card")


def test_the_offline_planner_report_opened_from_disk_shows_markup_as_text(browser, live_app, markup_names, tmp_path):
    """Trust finding 5: folium's tooltips set innerHTML, and a file opened from disk has no CSP."""
    view = _open(browser, live_app, "guihua", viewport={"width": 1280, "height": 800})
    answer = view.page.request.get(live_app + "/planner/report.html")
    assert answer.status == 200
    report = tmp_path / "report.html"
    report.write_bytes(answer.body())
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    outside: list[str] = []
    context.route("http*://**/*", lambda route: (outside.append(route.request.url), route.abort()))
    page = context.new_page()
    page.goto(report.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane path.leaflet-interactive", timeout=30_000)
    shown = 0
    for path in page.locator(".leaflet-overlay-pane path.leaflet-interactive").all()[:8]:
        path.hover(force=True)
        page.wait_for_timeout(150)
        tooltip = page.locator(".leaflet-tooltip")
        if tooltip.count() and MARKUP in tooltip.first.inner_text():
            shown += 1
        assert page.locator(PROBE).count() == 0
    assert shown > 0  # the hovered grids' names are shown, as text
    assert MARKUP in page.inner_text("#report-table")
    assert page.locator(PROBE).count() == 0 and outside == []
    context.close()
