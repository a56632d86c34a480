"""Overdue escalation and the duplicate offer in Debian's chromium (issue #17 item 9).

Escalation, with a frozen clock: the live server is another process with the database's clock, so the test moves
the concern's timeline instead — it was reported and accepted 30 hours ago (created_at, stage_started_at, due_at
and its history rows shifted back by the same interval, committed), so its dispatch stage (24 h) is 6 hours late —
and freezes the browser's clock at the database's now(). The board shows it overdue, first, on the 已超期 tab and
unflagged; the sweep (``manage.py concern_sweep``, as cron runs it, in its own process on the test database) flags
it once: the board shows the 督办 flag, its timeline the 系统 · 督办：超期督办 row, the bell counts it as escalated;
a second sweep flags nothing. In English too. Rework three times or three units in turn (提级督办) show the
street's flag.

Duplicates: a grid worker on a phone picks a point 60 m from an open concern of the chosen category: the form
offers it (its number and description) and not one of another category, a closed one or one 330 m away; tapping
it opens that concern and reports nothing; reporting anyway creates exactly one concern."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from tests.browser_support import OfflinePage, switch_language, tap_map_at
from tests.test_people_browser import committed_cleanup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "img"
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "timezone_id": "Asia/Shanghai"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SHANGHAI = ZoneInfo("Asia/Shanghai")
MOVED_ON = dt.timedelta(hours=30)  # the dispatch stage of 环境卫生 has 24 hours: 6 hours late

# Her grid's label point (she has one grid), from the layer the report form draws.
HOME = """async () => {
  const grids = await (await fetch("/api/layers/grids.geojson")).json();
  return grids.features[0].properties.label_point;
}"""
# Report concerns through the API as the signed-in user; their ids.
REPORT = """async (items) => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  const ids = [];
  for (const [category, text, lon, lat] of items) {
    const r = await fetch("/api/v1/concerns", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({category: category, description: text, location: {type: "Point", coordinates: [lon, lat]}})});
    if (r.status !== 201) { throw new Error("report " + r.status + " " + await r.text()); }
    ids.push((await r.json()).id);
  }
  return ids;
}"""
# Take steps of the state table through the API (If-Match: the concern's ETag), one after the other.
STEPS = """async (steps) => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  for (const [id, action, body] of steps) {
    const etag = (await (await fetch("/api/v1/concerns/" + id)).json()).etag;
    const r = await fetch("/api/v1/concerns/" + id + "/transitions", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "If-Match": etag},
      body: JSON.stringify(Object.assign({action: action}, body || {}))});
    if (r.status !== 200) { throw new Error(action + " " + r.status + " " + await r.text()); }
  }
}"""
WORDS = {
    "zh-hans": {"overdue": "超期 · 已立案", "flag": "已督办", "due": "时限 ", "system": "系统", "escalate": "督办：超期督办",
                "bell_late": "已超期 1", "bell_none": "已督办 0", "bell_one": "已督办 1"},
    "en": {"overdue": "Overdue · Accepted", "flag": "Escalated", "due": "Due ", "system": "System",
           "escalate": "Escalate: ", "bell_late": "overdue 1", "bell_none": "escalated 0", "bell_one": "escalated 1"},
}  # fmt: skip


def _sweep() -> str:
    """``manage.py concern_sweep`` in its own process on the test database (committed, as cron runs it)."""
    db = settings.DATABASES["default"]
    url = f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "gridmap.settings"}
    done = subprocess.run([sys.executable, "manage.py", "concern_sweep"], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    return done.stdout.strip()


def _shown(moment: dt.datetime, language: str) -> str:
    """A time as the page shows it (core.js GM.when: the page's language, to the minute, in Asia/Shanghai)."""
    t = moment.astimezone(SHANGHAI)
    if language == "zh-hans":
        return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"
    return f"{t:%b} {t.day}, {t.year}, {t.hour % 12 or 12}:{t:%M} {t:%p}"


def _plain(text: str) -> str:
    """ICU separates "PM" with a narrow no-break space; the words are what the test reads."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _reported(browser, live_app, items) -> tuple[list[int], tuple[float, float]]:
    """The grid worker reports ``items`` ([category, text, lon, lat], None for her grid's label point)."""
    worker = OfflinePage(browser, live_app)
    worker.login("wanggeyuan")
    lon, lat = worker.page.evaluate(HOME)
    ids = worker.page.evaluate(REPORT, [[c, t, x or lon, y or lat] for c, t, x, y in items])
    worker.context.close()
    return ids, (lon, lat)


def _board(page, live_app) -> None:
    page.goto(live_app + "/concerns/")
    page.wait_for_selector("#concerns-root[data-loaded=true]", timeout=30_000)


def _bell_title(page, *needles: str) -> str:
    """The bell's tooltip once its figures arrived (base.js fetches them after the page loaded)."""
    bell = page.locator(".topbar .bell")
    page.locator(".topbar .bell .badge").wait_for(state="visible", timeout=15_000)
    for _ in range(50):
        title = bell.get_attribute("title") or ""
        if all(n in title for n in needles):
            return title
        page.wait_for_timeout(100)
    return bell.get_attribute("title") or ""


@pytest.mark.parametrize(("language", "staff"), [("zh-hans", "jiedao"), ("en", "shequ")])
def test_an_overdue_concern_is_flagged_once_by_the_sweep_with_the_clock_moved_on(browser, live_app, language, staff):
    words = WORDS[language]
    late_text, fresh_text = f"督办测试：垃圾桶满溢 {language}", f"督办测试：刚上报 {language}"
    with committed_cleanup("gridmap_concernevent", "gridmap_concern") as conn:
        (late, fresh), _ = _reported(browser, live_app, [["sanitation", late_text, None, None],
                                                         ["sanitation", fresh_text, None, None]])  # fmt: skip
        view = OfflinePage(browser, live_app, **DESKTOP)
        view.login(staff)
        page = view.page
        page.evaluate(STEPS, [[late, "accept"]])
        with conn.cursor() as cur:  # the clock moved on 30 hours since it was reported and accepted
            cur.execute(
                "UPDATE gridmap_concern SET created_at = created_at - %(d)s, stage_started_at = "
                "stage_started_at - %(d)s, due_at = due_at - %(d)s WHERE id = %(id)s",
                {"d": MOVED_ON, "id": late},
            )
            cur.execute("UPDATE gridmap_concernevent SET at = at - %s WHERE concern_id = %s", [MOVED_ON, late])
            cur.execute("SELECT date_trunc('second', now()), due_at, now() - stage_started_at, now() - due_at, escalated"
                        " FROM gridmap_concern WHERE id = %s", [late])  # fmt: skip
            now, due_at, in_stage, late_by, escalated = cur.fetchone()
            cur.execute("SELECT at FROM gridmap_concernevent WHERE concern_id = %s AND action = 'accept'", [late])
            (accepted_at,) = cur.fetchone()
        assert dt.timedelta(hours=30) <= in_stage < dt.timedelta(hours=30, minutes=5) and not escalated
        assert dt.timedelta(hours=6) <= late_by < dt.timedelta(hours=6, minutes=5)  # due 24 h after it was accepted
        if language == "en":
            switch_language(page, "en", ".topbar select[name=language]")
        page.clock.set_fixed_time(now)  # the browser's clock stands at the database's now()
        _board(page, live_app)
        frozen = int(now.timestamp() * 1000)
        assert page.evaluate("Date.now()") == frozen

        items = page.locator("#concern-list li[data-concern]")
        first = items.first
        assert first.get_attribute("data-concern") == str(late)  # overdue first, though reported before the fresh one
        assert first.get_attribute("class") == "overdue" and first.locator(".state").inner_text() == words["overdue"]
        assert first.locator(".flag").count() == 0  # overdue, not yet escalated
        meta = _plain(first.locator(".meta").inner_text())
        assert words["due"] + _shown(due_at, language) in meta  # the deadline, 6 h before now
        other = page.locator(f"#concern-list li[data-concern='{fresh}']")
        assert other.get_attribute("class") == "" and other.locator(".flag").count() == 0
        assert words["bell_late"] in _bell_title(page, words["bell_late"], words["bell_none"])
        assert words["bell_none"] in _bell_title(page, words["bell_none"])
        page.click(".concern-tabs [data-state=overdue]")
        page.wait_for_selector(f"#concern-list li[data-concern='{fresh}']", state="detached", timeout=15_000)
        assert [li.get_attribute("data-concern") for li in items.all()] == [str(late)]
        assert page.locator(".concern-tabs [data-state=overdue] .badge").inner_text() == "1"

        assert _sweep() == "escalated 1"
        with conn.cursor() as cur:
            cur.execute("SELECT id, escalated, version FROM gridmap_concern WHERE id IN (%s, %s) ORDER BY id",
                        [late, fresh])  # fmt: skip
            rows = cur.fetchall()
        assert [(i, e) for i, e, _ in rows] == [(late, True), (fresh, False)]

        page.reload()
        page.wait_for_selector("#concerns-root[data-loaded=true]", timeout=30_000)
        assert page.evaluate("Date.now()") == frozen  # still frozen after the reload
        page.click(".concern-tabs [data-state=open]")
        page.wait_for_selector(f"#concern-list li[data-concern='{fresh}']", timeout=15_000)
        first = items.first
        assert first.get_attribute("data-concern") == str(late)
        flag = first.locator(".head .flag")
        assert (
            flag.is_visible() and flag.inner_text() == words["flag"] and flag.get_attribute("class") == "flag overdue"
        )
        assert page.locator(f"#concern-list li[data-concern='{fresh}'] .flag").count() == 0
        title = _bell_title(page, words["bell_one"])
        assert words["bell_one"] in title and words["bell_late"] in title
        assert page.locator(".topbar .bell .badge").inner_text() == "2"  # the late one and the one to accept
        if language == "zh-hans":
            IMAGES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(IMAGES / "concern-overdue-escalated.png"))

        first.locator(f"[data-show='{late}']").click()
        detail = page.locator("#concern-detail")
        detail.locator(".concern-timeline li").nth(2).wait_for(timeout=15_000)
        assert detail.locator("h2 .flag").inner_text() == words["flag"]
        timeline = detail.locator(".concern-timeline li").all_inner_texts()
        assert len(timeline) == 3, timeline  # reported, accepted, escalated
        assert _shown(accepted_at, language) in _plain(timeline[1])  # the accept row, 30 hours back
        assert timeline[2].startswith(words["system"]) and words["escalate"] in timeline[2], timeline[2]

        version = rows[0][2]
        assert _sweep() == "escalated 0"  # the second run flags nothing more
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM gridmap_concernevent WHERE concern_id = %s AND action = 'escalate'", [late]
            )
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT version FROM gridmap_concern WHERE id = %s", [late])
            assert cur.fetchone()[0] == version
        assert view.outside == [] and view.csp_violations == []
        view.context.close()


