"""Many concerns at once on the board in Debian's chromium (issue #17 item 4): the street admin ticks every concern
waiting to be accepted and accepts them in one click, then dispatches them the same way; a concern someone else
changed meanwhile is left as it is and counted, through the one transition endpoint and its If-Match."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import OfflinePage
from tests.test_concerns_browser import _open
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

REPORT = """async (texts) => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  const grids = await (await fetch("/api/layers/grids.geojson")).json();
  const [lon, lat] = grids.features[0].properties.label_point;
  for (const text of texts) {
    const r = await fetch("/api/v1/concerns", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({category: "sanitation", description: text, location: {type: "Point", coordinates: [lon, lat]}})});
    if (r.status !== 201) { throw new Error("report " + r.status); }
  }
}"""


def _states(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT state FROM gridmap_concern WHERE description LIKE '批量测试%%' ORDER BY id")
        return [state for (state,) in cur.fetchall()]


def test_accept_then_dispatch_many_concerns_at_once_and_count_the_one_changed_meanwhile(browser, live_app):
    texts = [f"批量测试：第 {i} 件" for i in range(1, 5)]
    with committed_cleanup("gridmap_concernevent", "gridmap_concern") as conn:
        worker = OfflinePage(browser, live_app)
        worker.login("wanggeyuan")
        worker.page.evaluate(REPORT, texts)
        worker.context.close()

        admin = _open(browser, live_app, "jiedao", viewport={"width": 1280, "height": 800})
        page = admin.page
        page.locator("#bulk-bar").wait_for(state="visible", timeout=15_000)
        page.check("#bulk-all")
        assert page.locator("#concern-list input.pick:checked").count() == 4
        assert page.locator("[data-bulk=accept]").inner_text().endswith("(4)")
        page.click("[data-bulk=accept]")
        page.locator("#panel-msg.ok", has_text="已处理 4 件").wait_for(timeout=30_000)
        assert _states(conn) == ["accepted"] * 4

        page.check("#bulk-all")
        with conn.cursor() as cur:  # someone else steps in on the first one after the board was loaded
            cur.execute("UPDATE gridmap_concern SET version = version + 1 WHERE description = %s", [texts[0]])
        page.click("[data-bulk=dispatch]")
        page.locator("#panel-msg.error", has_text="已处理 3 件").wait_for(timeout=30_000)
        assert _states(conn) == ["accepted"] + ["dispatched"] * 3
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "concerns_bulk.png"))
        assert admin.outside == [] and admin.csp_violations == []
        admin.context.close()
