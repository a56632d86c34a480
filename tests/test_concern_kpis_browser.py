"""The 统计 panel of /concerns/ in Debian's chromium (issue #17), on the demo street's year of concerns: the street
admin opens it (近一年, per grid, the 合计 row, the four stages, the weekly chart), switches to 社区 and 近30天, and
downloads the ledger of those days; community staff read it on a 390 px phone in English. No request leaves the
app, no CSP violation, the page never scrolls sideways. Screenshots in test-artifacts/."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import load_workbook

from tests.browser_support import OfflinePage, switch_language
from tests.test_concerns_browser import _open
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LOAD = (
    "import django; django.setup(); from gridmap.services.concerns.demo import load_demo_concerns; load_demo_concerns()"
)


def _demo_year() -> None:
    """The demo year of concerns, committed where the live server reads (committed_cleanup removes it after)."""
    db = settings.DATABASES["default"]
    url = f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "gridmap.settings"}
    subprocess.run([sys.executable, "-c", LOAD], cwd=ROOT, env=env, check=True, timeout=300)


def _open_panel(page) -> None:
    page.click("#kpi-open")
    page.wait_for_selector("#concern-kpis[data-loaded=true]", timeout=30_000)


def _reloaded(page, action, needle: str) -> dict:
    """Do ``action`` and wait for the KPIs it asks for (``needle`` in their URL) and the panel drawn again."""
    with page.expect_response(lambda r: "/api/v1/concern-kpis" in r.url and needle in r.url, timeout=30_000) as kpis:
        action()
    page.wait_for_selector("#concern-kpis[data-loaded=true]", timeout=30_000)
    return kpis.value.json()


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_street_admin_reads_the_kpis_switches_to_communities_and_30_days_and_downloads_the_ledger(
    browser, live_app, tmp_path
):
    with committed_cleanup("gridmap_concernevent", "gridmap_concern"):
        _demo_year()
        view = _open(browser, live_app, "jiedao", viewport={"width": 1280, "height": 900})
        page = view.page
        with (
            page.expect_response(lambda r: "/api/v1/concern-kpis" in r.url) as kpis,
            page.expect_response(lambda r: "/api/v1/concern-trend" in r.url) as trend,
        ):
            _open_panel(page)
        year = trend.value.json()
        given = kpis.value.json()["total"]  # what claimed wishes and projects gave, in words
        assert given["claimed"] > 0 and given["beneficiaries"] >= given["claimed"]
        assert page.inner_text("#kpi-claims") == (
            f"已认领 {given['claimed']} 件，服务 {given['service_hours']:g} 小时，受益 {given['beneficiaries']} 人"
        )
        assert page.input_value("#kpi-period") == "365" and page.input_value("#cm-to") == year["to"]
        assert page.locator("#kpi-level option[value=street]").count() == 0  # one street: no 街道 level
        assert page.locator("#kpi-rows tr").count() > 10  # the demo street's grids
        assert page.inner_text("#kpi-total th") == "合计"
        total = page.locator("#kpi-total td").all_inner_texts()
        assert len(total) == 8 and total[1].endswith("%") and total[0].isdigit()
        stages = page.locator("#kpi-stages tr").all_inner_texts()
        assert [s.split()[0] for s in stages] == ["受理", "派遣", "处置", "核查"]
        assert all("%" in s for s in stages)
        chart = page.locator("#kpi-trend svg.trend-chart")
        assert chart.locator("polyline").count() >= 2 and chart.locator("text.x-label").count() >= 4
        assert "上报" in page.inner_text(".trend-legend") and "结案" in page.inner_text(".trend-legend")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "concern_kpis_year.png"))  # the panel scrolled to the figures

        data = _reloaded(page, lambda: page.select_option("#kpi-level", "community"), "by=community")
        assert data["by"] == "community" and len(data["rows"]) == 5
        assert page.inner_text("#kpi-area-head") == "社区" and page.locator("#kpi-rows tr").count() == 5
        today = dt.date.fromisoformat(year["to"])
        with page.expect_response(lambda r: "/api/v1/concern-trend" in r.url and "from=" in r.url) as trend:
            data = _reloaded(page, lambda: page.select_option("#kpi-period", "30"), "by=community")
        month = trend.value.json()
        since = (today - dt.timedelta(days=29)).isoformat()
        assert (data["from"], data["to"], month["from"]) == (since, today.isoformat(), since)
        assert page.input_value("#cm-from") == since  # the concern map's period too
        assert 5 <= len(month["weeks"]) <= 6 and page.locator("#kpi-trend circle").count() >= 2 * len(month["weeks"])
        assert page.inner_text("#kpi-status") == f"{since} 至 {today.isoformat()}"
        page.locator("#concern-legend").wait_for(timeout=30_000)  # the map of the same days
        page.screenshot(path=str(ARTIFACTS / "concern_kpis_30_days_communities.png"))
        page.locator("#kpi-trend").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_kpis_trend_desktop.png"))

        link = page.locator("#kpi-ledger")
        assert link.is_visible() and f"from={since}" in link.get_attribute("href")
        with page.expect_download() as got:
            link.click()
        download = got.value
        assert download.suggested_filename == f"concern-ledger-{today.strftime('%Y%m%d')}.xlsx"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        assert rows[1][0] == "编号" and len(rows) - 2 == month["total"]["reported"] > 0
        page.fill("#cm-from", (today + dt.timedelta(days=1)).isoformat())  # a start after the end: refused, named
        page.locator("#kpi-status", has_text="from").wait_for(timeout=15_000)
        assert "开始日期晚于结束日期" in page.inner_text("#kpi-status") and page.input_value("#kpi-period") == ""
        assert link.is_hidden()
        assert view.outside == [] and view.csp_violations == [] and view.failed == []
        view.context.close()


def test_community_staff_read_the_panel_on_a_phone_in_english(browser, live_app):
    with committed_cleanup("gridmap_concernevent", "gridmap_concern"):
        _demo_year()
        view = OfflinePage(browser, live_app, **PHONE)
        view.login("shequ")
        page = view.page
        switch_language(page, "en")
        page.goto(live_app + "/concerns/")
        page.wait_for_selector("#concerns-root[data-loaded=true]", timeout=30_000)
        _open_panel(page)
        assert page.inner_text("#concern-kpis h2") == "Figures"
        heads = page.locator(".kpi-table thead th").all_inner_texts()
        assert heads[1:4] == ["Cases due", "Closure rate", "On-time closure rate"]
        assert page.inner_text("#kpi-total th") == "Total"
        assert page.locator("#kpi-stages th").all_inner_texts() == ["Accept", "Dispatch", "Handle", "Verify"]
        assert re.fullmatch(r"\d+ claimed, [\d.]+ hours of service, \d+ beneficiaries", page.inner_text("#kpi-claims"))
        assert "Reported" in page.inner_text(".trend-legend") and "Closed" in page.inner_text(".trend-legend")
        assert page.inner_text("#kpi-ledger") == "Export ledger"
        data = _reloaded(page, lambda: page.select_option("#kpi-period", "7"), "by=grid")
        assert (dt.date.fromisoformat(data["to"]) - dt.date.fromisoformat(data["from"])).days == 6
        assert _no_sideways_scroll(page)  # the wide table scrolls in its own box
        box = page.locator("#kpi-trend svg").bounding_box()
        assert 300 <= box["width"] <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#concern-kpis").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_kpis_phone_en.png"))  # the panel's top: the figures
        page.locator("#kpi-stages").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "concern_kpis_phone_en_stages.png"))
        page.locator("#kpi-trend").screenshot(path=str(ARTIFACTS / "concern_kpis_trend_phone_en.png"))
        assert view.outside == [] and view.csp_violations == [] and view.failed == []
        view.context.close()


def test_a_planner_sees_the_figures_and_the_trend_but_no_ledger(browser, live_app):
    with committed_cleanup("gridmap_concernevent", "gridmap_concern"):
        _demo_year()
        view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 900})
        view.login("guihua")
        page = view.page
        with page.expect_response(lambda r: "/api/v1/concern-trend" in r.url, timeout=60_000) as trend:
            page.goto(live_app + "/concerns/")
        assert trend.value.json()["suppressed_below"] == 5
        page.wait_for_selector("#concern-kpis[data-loaded=true]", timeout=30_000)
        assert page.locator("#kpi-rows tr").count() > 10 and page.locator("#kpi-trend polyline").count() >= 2
        assert page.locator("#kpi-ledger").count() == 0  # aggregates only
        with page.expect_response(lambda r: "/api/v1/concern-trend" in r.url and "from=" in r.url) as week:
            page.select_option("#kpi-period", "7")
        counts = [w[k] for w in week.value.json()["weeks"] for k in ("reported", "closed", "overdue")]
        assert all(c == "<5" or c == 0 or c >= 5 for c in counts)
        page.wait_for_selector("#concern-kpis[data-loaded=true]", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "concern_kpis_planner.png"))
        assert view.outside == [] and view.csp_violations == [] and view.failed == []
        view.context.close()
