"""Residents' concerns at city size (issue #17): the KPI dashboard of a street and of the city, reporting one
concern (create + route by the home rule) and the overdue sweep, each beside its anchor in the same run.

Targets (issue #17, on the 1M-household city with a concern per household): create + route ≤ 50 ms p95 over
HTTP; a street's KPI dashboard ≤ 300 ms and the city's ≤ 2 s; the overdue sweep over all open concerns ≤ 5 s;
concern heat for a street ≤ 300 ms.

Rows:
- KPIs: anchor = the KPI statement run once through the app's connection for the same scope (no HTTP, no policy
  sub-select); project = GET /api/v1/concern-kpis over HTTP through gunicorn as `make run` starts it, as the
  street's admin (by grid) and as a system admin (the city, by community).
- create + route: anchor = one INSERT of a concern whose grid and community come from a point-in-polygon lookup
  (rolled back); project = POST /api/v1/concerns over HTTP as the street's admin.
- heat: anchor = the same 250 m cells of the street's concerns of the last 365 days as one raw SQL statement (app
  connection, no policy sub-select, no JSON); project = GET /api/v1/concern-heat over HTTP as the street's admin.
- sweep: anchor = the bare UPDATE that flags the overdue (rolled back); project = services.concerns.sweep
  .escalate_overdue (history rows and audit event too; rolled back after each run).

Run alone on a city that exists (``bench.database.prepare_city`` and ``load_demo_concerns(every=1)``):
``DATABASE_URL=postgis://…/gridmap_bench .venv/bin/python -m bench.concerns --existing``.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
import urllib.request
import uuid

from bench.planner_view import _note, _serve

WORKLOAD_KPI = "concern KPI dashboard (HTTP, gunicorn as `make run`)"
WORKLOAD_CREATE = "report one concern: create + route (HTTP)"
WORKLOAD_SWEEP = "overdue sweep over all open concerns"
WORKLOAD_HEAT = "concern heat for a street (HTTP, gunicorn as `make run`)"

# The heat anchor: queries/concern_map's cells written out by hand for one street and period.
HEAT_ANCHOR_SQL = """
WITH cell AS (
    SELECT 250.0 / (111412.84 * cos(phi) - 93.5 * cos(3 * phi)) AS dx,
           250.0 / (111132.92 - 559.82 * cos(2 * phi) + 1.175 * cos(4 * phi)) AS dy
      FROM (SELECT radians((ST_YMin(e) + ST_YMax(e)) / 2) AS phi
              FROM (SELECT ST_Extent(boundary) AS e FROM gridmap_community) x) m),
bins AS (SELECT floor(ST_X(c.location) / dx)::int8 AS i, floor(ST_Y(c.location) / dy)::int8 AS j, count(*) AS n
           FROM gridmap_concern c JOIN gridmap_community m ON m.id = c.community_id, cell
          WHERE m.street_id = %(street)s AND c.created_at >= %(since)s AND c.created_at < %(until)s
          GROUP BY 1, 2)
SELECT (j + 0.5) * dy, (i + 0.5) * dx, n FROM bins, cell
"""


def _session(username: str, role: str, street=None) -> tuple[object, str, str]:
    """An account of ``role`` (of ``street``) with a session cookie and its CSRF token."""
    from django.contrib.auth import get_user_model
    from django.middleware.csrf import _get_new_csrf_string

    from gridmap.models import Profile
    from gridmap.storage.session_store import SessionStore

    user, _ = get_user_model().objects.get_or_create(username=username)
    Profile.objects.update_or_create(user=user, defaults={"role": role, "street": street, "community": None})
    session = SessionStore()
    session.update({"_auth_user_id": str(user.pk), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                    "_auth_user_hash": user.get_session_auth_hash()})  # fmt: skip
    session.create()
    csrf = _get_new_csrf_string()
    return user, f"sessionid={session.session_key}; csrftoken={csrf}", csrf


def _call(base: str, cookie: str, path: str, body: dict | None = None, csrf: str = "") -> dict:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Cookie": cookie, "Accept": "application/json", "Referer": base + "/"}
    if data is not None:
        headers.update({"Content-Type": "application/json", "X-CSRFToken": csrf})
    request = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status in (200, 201), (path, response.status)
        return json.loads(response.read())


# The workload is a million concerns over five years; load_demo_concerns writes one year (the demo's). Each
# finished concern's whole timeline (report, steps, deadline, history) moves back by 0 to 4 years, the same for all
# its rows, so every concern stays consistent in itself. Open concerns stay in the last year: a system that has run
# for five years has long closed (or parked) what was reported four years ago, and its sweep has flagged what fell
# overdue since. Moving open concerns back too (as this bench first did) left 190,000 open concerns years overdue
# and never flagged, a state no running system reaches, and the sweep's rolled-back runs measured flagging them all.
SPREAD_SQL = """
CREATE TEMP TABLE spread ON COMMIT DROP AS
  SELECT id, floor(random() * %(years)s)::int * interval '365 days' AS back FROM gridmap_concern
   WHERE state IN %(finished)s;
