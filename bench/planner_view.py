"""The planner's first view and its switches over HTTP (issue #16), as a planner who plans every street of
the city, through gunicorn started as `make run` starts it (gridmap.wsgi, gunicorn.conf.py, 3 workers).

Targets (issue #16): all data of the first view ≤ 300 ms at the demo size and ≤ 1.5 s at 1M households
(p95); switching a metric or a heat layer ≤ 200 ms at the demo size.

Rows:
- anchor: the first view's aggregate statements run directly, once each, through the app's connection
  (coverage of every grid, the area sums per street and per community): what a page costs without a cache.
- project "first view": the requests the page makes, in its order and with its parallelism
  (planner_dashboard.js / planner_scenarios.js): the page HTML; grids and stations layers together; the
  metric table; the area sums per street and per community and the proposals together. Timed from the first
  request to the last answer; warm = nothing changed since the workers last computed.
- project "first view after a change": the same right after a write: a station's radius (and back), which
  moves the global page revision, so every worker's cached answers are stale and the coverage store
  recomputes the grids within that station's reach; or a household's edit, which moves its grid's revision.
- project "metric switch" and "heat layer switch": one request each, warm.

Run alone: ``DATABASE_URL=postgis://…/gridmap .venv/bin/python -m bench.planner_view --households 10000``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

WORKLOAD = "planner first view and switches (HTTP, gunicorn as `make run`, 3 workers)"
ROOT = Path(__file__).resolve().parents[1]
METRICS = ("covered_pct", "linked_pct", "vulnerable_uncovered", "size_band")
HEAT = ("households", "uncovered", "vulnerable_uncovered")


def _serve(port: int) -> subprocess.Popen:
    """gunicorn exactly as the Makefile's `run` target starts it (its flags, gunicorn.conf.py)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gridmap.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"],
        cwd=ROOT,
        env={**os.environ, "WEB_CONCURRENCY": "3"},
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "a"),  # noqa: SIM115 (the server's lifetime)
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _planner():
    """A planner of every street of the bench city, with a session cookie."""
    from django.contrib.auth import get_user_model

    from gridmap.models import Profile, Role, Street
    from gridmap.storage.session_store import SessionStore

    user, _ = get_user_model().objects.get_or_create(username="bench_planner")
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"role": Role.PLANNER, "street": None, "community": None}
    )
    profile.planner_streets.set(Street.objects.all())
    session = SessionStore()
    session.update(
        {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
    )
    session.create()
    return user, f"sessionid={session.session_key}"


def _fetch(base: str, cookie: str, path: str) -> int:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie, "Accept-Language": "zh-hans"})
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
        assert response.status == 200, (path, response.status)
    return len(body)


def _first_view(base: str, cookie: str, pool: ThreadPoolExecutor) -> float:
    from django.urls import reverse

    started = time.perf_counter()
    _fetch(base, cookie, reverse("planner-dashboard"))
    list(pool.map(lambda p: _fetch(base, cookie, p), [reverse("layer-grids"), reverse("layer-stations")]))
    _fetch(base, cookie, reverse("planner-metrics") + "?metric=covered_pct&scheme=fisher_jenks")
    areas = reverse("planner-areas")
    list(
        pool.map(
            lambda p: _fetch(base, cookie, p),
            [areas + "?level=street", areas + "?level=community", reverse("planner-proposals")],
        )
    )
    return time.perf_counter() - started


def _touch_stations() -> None:
    """A write that moves the global page revision (a station's radius, and back): every aggregate is stale."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gridmap_servicestation SET radius_m = radius_m + 1 WHERE id = (SELECT min(id) FROM gridmap_servicestation)"
        )
        cursor.execute(
            "UPDATE gridmap_servicestation SET radius_m = radius_m - 1 WHERE id = (SELECT min(id) FROM gridmap_servicestation)"
        )


def _touch_household() -> None:
    """A write that moves one grid's page revision (a household's address, as an edit on the grid page)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gridmap_household SET address = address WHERE id = (SELECT min(id) FROM gridmap_household)"
        )


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def _note(samples: list[float], target_ms: float | None) -> str:
    p95 = _p95(samples) * 1000
    text = f"p50 {statistics.median(samples) * 1000:.0f} ms; p95 {p95:.0f} ms"
    if target_ms is not None:
        text += f"; target p95 ≤ {target_ms:.0f} ms: {'met' if p95 <= target_ms else 'NOT met'}"
    return text


def run(results, repeat: int = 5) -> None:
    from bench.harness import Row, measure
    from gridmap import policy
    from gridmap.models import Household
    from gridmap.queries.coverage import grid_coverage
    from gridmap.queries.coverage_areas import area_coverage

    user, cookie = _planner()
    grids = policy.grids_for(user).published()
    n = Household.objects.filter(grid__in=grids).count()
    demo_size = n <= 20_000
    first_target = 300 if demo_size else (1500 if n >= 900_000 else None)
    switch_target = 200 if demo_size else None

    def statements():
        grid_coverage(grids)
        area_coverage(grids, "street")
        area_coverage(grids, "community")

    anchor = "anchor: the first view's aggregate statements, once each, no cache (app connection)"
    results.add(Row(WORKLOAD, anchor, "anchor", n, *measure(statements, repeat=repeat)))

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(port)
    base = f"http://127.0.0.1:{port}"
    rounds = max(repeat, 20)
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:  # a browser's connections per host
            for _ in range(6):  # every worker computes and caches once
                _first_view(base, cookie, pool)
            warm = [_first_view(base, cookie, pool) for _ in range(rounds)]
            cold, edited = [], []
            for _ in range(max(repeat, 5)):
                _touch_stations()
                cold.append(_first_view(base, cookie, pool))
                _touch_household()
                edited.append(_first_view(base, cookie, pool))
            from django.urls import reverse

            metric_url, heat_url = reverse("planner-metrics"), reverse("planner-heat")
            for metric in METRICS:  # warm every worker's cache for each metric and layer
                for _ in range(3):
                    _fetch(base, cookie, f"{metric_url}?metric={metric}&scheme=fisher_jenks")
            for layer in HEAT:
                for _ in range(3):
                    _fetch(base, cookie, f"{heat_url}?layer={layer}")
            switches, heats = [], []
            for i in range(rounds):
                t = time.perf_counter()
                _fetch(base, cookie, f"{metric_url}?metric={METRICS[i % len(METRICS)]}&scheme=fisher_jenks")
                switches.append(time.perf_counter() - t)
                t = time.perf_counter()
                _fetch(base, cookie, f"{heat_url}?layer={HEAT[i % len(HEAT)]}")
                heats.append(time.perf_counter() - t)
    finally:
        server.terminate()
        server.wait(30)
    for approach, samples, target in (
        ("project: first view, warm (page, layers, metric table, area sums, proposals)", warm, first_target),
        ("project: first view right after a station's radius changed", cold, first_target),
        ("project: first view right after a household was edited", edited, first_target),
        ("project: metric switch (metric table, warm)", switches, switch_target),
        ("project: heat layer switch (heat cells, warm)", heats, switch_target),
    ):
        results.add(Row(WORKLOAD, approach, "project", n, samples, anchor=anchor, note=_note(samples, target)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from bench.database import describe_machine, prepare_city

    prepare_city(args.households)
    from bench.harness import Results

    params = {"households": args.households, "grids": max(args.households // 500, 5), "stations": 20, "seed": 20261122}
    results = Results(f"planner_view_{args.households}", describe_machine(), params)
    run(results, args.repeat)
    results.write()


if __name__ == "__main__":
    main()
