"""Open-interface workloads (issue #8): household vector tiles and the 500-household grid layer.

``run(results)`` expects Django set up on a loaded bench database. Run alone:
``DATABASE_URL=postgis://…/gridmap_x .venv/bin/python -m bench.open_api --households 100000`` builds
``gridmap_x_bench`` (dropped and recreated), loads a synthetic city and prints the rows.

Rows:
- densest z14 household tile, as a street admin (policy-scoped) and a system admin; p95 over varied
  repeats. Anchor: raw ``ST_AsMVT`` of every point of the same tile (docs/performance.md's row).
- the largest tile at every zoom 0–18 (households and grids, densest point of the city): size in kB.
- the 500-household grid layer over HTTP: gunicorn (2 workers) + wrk (2 threads, 8 connections, 10 s),
  ``/api/layers/households.geojson?bbox=<grid>`` and the z16 tiles of the grid, as the grid's street
  admin with a session cookie. Anchor: the layer's SQL alone through psycopg2, sequential, req/s.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

TILE = "densest z14 household tile"
SIZES = "largest tile per zoom"
LAYER = "500-household grid layer (HTTP, 2 cores)"


def _densest_tile(z: int, street_id: int | None = None) -> tuple[int, int, int, int]:
    """The z tile holding the most households (of one street, when given): x, y and its household count."""
    from django.db import connection

    where = (
        "WHERE h.community_id IN (SELECT id FROM gridmap_community WHERE street_id = %(street)s)" if street_id else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT floor((ST_X(location) + 180) / 360 * 2 ^ %(z)s)::int AS x,
                   floor((1 - asinh(tan(radians(ST_Y(location)))) / pi()) / 2 * 2 ^ %(z)s)::int AS y, count(*)
              FROM gridmap_household h {where} GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1""",
            {"z": z, "street": street_id},
        )
        x, y, n = cursor.fetchone()
    return z, x, y, n


def _users():
    from django.contrib.auth import get_user_model

    from gridmap.models import Household, Profile, Street

    users = {}
    for role in ("system_admin", "street_admin"):
        user, _ = get_user_model().objects.get_or_create(username=f"bench_{role}")
        street = None
        if role == "street_admin":  # the street with the most households
            street = Street.objects.get(
                pk=Household.objects.values("community__street")
                .order_by()
                .annotate(n=__import__("django.db.models").db.models.Count("id"))
                .order_by("-n")[0]["community__street"]
            )
        Profile.objects.update_or_create(user=user, defaults={"role": role, "street": street})
        user.set_password("bench-pass-2026")
        user.save()
        users[role] = user
    return users


