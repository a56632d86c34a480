"""The users' core tasks in Debian's chromium (issue #16), at the demo size, through gunicorn as `make run`
starts it: for each task the clicks (and fields typed) from the page a user lands on after signing in to
the visible result, and the time from the first click to that result. Screenshots of each end state go to
bench/results/tasks/.

Tasks (each as the demo account of its role):
- grid worker, phone (390 px): find a household by address, reveal its phone with a reason, record a visit;
- planner: switch the metric to "vulnerable uncovered", place a what-if station on the worst grid, read the gain;
- street admin: from the work list, assign a leader to a grid without one;
- street admin: open the grid editor, split a grid in two with a drawn line, publish the community.

Run: ``.venv/bin/python -m bench.tasks`` (its own database ``postgres_bench``, dropped and recreated).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
SHOTS = OUT / "tasks"
PASSWORD = os.environ.get("DEMO_PASSWORD", "GridMap-demo-2026")


class Task:
    """Counts what the user does; the clock runs from the first action to ``done()``."""

    def __init__(self, page, name: str):
        self.page, self.name = page, name
        self.clicks = self.fields = 0
        self.started: float | None = None
        self.seconds: float | None = None

    def _start(self):
        if self.started is None:
            self.started = time.perf_counter()

    def click(self, selector: str, **kw):
        self._start()
        self.clicks += 1
        self.page.click(selector, **kw)

    def click_map(self, x: float, y: float):
        """A click on the map at page pixel (x, y), e.g. a vertex of a drawn line."""
        self._start()
        self.clicks += 1
        self.page.mouse.click(x, y)

    def fill(self, selector: str, text: str):
        self._start()
        self.fields += 1
        self.page.fill(selector, text)

    def select(self, selector: str, value: str):
        self._start()
        self.clicks += 1
        self.page.select_option(selector, value)

    def done(self, selector: str, timeout: float = 30_000):
        self.page.wait_for_selector(selector, timeout=timeout)
        self.seconds = time.perf_counter() - self.started
        self.page.wait_for_load_state("networkidle")  # the screenshot after the page settles (not timed)
        self.page.wait_for_timeout(400)
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.name}.png"))
        return {"task": self.name, "clicks": self.clicks, "fields": self.fields, "seconds": round(self.seconds, 2)}


def _serve(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gridmap.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _login(browser, base: str, username: str, **context):
    page = browser.new_context(locale="zh-CN", **context).new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _worker_household() -> str:
    """The address of a household with a phone in the demo grid worker's grid (read before the browser starts:
    Playwright's sync API runs an event loop, inside which Django refuses database calls)."""
    from django.contrib.auth import get_user_model

    from gridmap import policy

    user = get_user_model().objects.get(username="wanggeyuan")
    return policy.households_for(user).exclude(phone_masked="").order_by("address").first().address


def worker_visit(browser, base: str, address: str) -> dict:
    page = _login(browser, base, "wanggeyuan", viewport={"width": 390, "height": 844}, is_mobile=True)
    if "/my-grid/" not in page.url:  # the landing page of the role; one more click otherwise
        page.goto(base + "/my-grid/")
    page.wait_for_selector("#leader-root[data-loaded=true]", timeout=30_000)
    task = Task(page, "worker_reveal_and_visit")
    task.fill("#hh-search", address)
    task.click(".hh-item >> nth=0")
    page.wait_for_selector("#hh-card .pii-phone")
    task.click("#hh-card [data-act=reveal]")
    task.fill("#hh-card .reveal-form [name=reason]", "上门核实联系方式")
    task.click("#hh-card .reveal-form button[type=submit]")
    page.wait_for_selector("#hh-card .card-msg:not(.error):has-text('已显示完整信息')")
    task.fill("#hh-card .visit-form [name=note]", "走访：身体健康，无诉求")
    task.click("#hh-card .visit-form button[type=submit]")
    return task.done("#hh-card .visits li:has-text('走访：身体健康')")


def planner_what_if(browser, base: str, _data: str) -> dict:
    page = _login(browser, base, "guihua", viewport={"width": 1400, "height": 850})
    if "/planner/" not in page.url:
        page.goto(base + "/planner/")
    page.wait_for_selector("#planner-root[data-loaded=true]", timeout=30_000)
    page.wait_for_selector("#planner-root[data-scenarios=ready]", timeout=30_000)
    task = Task(page, "planner_metric_and_what_if")
    task.select("#metric", "vulnerable_uncovered")
    page.wait_for_selector("#planner-root[data-loaded=true][data-metric=vulnerable_uncovered]", timeout=30_000)
    worst = page.locator("#ranking tr").first.get_attribute("data-grid")  # the grid the ranking puts first
    task.click("#whatif-add")
    task.click(f'path[data-grid="{worst}"]', force=True)  # the new station goes where it is needed
    return task.done("#whatif-result[data-state=done] #whatif-gained")


