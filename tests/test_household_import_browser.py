"""The household import page in a real browser (Debian's chromium, every outside request blocked, CSP
enforced): a clean file gives a preview with its counts, its points on the map and the commit button;
a bad file lists its row errors. (Committing is tested through the API: the live server's writes are
not rolled back.)"""

from __future__ import annotations

import os

import pytest

from gridmap import policy
from tests.browser_support import OfflinePage
from tests.household_files_support import csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_a_preview_shows_counts_points_and_the_commit_button_and_a_bad_file_its_errors(browser, live_app, user_for):
    household = policy.households_for(user_for("street_admin")).filter(grid__isnull=False).order_by("id").first()
    lon, lat = household.location.x, household.location.y
    good = csv_bytes([[lon, lat, f"浏览器路{i}号", "吴九", "", "", 1, f"BROWSER-{i}"] for i in range(3)])
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 900})
    view.login("jiedao")
    page = view.page
    page.goto(live_app + "/households/import/")
    # the street's published grids are outlined on the preview map before any upload
    page.wait_for_selector("#import-map svg path", state="attached", timeout=30_000)
    assert page.locator("#import-map svg path").count() >= 10
    page.select_option("#import-crs", "WGS84")
    page.set_input_files("#import-file", {"name": "good.csv", "buffer": good, "mimeType": "text/csv"})
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-commit:not([hidden])", timeout=30_000)
    counts = page.inner_text("#import-counts")
    assert "3" in counts and "预检通过" in page.inner_text("#import-msg")
    assert page.locator("#import-map path.leaflet-interactive, #import-map canvas").count() >= 1
    bad = csv_bytes([[lon, lat, "浏览器路9号", "吴九", "12345", "", 1, "BROWSER-9"]])
    page.set_input_files("#import-file", {"name": "bad.csv", "buffer": bad, "mimeType": "text/csv"})
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-errors:not([hidden]) tbody tr", timeout=30_000)
    errors = page.inner_text("#import-errors tbody")
    assert "电话" in errors and "2" in errors and page.locator("#import-commit").is_hidden()
    assert "未导入任何行" in page.inner_text("#import-msg")
    assert view.outside == [] and view.csp_violations == []
    view.context.close()
