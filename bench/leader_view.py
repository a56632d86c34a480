"""The grid leader's page data (issue #5) over HTTP: ``/api/grids/<pk>/households.json`` for the grid
closest to 500 households, as that grid's leader, served by gunicorn on this machine's cores with the
database on the same machine; beside it, the same statement in raw SQL.

Target (issue #5): ≥ 200 requests/s with p95 ≤ 100 ms in the 1M-household city (``--size large``).

``run(results)`` expects Django set up on a loaded bench database. Run alone (never against the database
of a bench run in progress: the bench database is dropped and recreated):
``DATABASE_URL=postgis://…/postgres .venv/bin/python -m bench.leader_view --households 10000``.

Rows:
- anchor: the page's SQL (``queries.grid_households``, scopes of the leader inlined), executed through
  psycopg2 on one connection, sequentially for 5 s: req/s and p95 of the statement alone.
- project: gunicorn (2 workers, as bench/open_api.py) + wrk (2 threads, 8 connections, 10 s) with the
  leader's session cookie: req/s, p50, p95 (wrk's latency distribution, via a Lua ``done`` hook), non-2xx.
  Nothing changes during the run, so after each worker's first request the page comes from the
  freshness-checked cache (queries/grid_page_cache.py): every request still authenticates, renews its
  session, checks the scope and reads the grid's revision; only the page statement is skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

WORKLOAD = "grid leader's page data, ~500-household grid (HTTP, 2 cores)"
TARGET_RPS, TARGET_P95_MS = 200, 100
WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS = 2, 8, 10
_LUA = """done = function(summary, latency, requests)
  io.write(string.format("P50_US %d\\nP95_US %d\\n", latency:percentile(50), latency:percentile(95)))
end
"""


def _grid_near_500():
    from django.db import connection

    from gridmap.models import Grid

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_id, count(*) FROM gridmap_household WHERE grid_id IS NOT NULL GROUP BY grid_id"
            " ORDER BY abs(count(*) - 500), grid_id LIMIT 1"
        )
        grid_id, n = cursor.fetchone()
    return Grid.objects.get(pk=grid_id), n


def _leader_of(grid):
    """A login of role grid_leader whose member leads ``grid`` (any other active leader of it is ended)."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from gridmap.models import AssignmentRole, GridAssignment, Member, Profile, Role

    user, _ = get_user_model().objects.get_or_create(username="bench_grid_leader")
    user.set_password("bench-pass-2026")
    user.save()
    Profile.objects.update_or_create(user=user, defaults={"role": Role.GRID_LEADER, "street": None, "community": None})
    member, _ = Member.objects.get_or_create(user=user, defaults={"name": "压测网格长", "community": grid.community})
    today = dt.date.today()
    GridAssignment.objects.active().filter(member=member).exclude(grid=grid).update(end_date=today)
    GridAssignment.objects.active().filter(grid=grid, role=AssignmentRole.LEADER).exclude(member=member).update(
        end_date=today
    )
    GridAssignment.objects.get_or_create(
        member=member,
        grid=grid,
        role=AssignmentRole.LEADER,
        end_date=None,
        defaults={"start_date": today - dt.timedelta(days=1)},
    )
    return user


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def raw_sql_row(results, user, grid, n: int, seconds: float = 5.0):
    """The page's statement alone: the SQL grid_page() runs, through psycopg2, no Django in the loop."""
    import psycopg2
    from django.conf import settings

    from bench.harness import Row
    from gridmap import policy
    from gridmap.queries.grid_households import PAGE_SQL, named_ids

    grids, p1 = named_ids(policy.grids_for(user), "g")
    households, p2 = named_ids(policy.households_for(user), "h")
    stations, p3 = named_ids(policy.stations_for(user), "s")
    sql, params = (
        PAGE_SQL.format(grids=grids, households=households, stations=stations),
        {"grid": grid.pk, **p1, **p2, **p3},
    )
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(  # the app's connection parameters, its session options included
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"], **db["OPTIONS"]
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            assert len(json.loads(cursor.fetchone()[0])["households"]) == n
            samples, started = [], time.perf_counter()
            while time.perf_counter() - started < seconds:
                t = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchone()
                samples.append(time.perf_counter() - t)
    finally:
        conn.close()
    rps = len(samples) / sum(samples)
    note = f"{rps:.0f} req/s; p50 {statistics.median(samples) * 1000:.1f} ms; p95 {_p95(samples) * 1000:.1f} ms"
    return results.add(
        Row(WORKLOAD, "page SQL alone (psycopg2, one connection, sequential)", "anchor", n, samples, note=note)
    )


def _wrk(url: str, cookie: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{WRK_THREADS}",
                f"-c{WRK_CONNECTIONS}",
                f"-d{WRK_SECONDS}s",
                "-s",
                script.name,
                "-H",
                f"Cookie: {cookie}",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": int(re.search(r"P50_US (\d+)", out).group(1)) / 1000,
        "p95_ms": int(re.search(r"P95_US (\d+)", out).group(1)) / 1000,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def http_row(results, user, grid, n: int, anchor: str):
    from bench.harness import Row
    from bench.open_api import _serve
    from gridmap.storage.session_store import SessionStore

    session = SessionStore()
    session.update(
        {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
    )
    session.create()
    cookie = f"sessionid={session.session_key}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(port)
    try:
        url = f"http://127.0.0.1:{port}/api/grids/{grid.pk}/households.json"
        check = urllib.request.Request(url, headers={"Cookie": cookie})
        with urllib.request.urlopen(check, timeout=10) as response:  # right user, right grid, every household
            assert len(json.loads(response.read())["households"]) == n
        w = _wrk(url, cookie)
    finally:
        server.terminate()
        server.wait(10)
    met = w["rps"] >= TARGET_RPS and w["p95_ms"] <= TARGET_P95_MS and not w["non2xx"]
    note = (
        f"{w['rps']:.0f} req/s; p50 {w['p50_ms']:.1f} ms; p95 {w['p95_ms']:.1f} ms; non-2xx {w['non2xx']}; "
        f"target ≥{TARGET_RPS} req/s and p95 ≤{TARGET_P95_MS} ms: {'met' if met else 'NOT met'}; "
        f"served from the revision-checked cache; gunicorn 2 workers, wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s"
    )
    return results.add(
        Row(
            WORKLOAD,
            "project: /api/grids/<pk>/households.json as the grid's leader",
            "project",
            n,
            [1 / w["rps"]],
            anchor=anchor,
            note=note,
        )
    )


def run(results, repeat: int = 5) -> None:
    grid, n = _grid_near_500()
    user = _leader_of(grid)
    anchor = raw_sql_row(results, user, grid, n)
    http_row(results, user, grid, n, anchor.approach)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    args = parser.parse_args()
    from bench.database import describe_machine, prepare_city

    prepare_city(args.households)
    from bench.harness import Results

    results = Results(f"leader_view_{args.households}", describe_machine(), {"households": args.households})
    run(results)
    for row in results.rows:
        print(f"{row.workload} | {row.approach} | items {row.items} | {row.note}")


if __name__ == "__main__":
    main()