def test_rework_three_times_or_three_units_show_the_streets_escalation(browser, live_app):
    """提级督办 (states.ESCALATE_REWORK, ESCALATE_HANDOFFS), taken through the API as the street admin."""
    texts = ["提级测试：返工三次", "提级测试：三个单位", "提级测试：返工两次"]
    with committed_cleanup("gridmap_concernevent", "gridmap_concern") as conn:
        (rework3, passed3, rework2), _ = _reported(browser, live_app, [["sanitation", t, None, None] for t in texts])
        view = OfflinePage(browser, live_app, **DESKTOP)
        view.login("jiedao")
        page = view.page
        fail = [["handle", {"note": "已清理"}], ["verify_fail", {"note": "仍有垃圾"}]]
        steps = [[rework3, "accept"], [rework3, "dispatch", {"handler_level": "grid"}]]
        steps += [[rework3, *s] for s in fail * 3]
        steps += [[rework2, "accept"], [rework2, "dispatch", {"handler_level": "grid"}]]
        steps += [[rework2, *s] for s in fail * 2]
        steps += [[passed3, "accept"]]
        for unit in ("community", "street", "outside"):
            steps += [[passed3, "dispatch", {"handler_level": unit}]]
            steps += [[passed3, "return", {"note": "不属于本单位"}]] if unit != "outside" else []
        page.evaluate(STEPS, steps)
        with conn.cursor() as cur:
            cur.execute("SELECT id, rework, escalated FROM gridmap_concern WHERE id IN %s ORDER BY id",
                        [(rework3, passed3, rework2)])  # fmt: skip
            assert cur.fetchall() == [(rework3, 3, True), (passed3, 0, True), (rework2, 2, False)]
        _board(page, live_app)
        for concern in (rework3, passed3):
            flag = page.locator(f"#concern-list li[data-concern='{concern}'] .head .flag")
            assert (
                flag.is_visible() and flag.inner_text() == "提级督办" and flag.get_attribute("class") == "flag street"
            )
        assert "返工 3 次" in page.locator(f"#concern-list li[data-concern='{rework3}'] .meta").inner_text()
        assert page.locator(f"#concern-list li[data-concern='{rework2}'] .flag").count() == 0
        assert "返工 2 次" in page.locator(f"#concern-list li[data-concern='{rework2}'] .meta").inner_text()
        assert "已督办 2" in _bell_title(page, "已督办 2")
        page.locator(f"#concern-list li[data-concern='{passed3}'] [data-show='{passed3}']").click()
        page.locator("#concern-detail h2 .flag.street", has_text="提级督办").wait_for(timeout=15_000)
        assert view.outside == [] and view.csp_violations == []
        view.context.close()