def admin_assign_leader(browser, base: str, _data: str) -> dict:
    """From the work list the street admin lands on: a grid without a leader → the staffing map opens on it
    with the leader role preselected → assign the first candidate; done when the panel says so."""
    page = _login(browser, base, "jiedao", viewport={"width": 1400, "height": 850})
    page.wait_for_selector("#work-list")
    task = Task(page, "admin_assign_leader")
    task.click("#work-staffing a[data-grid] >> nth=0")
    page.wait_for_selector("#staffing-root[data-loaded=true]", timeout=30_000)
    page.wait_for_selector("#member-list [data-assign]", timeout=30_000)
    task.click("#member-list [data-assign] >> nth=0")
    return task.done("#panel-msg:has-text('已分配')")


# Page pixels of a west-east line across the selected grid's bounds, 15 % beyond each side.
_SPLIT_LINE = """() => { const S = GridEditor.state, b = S.gridLayers[S.selected].getBounds(), m = S.map;
  const r = m.getContainer().getBoundingClientRect(), w = b.getWest(), e = b.getEast(), d = (e - w) * 0.15;
  const lat = b.getCenter().lat;
  return [[w - d, lat], [e + d, lat]].map(([lon, la]) => { const p = m.latLngToContainerPoint([la, lon]);
    return [r.left + p.x, r.top + p.y]; }); }"""


def admin_split_and_publish(browser, base: str, _data: str) -> dict:
    """Draw and publish a grid: from the work list, open the editor (nav), pick the first grid, split it with
    a two-point line (the last point clicked twice ends it), publish (and "publish anyway" when the parts leave
    the household band); done when the panel says published."""
    page = _login(browser, base, "jiedao", viewport={"width": 1400, "height": 850})
    task = Task(page, "admin_split_and_publish")
    task.click("nav a[href='/editor/']")
    page.wait_for_selector("#map-root[data-loaded=true]", timeout=30_000)
    task.click("#grid-list li >> nth=0")
    task.click("#tool-split")
    (x0, y0), (x1, y1) = page.evaluate(_SPLIT_LINE)
    task.click_map(x0, y0)
    task.click_map(x1, y1)
    task.click_map(x1, y1)
    page.wait_for_selector("#editor-message:has-text('已分割为')", timeout=30_000)
    task.click("#publish-button")
    # Parts outside the household band (a grid split in half usually is): the editor lists them and asks first.
    page.wait_for_selector("#editor-message:has-text('已发布'), #publish-confirm", timeout=30_000)
    if page.locator("#publish-confirm").count():
        task.click("#publish-confirm")
    return task.done("#editor-message:has-text('已发布')")


def run(only: str | None = None) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(port)
    base = f"http://127.0.0.1:{port}"
    results, address = [], _worker_household()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for task in (worker_visit, planner_what_if, admin_assign_leader, admin_split_and_publish):
                if only and task.__name__ != only:
                    continue
                try:
                    results.append(task(browser, base, address))
                except Exception as exc:  # a task that cannot be done is a finding, reported as such
                    results.append({"task": task.__name__, "failed": f"{type(exc).__name__}: {exc}"[:300]})
                print(results[-1], flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    return results


def main() -> None:
    from urllib.parse import urlparse, urlunparse

    from bench.database import DEFAULT_URL, describe_machine, prepare

    # A database of its own beside the server's maintenance database ("postgres_bench"), so that a benchmark
    # run of bench/__main__.py (<dbname>_bench) may go on at the same time.
    parts = urlparse(os.environ.get("DATABASE_URL", DEFAULT_URL))
    os.environ["DATABASE_URL"] = urlunparse(parts._replace(path="/postgres"))
    prepare()
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    results = run()
    OUT.mkdir(exist_ok=True)
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": describe_machine(), "tasks": results}
    (OUT / "tasks.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    lines = ["| task | clicks | fields typed | seconds, first click to result |", "|---|---:|---:|---:|"]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['task']} | — | — | failed: {r['failed']} |")
        else:
            lines.append(f"| {r['task']} | {r['clicks']} | {r['fields']} | {r['seconds']} |")
    (OUT / "tasks.md").write_text("# Core tasks in the browser\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
