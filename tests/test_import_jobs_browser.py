"""The data exchange page with every layer import run as a job (a server whose inline limit is 10 bytes), in a
real browser: the preview answers 202, the page polls the job with a progress bar and lists the rows when the
job is done; importing commits the job's stored file. The station it creates is removed afterwards (the
server's writes are committed, outside the test's transaction)."""

from __future__ import annotations

import os

import pytest

from gridmap import policy
from tests.browser_support import OfflinePage, committed_sql, job_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
NAME = "任务浏览器测试站"


@pytest.fixture(scope="module")
def jobs_app(django_db_setup):
    with job_server() as base:
        yield base
    committed_sql("DELETE FROM gridmap_servicestation WHERE name = %s", [NAME])


def test_a_station_import_runs_as_a_job_the_page_follows(browser, jobs_app, user_for):
    from gridmap.models import ServiceStation

    inside = policy.households_for(user_for("street_admin")).order_by("id").first().location
    view = OfflinePage(browser, jobs_app, viewport={"width": 1280, "height": 900})
    view.login("jiedao")
    page = view.page
    page.goto(jobs_app + "/data/")
    page.select_option("#import-layer", "stations")
    page.select_option("#import-crs", "WGS84")
    data = f"名称,经度,纬度\n{NAME},{inside.x},{inside.y}\n".encode()
    page.set_input_files("#import-file", {"name": "stations.csv", "buffer": data, "mimeType": "text/csv"})
    with page.expect_response(lambda r: "/api/v1/imports/stations" in r.url) as first:
        page.click("#import-preview")
    assert first.value.status == 202
    page.wait_for_selector("#import-progress", state="attached", timeout=30_000)  # the bar of the polled job
    page.wait_for_selector("#import-msg.ok", timeout=120_000)
    assert NAME in page.inner_text("#import-rows tbody") and page.is_enabled("#import-run")
    assert not page.is_visible("#import-progress")
    assert not ServiceStation.objects.filter(name=NAME).exists()  # a preview
    with page.expect_response(lambda r: "/commit" in r.url) as committed:
        page.click("#import-run")
    assert committed.value.status == 202  # the stored file of the preview, in a worker again
    page.wait_for_selector("#import-run[disabled]", state="attached", timeout=120_000)  # the job's result shown
    assert "import-msg" in page.eval_on_selector("#import-msg.ok", "e => e.id")
    assert ServiceStation.objects.filter(name=NAME).count() == 1
    assert view.outside == [] and view.csp_violations == []
    view.context.close()


def test_the_grid_editor_import_panel_follows_a_job_to_its_preview(browser, jobs_app, tmp_path):
    import json

    import shapely.affinity
    import shapely.geometry

    from gridmap.models import Grid
    from tests.test_grid_editor_browser import first_community_grids, open_editor, shape_of

    _, grids, _ = first_community_grids()
    inside = shapely.affinity.scale(shape_of(grids[0]).geoms[0], 0.5, 0.5)  # overlaps its own grid: refused
    feature = {"type": "Feature", "properties": {"name": "任务导入测试"}, "geometry": shapely.geometry.mapping(inside)}
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    before = Grid.objects.count()
    view = open_editor(browser, jobs_app, "jiedao")
    page = view.page
    page.set_input_files("#import-file", str(path))
    with page.expect_response(lambda r: "/grid-import" in r.url) as first:
        page.click("#import-preview")
    assert first.value.status == 202
    page.wait_for_selector("#import-progress", state="attached", timeout=30_000)
    page.wait_for_selector("#import-list li.error", timeout=120_000)  # the job's rows, drawn when it ended
    assert "任务导入测试" in page.inner_text("#import-list") and "与相邻网格重叠" in page.inner_text("#import-list")
    assert "未导入任何网格" in page.inner_text("#editor-message") and page.locator("#import-run").is_disabled()
    assert page.locator("path.import-bad").count() == 1 and not page.is_visible("#import-progress")
    assert Grid.objects.count() == before and view.outside == []
    view.context.close()