UPDATE gridmap_concern c SET created_at = c.created_at - s.back, stage_started_at = c.stage_started_at - s.back,
       due_at = c.due_at - s.back
  FROM spread s WHERE s.id = c.id AND s.back > interval '0';
UPDATE gridmap_concernevent e SET at = e.at - s.back FROM spread s WHERE s.id = e.concern_id AND s.back > interval '0';
"""


def spread_over_years(years: int = 5) -> None:
    from django.db import connection, transaction

    from gridmap.services.concerns.states import FINAL

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.17)")
        cursor.execute(SPREAD_SQL, {"years": years, "finished": tuple(state.value for state in FINAL)})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM FULL gridmap_concern")
        cursor.execute("VACUUM (ANALYZE) gridmap_concernevent")


def _vacuumed() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) gridmap_concern")


def _rolled_back(fn):
    """``fn`` inside a transaction that is undone afterwards (the sweep and the anchors change rows)."""
    from django.db import transaction

    def run():
        with transaction.atomic():
            fn()
            transaction.set_rollback(True)

    return run


def run(results, repeat: int = 5) -> None:
    from django.db import connection

    from bench.harness import Row, measure
    from gridmap.models import Role, Street
    from gridmap.models.concerns import Concern
    from gridmap.queries.concern_kpis import concern_kpis
    from gridmap.rules.sql import literal
    from gridmap.services.concerns.states import OPEN, S
    from gridmap.services.concerns.sweep import escalate_overdue

    if not Concern.objects.exists():  # in `python -m bench`: a concern at every household of the city
        from gridmap.services.concerns.demo import load_demo_concerns

        t = time.perf_counter()
        load_demo_concerns(every=1)
        spread_over_years(5)
        results.add(Row("set-up (once per run)", "load_demo_concerns(every=1)", "info", Concern.objects.count(),
                        [time.perf_counter() - t], note="single run, not a workload"))  # fmt: skip
    # The table as autovacuum keeps it (migration 0028 sets it to run after 1 % of the rows changed): a vacuum
    # marks the pages that a loading run (or an earlier benchmark's rolled-back sweeps) left unmarked.
    _vacuumed()
    street = Street.objects.order_by("code").first()
    n = Concern.objects.count()
    in_street = Concern.objects.filter(community__street=street)
    samples_http = max(repeat, 20)

    # KPI anchors: the statement itself for the same scopes.
    street_anchor = "anchor: the KPI statement for one street, by grid (app connection)"
    city_anchor = "anchor: the KPI statement for the city, by community (app connection)"
    results.add(Row(WORKLOAD_KPI, street_anchor, "anchor", in_street.count(),
                    *measure(lambda: concern_kpis(in_street, by="grid"), repeat=repeat)))  # fmt: skip
    results.add(Row(WORKLOAD_KPI, city_anchor, "anchor", n,
                    *measure(lambda: concern_kpis(Concern.objects.all(), by="community"), repeat=repeat)))  # fmt: skip

    # Create + route anchor: one INSERT that finds its grid by the point (what the service does, bare).
    point = street.boundary.point_on_surface
    insert = """
        INSERT INTO gridmap_concern (uid, category_id, urgency, location, address, description, source, grid_id,
               community_id, state, version, handler_level, handler_name, stage_started_at, rework, late_steps,
               reopened, escalated, feedback, created_at)
        SELECT %s, (SELECT min(id) FROM gridmap_concerncategory), 'normal', p, '', 'bench', 'patrol', g.id,
               g.community_id, 'reported', 1, '', '', now(), 0, 0, 0, FALSE, '', now()
          FROM (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS p) pt
          LEFT JOIN gridmap_grid g ON g.status = 'published' AND ST_Covers(g.boundary, pt.p)
         LIMIT 1"""

    def insert_one():
        with connection.cursor() as cursor:
            cursor.execute(insert, [str(uuid.uuid4()), point.x, point.y])

    create_anchor = "anchor: one INSERT routed by a point-in-polygon lookup (rolled back)"
    results.add(
        Row(WORKLOAD_CREATE, create_anchor, "anchor", 1, *measure(_rolled_back(insert_one), repeat=samples_http))
    )

    # Over HTTP through gunicorn.
    _, admin_cookie, admin_csrf = _session("bench_street_admin", Role.STREET_ADMIN, street)
    _, city_cookie, _ = _session("bench_system_admin", Role.SYSTEM_ADMIN)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(port)
    base = f"http://127.0.0.1:{port}"
    big = n >= 900_000
    try:
        made = []

        def create():
            body = {"category": "sanitation", "description": "基准测试：楼道堆放杂物", "uid": str(uuid.uuid4()),
                    "location": {"type": "Point", "coordinates": [point.x, point.y]}}  # fmt: skip
            made.append(_call(base, admin_cookie, "/api/v1/concerns", body, admin_csrf)["id"])

        # Every worker warm, for reads and for a create: a worker's first POST pays its one-off start (imports,
        # the first connection's prepared state) once in its life, 64 to 141 ms here, and with three workers and
        # twenty samples those three were the p95 rather than the creates users make all day.
        for _ in range(6):
            _call(base, admin_cookie, "/api/v1/concern-kpis?by=grid")
            _call(base, city_cookie, "/api/v1/concern-kpis?by=community")
            create()
        timed = {"street": [], "city": [], "create": []}
        for _ in range(samples_http):
            t = time.perf_counter()
            _call(base, admin_cookie, "/api/v1/concern-kpis?by=grid")
            timed["street"].append(time.perf_counter() - t)
            t = time.perf_counter()
            _call(base, city_cookie, "/api/v1/concern-kpis?by=community")
            timed["city"].append(time.perf_counter() - t)
            t = time.perf_counter()
            create()
            timed["create"].append(time.perf_counter() - t)
    finally:
        server.terminate()
        server.wait(30)
        Concern.objects.filter(pk__in=made).delete()
    for workload, approach, key, anchor, target in (
        (WORKLOAD_KPI, "project: a street's dashboard, by grid (HTTP)", "street", street_anchor, 300 if big else None),
        (
            WORKLOAD_KPI,
            "project: the city's dashboard, by community (HTTP)",
            "city",
            city_anchor,
            2000 if big else None,
        ),
        (WORKLOAD_CREATE, "project: POST /api/v1/concerns (HTTP)", "create", create_anchor, 50 if big else None),
    ):
        items = 1 if key == "create" else (in_street.count() if key == "street" else n)
        results.add(
            Row(workload, approach, "project", items, timed[key], anchor=anchor, note=_note(timed[key], target))
        )
    run_heat(results, repeat)  # its own gunicorn, after the reports above were deleted
    # Sweep, last: its rolled-back runs each rewrite every overdue row (a real sweep flags each row once), and
    # the dead rows they leave would make the index-only reads above read the table until autovacuum passes.
    # Each run starts from a vacuumed table (untimed), as autovacuum leaves it: without that, autovacuum (which
    # migration 0028 starts after 1 % of the rows changed) cleans the last run's 200,000 dead rows during the
    # next one, and the runs measured that race (2.8 to 11.2 s) rather than the sweep.
    # Sweep: anchor = the bare flagging UPDATE; project = the service (history rows, audit).
    flaggable = ", ".join(literal(state) for state in OPEN if state != S.PARKED)  # as the sweep reads them
    bare = (
        f"UPDATE gridmap_concern SET escalated = TRUE WHERE state IN ({flaggable}) AND due_at < now() AND NOT escalated"
    )

    def flag_bare():
        with connection.cursor() as cursor:
            cursor.execute(bare)

    sweep_anchor = "anchor: the bare UPDATE that flags the overdue (rolled back)"
    open_now = Concern.objects.filter(state__in=OPEN).count()
    results.add(Row(WORKLOAD_SWEEP, sweep_anchor, "anchor", open_now,
                    *measure(_rolled_back(flag_bare), repeat=repeat, setup=_vacuumed)))  # fmt: skip
    sweep = measure(_rolled_back(escalate_overdue), repeat=repeat, setup=_vacuumed)
    results.add(Row(WORKLOAD_SWEEP, "project: escalate_overdue() (rolled back after each run)", "project", open_now,
                    *sweep, anchor=sweep_anchor, note=_note(sweep[0], 5000 if n >= 900_000 else None)))  # fmt: skip
    # Leave the tables as the run found them: each rolled-back sweep left its flagged rows and history rows dead
    # (about 50,000 each at a million), and the next run's reads and writes would otherwise share the machine
    # with autovacuum cleaning them.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) gridmap_concern, gridmap_concernevent")


def run_heat(results, repeat: int = 5) -> None:
    """The concern heat of the first street's last 365 days (the endpoint's default period) as its admin over HTTP,
    beside its anchor: the same cells as one raw statement; the first answer is checked cell for cell against it."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from bench.harness import Row, measure
    from gridmap.models import Role, Street
    from gridmap.models.concerns import Concern

    street = Street.objects.order_by("code").first()
    today, zone = timezone.localdate(), timezone.get_current_timezone()
    since = today - dt.timedelta(days=364)
    window = {"street": street.pk, "since": dt.datetime.combine(since, dt.time.min, zone),
              "until": dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, zone)}  # fmt: skip
    items = Concern.objects.filter(community__street=street, created_at__gte=window["since"],
                                   created_at__lt=window["until"]).count()  # fmt: skip
    samples = max(repeat, 20)
    cells: list = []

    def anchor():
        with connection.cursor() as cursor:
            cursor.execute(HEAT_ANCHOR_SQL, window)
            cells[:] = cursor.fetchall()

    anchor_name = "anchor: the street's 250 m cells as one raw SQL statement (app connection)"
    results.add(Row(WORKLOAD_HEAT, anchor_name, "anchor", items, *measure(anchor, repeat=samples)))
    _, cookie, _ = _session("bench_street_admin", Role.STREET_ADMIN, street)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(port)
    base, path = f"http://127.0.0.1:{port}", f"/api/v1/concern-heat?from={since.isoformat()}&to={today.isoformat()}"
    try:
        for _ in range(3):  # every worker warm
            first = _call(base, cookie, path)
        assert first["total"] == sum(c[2] for c in cells) and len(first["points"]) == len(cells), "not the same cells"
        timed = []
        for _ in range(samples):
            t = time.perf_counter()
            _call(base, cookie, path)
            timed.append(time.perf_counter() - t)
    finally:
        server.terminate()
        server.wait(30)
    target = 300 if Concern.objects.count() >= 900_000 else None
    results.add(Row(WORKLOAD_HEAT, "project: GET /api/v1/concern-heat as the street's admin (HTTP)", "project", items,
                    timed, anchor=anchor_name, note=_note(timed, target)))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--existing", action="store_true", help="use the bench database as it is (city and concerns)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--heat-only", action="store_true", help="only the concern heat rows (a busy shared machine)")
    args = parser.parse_args()
    import os

    from bench.database import describe_machine, prepare_city

    if args.existing:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
        import django

        django.setup()
    else:
        prepare_city(args.households)
    from bench.harness import Results
    from gridmap.models import Household

    households = Household.objects.count()
    params = {"households": households, "grids": max(households // 500, 5), "stations": 20, "seed": 20261122}
    results = Results(f"concerns{'_heat' if args.heat_only else ''}_{households}", describe_machine(), params)
    (run_heat if args.heat_only else run)(results, args.repeat)
    results.write()


if __name__ == "__main__":
    main()