def _raw_points_tile(z, x, y) -> bytes:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ST_AsMVT(t, 'households', 4096, 'geom') FROM (
            SELECT h.id, ST_AsMVTGeom(ST_Transform(h.location, 3857), ST_TileEnvelope(%s, %s, %s)) AS geom
              FROM gridmap_household h
             WHERE ST_Intersects(h.location, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326))) t""",
            [z, x, y, z, x, y],
        )
        return bytes(cursor.fetchone()[0] or b"")


def _p95(samples):
    return sorted(samples)[max(0, math.ceil(0.95 * len(samples)) - 1)]


def tile_rows(results, repeat: int) -> None:
    """Per role, the densest z14 tile the role can see (a street admin's: the densest of his street, not
    the city's, which may lie in another street and come back empty), beside raw ST_AsMVT of the same tile."""
    from bench.harness import Row, measure
    from gridmap import policy
    from gridmap.queries import tiles

    for role, user in _users().items():
        z, x, y, n = _densest_tile(14, user.profile.street_id if role == "street_admin" else None)
        anchor = f"raw ST_AsMVT of all {n} points (the {role}'s densest tile)"
        samples, peak = measure(lambda: _raw_points_tile(z, x, y), repeat=repeat)
        size = len(_raw_points_tile(z, x, y))
        results.rows.append(
            Row(
                TILE,
                anchor,
                "anchor",
                n,
                samples,
                peak,
                note=f"{size / 1000:.0f} kB; p95 {_p95(samples) * 1000:.1f} ms; tile {z}/{x}/{y}",
            )
        )
        scope = policy.households_for(user)
        for tx, ty in [(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]:
            tiles.households_tile(scope, z, tx, ty, points=True)  # warm the neighbourhood; the clock runs on
        samples, peak = measure(lambda: tiles.households_tile(scope, z, x, y, points=True), repeat=repeat)
        size = len(tiles.households_tile(scope, z, x, y, points=True))
        results.rows.append(
            Row(
                TILE,
                f"project: households_tile as {role}",
                "project",
                n,
                samples,
                peak,
                anchor=anchor,
                note=f"{size / 1000:.0f} kB; p95 {_p95(samples) * 1000:.1f} ms",
            )
        )


def size_rows(results) -> None:
    from bench.harness import Row
    from gridmap import policy
    from gridmap.queries import tiles

    user = _users()["system_admin"]
    worst = []
    for z in range(0, 19):
        _, x, y, n = _densest_tile(z)
        started = time.perf_counter()
        h = len(tiles.households_tile(policy.households_for(user), z, x, y, points=True))
        g = len(tiles.grids_tile(policy.grids_for(user), z, x, y))
        worst.append((z, n, h, g, time.perf_counter() - started))
    largest = max(max(h, g) for _, _, h, g, _ in worst)
    note = "; ".join(f"z{z}: {n} hh, {h / 1000:.0f}+{g / 1000:.0f} kB" for z, n, h, g, _ in worst)
    results.rows.append(
        Row(
            SIZES,
            "project: households + grids tiles",
            "info",
            len(worst),
            [t for *_, t in worst],
            note=f"max {largest / 1000:.0f} kB ≤ 500 kB? {largest <= 500_000}. {note}",
        )
    )


def _serve(port: int) -> subprocess.Popen:
    env = {**os.environ, "DB_CONN_MAX_AGE": "600"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "gridmap.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _wrk(url: str, cookie: str, seconds: int = 10) -> tuple[float, str]:
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, f"p99 {p99.group(1) if p99 else '?'}; non-2xx {non2xx.group(1) if non2xx else 0}"


def layer_rows(results) -> None:
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from bench.harness import Row
    from gridmap import policy
    from gridmap.models import Grid
    from gridmap.queries import layers

    user = _users()["street_admin"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_id FROM gridmap_household WHERE grid_id IS NOT NULL GROUP BY grid_id"
            " ORDER BY abs(count(*) - 500), grid_id LIMIT 1"
        )
        grid = Grid.objects.get(pk=cursor.fetchone()[0])
    grid = policy.grids_for(user).filter(pk=grid.pk).first() or policy.grids_for(user).first()
    bbox = grid.boundary.extent
    n = layers.households_layer(policy.households_for(user), bbox).count('"Feature"')
    started, count = time.perf_counter(), 0
    while time.perf_counter() - started < 5:
        layers.households_layer(policy.households_for(user), bbox)
        count += 1
    anchor = "layer SQL alone, sequential, one connection"
    results.rows.append(Row(LAYER, anchor, "anchor", n, [5 / count], note=f"{count / 5:.0f} req/s"))
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
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/api/layers/households.geojson?bbox={','.join(str(v) for v in bbox)}"
        rps, note = _wrk(url, cookie)
        results.rows.append(
            Row(
                LAYER,
                "project: /api/layers/households.geojson?bbox=grid",
                "project",
                n,
                [1 / rps],
                anchor=anchor,
                note=f"{rps:.0f} req/s; {note}",
            )
        )
        c = grid.boundary.centroid
        zx = int((c.x + 180) / 360 * 2**16)
        zy = int((1 - math.asinh(math.tan(math.radians(c.y))) / math.pi) / 2 * 2**16)
        rps, note = _wrk(f"{base}/api/tiles/households/16/{zx}/{zy}.mvt", cookie)
        results.rows.append(
            Row(
                LAYER,
                "project: households tile z16 at the grid's centre",
                "project",
                n,
                [1 / rps],
                anchor=anchor,
                note=f"{rps:.0f} req/s; {note}",
            )
        )
    finally:
        server.terminate()
        server.wait(10)


def run(results, repeat: int = 20) -> None:
    tile_rows(results, repeat)
    size_rows(results)
    layer_rows(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from bench.database import describe_machine, prepare_city

    # the proportions of `python -m bench` (1M: 5,000 grids, 2,000 stations)
    prepare_city(args.households, grids=args.households // 200, stations=args.households // 500)
    from bench.harness import Results

    results = Results(f"open_api_{args.households}", describe_machine(), {"households": args.households})
    run(results, repeat=args.repeat)
    for row in results.rows:
        print(f"{row.workload} | {row.approach} | items {row.items} | median {row.median * 1000:.1f} ms | {row.note}")


if __name__ == "__main__":
    main()