def _moved(conn, lon: float, lat: float, metres: float, bearing: float) -> tuple[float, float]:
    """The point ``metres`` from (lon, lat) towards ``bearing`` (degrees from north), by PostGIS."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Project(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography,"
                    " %s, radians(%s))::geometry AS p) q", [lon, lat, metres, bearing])  # fmt: skip
        return cur.fetchone()


def _count(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM gridmap_concern")
        return cur.fetchone()[0]


def _offered(page) -> list[str]:
    return page.locator("#duplicates li").evaluate_all("(items) => items.map((li) => li.dataset.duplicate)")


def _offer_of(page, concern: int) -> None:
    """Wait until the form offers exactly ``concern`` (the nearby query answers after the tap or the change)."""
    page.wait_for_selector(f"#duplicates:not([hidden]) li[data-duplicate='{concern}']", timeout=15_000)


def test_a_worker_on_a_phone_is_offered_the_open_concern_of_that_kind_nearby(browser, live_app):
    same, kind = "重复测试：路口垃圾堆放", "重复测试：单元门禁损坏"
    closed, far, new = "重复测试：已结案的垃圾", "重复测试：远处的垃圾", "重复测试：另一处垃圾，仍然上报"
    with committed_cleanup("gridmap_concernevent", "gridmap_concern") as conn:
        worker = OfflinePage(browser, live_app, **PHONE)
        worker.login("wanggeyuan")
        page = worker.page
        lon, lat = page.evaluate(HOME)
        tap = _moved(conn, lon, lat, 60, 0)  # 60 m north of the open one
        away = _moved(conn, lon, lat, 270, 180)  # 330 m south of the tap, still in her grid
        open_one, other_kind, closed_one, far_one = page.evaluate(REPORT, [
            ["sanitation", same, lon, lat], ["facilities", kind, lon, lat], ["sanitation", closed, lon, lat],
            ["sanitation", far, *away]])  # fmt: skip
        with conn.cursor() as cur:
            cur.execute("UPDATE gridmap_concern SET state = 'closed', due_at = NULL WHERE id = %s", [closed_one])
            cur.execute("SELECT ST_Distance(a.location::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)"
                        " FROM gridmap_concern a WHERE a.id IN %s ORDER BY a.id", [*tap, (open_one, far_one)])  # fmt: skip
            near_m, far_m = (d for (d,) in cur.fetchall())
        assert 59 < near_m < 61 and far_m > 329
        before = _count(conn)
        posted = []
        page.on("request", lambda r: r.method == "POST" and "/api/v1/concerns" in r.url and posted.append(r.url))

        _board(page, live_app)
        page.click("#report-open")
        page.select_option("#report-form [name=category]", "sanitation")
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)  # the grids fitted
        tap_map_at(page, "concerns-map", *tap)
        _offer_of(page, open_one)
        offer = page.locator("#duplicates")
        assert _offered(page) == [str(open_one)]  # not another kind, not closed, not 330 m away
        assert "附近已有同类诉求，是同一个问题吗？" in offer.inner_text()
        item = offer.locator(f"li[data-duplicate='{open_one}']")
        assert item.locator("button").inner_text() == f"#{open_one} {same}"
        metres = int(item.locator("small").inner_text().split(" 米")[0])
        assert 55 <= metres <= 65 and item.locator("small").inner_text().endswith("米 · 已上报")
        page.locator("#report-form").scroll_into_view_if_needed()
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / "concern-duplicate-offer-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

        page.select_option("#report-form [name=category]", "facilities")  # another kind: the other one
        _offer_of(page, other_kind)
        assert _offered(page) == [str(other_kind)]
        page.select_option("#report-form [name=category]", "sanitation")
        _offer_of(page, open_one)
        assert _offered(page) == [str(open_one)]

        item.locator("button").click()  # the same problem: its concern opens, nothing is reported
        detail = page.locator("#concern-detail")
        detail.locator("h2 .concern-no", has_text=f"#{open_one}").wait_for(timeout=15_000)
        assert same in detail.inner_text()
        assert _count(conn) == before and posted == []

        page.fill("#report-form [name=description]", new)  # another problem after all: reported once
        page.click("#report-form button[type=submit]")
        page.locator("#concern-list li", has_text=new).wait_for(timeout=15_000)
        assert _count(conn) == before + 1 and len(posted) == 1
        with conn.cursor() as cur:
            cur.execute("SELECT c.code FROM gridmap_concern n JOIN gridmap_concerncategory c ON c.id = n.category_id"
                        " WHERE n.description = %s", [new])  # fmt: skip
            assert cur.fetchall() == [("sanitation",)]
        assert page.locator("#duplicates").is_hidden()  # the form closed with the report
        assert worker.outside == [] and worker.csp_violations == []
        worker.context.close()
