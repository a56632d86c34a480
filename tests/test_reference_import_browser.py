"""A street admin replaces his street's compounds from the data exchange page in a real browser (every outside
request blocked, a server whose inline limit is 10 bytes, so the import runs as a job in a worker): the page
follows the job with its progress bar to "done", lists the new layer with its count, and the map then draws the
compounds in its reference pane. The form is photographed at desktop and phone width (test-artifacts/). The
compounds it imports are removed afterwards (the server's writes are committed, outside the test's transaction)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import shapely

from gridmap import policy
from tests.browser_support import OfflinePage, committed_sql, job_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FILENAME = "浏览器测试小区.geojson"
NAMES = ["浏览器小区一", "浏览器小区二", "浏览器小区三"]


@pytest.fixture(scope="module")
def jobs_app(django_db_setup):
    with job_server() as base:
        yield base
    committed_sql("DELETE FROM gridmap_referencefeature WHERE source = %s", [FILENAME])


def _compounds(street) -> bytes:
    c = street.boundary.point_on_surface
    features = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": json.loads(
                shapely.to_geojson(shapely.box(c.x + 0.0006 * i, c.y, c.x + 0.0006 * i + 0.0004, c.y + 0.0004))
            ),
        }
        for i, name in enumerate(NAMES)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def _reference_answers(page) -> list[dict]:
    answers: list[dict] = []
    page.on("response", lambda r: "/api/layers/reference.geojson" in r.url and r.ok and answers.append(r))
    return answers


def test_a_street_admin_imports_compounds_follows_the_job_and_sees_them_on_the_map(browser, jobs_app, user_for):
    street = policy.reference_streets_for(user_for("street_admin")).get()
    view = OfflinePage(browser, jobs_app, viewport={"width": 1280, "height": 900})
    view.login("jiedao")  # lands on /map/: its reference layer is in the browser's cache from now on
    page = view.page
    page.goto(jobs_app + "/data/")
    form = page.locator("#reference-box")
    assert page.locator("#reference-street option").all_inner_texts() == [street.name]  # his street only
    ARTIFACTS.mkdir(exist_ok=True)
    form.screenshot(path=str(ARTIFACTS / "reference-import-desktop.png"))
    page.select_option("#reference-kind", "compound")
    page.select_option("#reference-crs", "WGS84")
    page.set_input_files(
        "#reference-file", {"name": FILENAME, "buffer": _compounds(street), "mimeType": "application/geo+json"}
    )
    with page.expect_response(lambda r: "/api/v1/reference-layers" in r.url) as first:
        page.click("#reference-run")
    assert first.value.status == 202
    assert page.is_disabled("#reference-run")  # one import at a time
    page.wait_for_selector("#reference-progress", state="attached", timeout=30_000)  # the bar of the polled job
    page.wait_for_selector("#reference-msg.ok", timeout=120_000)
    assert "已导入 3 个要素" in page.inner_text("#reference-msg")
    assert not page.is_visible("#reference-progress") and page.is_enabled("#reference-run")
    listed = page.locator(f'#reference-layers tr[data-layer="compound:{street.pk}"]')
    assert listed.locator(".count").inner_text() == "3" and listed.locator(".when").inner_text().startswith("20")
    form.screenshot(path=str(ARTIFACTS / "reference-import-done.png"))

    answers = _reference_answers(page)
    page.goto(jobs_app + "/map/")
    page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)
    for _ in range(120):  # the latest answer names the new compounds, and the pane draws every feature it has
        latest = answers[-1].json() if answers else {"features": []}
        drawn = page.locator(".leaflet-reference-pane path").count()
        if set(NAMES) <= {f["properties"]["name"] for f in latest["features"]} and drawn == len(latest["features"]):
            break
        page.wait_for_timeout(250)
    else:
        raise AssertionError(f"{drawn} paths drawn; the latest answer has {len(latest['features'])} features")
    assert view.outside == [] and view.csp_violations == [], (view.outside, view.csp_violations)
    view.context.close()


def test_the_reference_form_fits_a_phone(browser, jobs_app):
    view = OfflinePage(browser, jobs_app, viewport={"width": 390, "height": 844}, device_scale_factor=2)
    view.login("jiedao")
    page = view.page
    page.goto(jobs_app + "/data/")
    box = page.locator("#reference-box")
    box.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    box.screenshot(path=str(ARTIFACTS / "reference-import-phone.png"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    assert box.bounding_box()["width"] <= 390
    assert view.outside == [] and view.csp_violations == []
    view.context.close()
