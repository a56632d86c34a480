"""The data exchange page in a real browser (Debian's chromium, every outside request blocked, CSP enforced):
a street admin finds it in the menu, downloads a layer, and previews a station import (clean and bad file).
Nothing is imported for real here: the live server's writes would outlive the test."""

from __future__ import annotations

import os

import pytest

from gridmap import policy
from tests.browser_support import OfflinePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_a_street_admin_downloads_a_layer_and_previews_a_station_import(browser, live_app, user_for):
    inside = policy.households_for(user_for("street_admin")).order_by("id").first().location
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    view.login("jiedao")
    page = view.page
    page.click("a.navlink[href='/data/']")
    page.wait_for_url("**/data/")
    with page.expect_download() as download:
        page.click("a.export-link[href='/api/exports/grids.csv']")
    assert download.value.suggested_filename.startswith("grids-") and download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), "rb") as fh:
        assert fh.read(3) == b"\xef\xbb\xbf"
    page.select_option("#import-layer", "stations")
    page.select_option("#import-crs", "WGS84")
    good = f"名称,经度,纬度\n浏览器测试站,{inside.x},{inside.y}\n".encode()
    page.set_input_files("#import-file", {"name": "stations.csv", "buffer": good, "mimeType": "text/csv"})
    page.click("#import-preview")
    page.wait_for_selector("#import-msg.ok")
    assert "浏览器测试站" in page.inner_text("#import-rows tbody")
    assert page.is_enabled("#import-run")
    bad = "名称,经度,纬度\n界外站,100.0,30.0\n".encode()
    page.set_input_files("#import-file", {"name": "stations.csv", "buffer": bad, "mimeType": "text/csv"})
    assert not page.is_enabled("#import-run")
    page.click("#import-preview")
    page.wait_for_selector("#import-msg.error")
    assert "geometry" in page.inner_text("#import-rows tbody") and not page.is_enabled("#import-run")
    assert view.outside == [] and view.csp_violations == []
    view.context.close()
