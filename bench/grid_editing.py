"""Grid editing workloads (issue #4): publishing one boundary edit, and the topology report of a city.

``run(results)`` expects Django set up on a loaded bench database (as the bench harness does). Run alone:
``DATABASE_URL=postgis://…/gridmap_x .venv/bin/python -m bench.grid_editing --households 1000000`` builds
``gridmap_x_bench`` (dropped and recreated), loads a synthetic city and prints the rows. ``python -m bench``
runs it too (bench/__main__.py lists it in EXTRA).

Publish workload: the grid nearest 500 households gives a 20 m strip along its longest shared edge to
that neighbour. Timed: both draft saves through the validator, the publish (topology check of the
community, version rows, set-based re-homing of the strip), in one transaction rolled back afterwards.
Anchor: the same two boundary UPDATEs and the re-homing UPDATE as bare SQL, no validation.
"""

from __future__ import annotations

import argparse
import json

PUBLISH = "publish one grid boundary edit (validation + re-homing)"
REPORT = "topology report of every community and street"


def _pick_edit():
    """(user, grid, neighbour, new grid shape, new neighbour shape) for the publish workload."""
    import shapely
    from django.contrib.auth import get_user_model
    from django.db import connection

    from gridmap.models import Grid, Profile, Role
    from gridmap.queries.grid_topology import longest_shared_edge
    from gridmap.services.grids.shapes import to_geos

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_id FROM gridmap_household WHERE grid_id IS NOT NULL GROUP BY grid_id"
            " ORDER BY abs(count(*) - 500), grid_id LIMIT 1"
        )
        grid = Grid.objects.select_related("community__street").get(pk=cursor.fetchone()[0])
    siblings = [
        (g.pk, g.code, shapely.from_wkb(bytes(g.boundary.wkb)))
        for g in Grid.objects.filter(community=grid.community, status="published").exclude(pk=grid.pk)
    ]
    mine = shapely.from_wkb(bytes(grid.boundary.wkb))
    neighbour_id = longest_shared_edge(mine, siblings)
    other = dict((pk, g) for pk, _, g in siblings)[neighbour_id]
    edge = mine.boundary.intersection(other.boundary)
    strip = other.intersection(edge.buffer(20 / 111_320))  # ~20 m deep into the neighbour
    user, _ = get_user_model().objects.get_or_create(username="bench_street_admin")
    Profile.objects.update_or_create(user=user, defaults={"role": Role.STREET_ADMIN, "street": grid.community.street})
    return (
        user,
        grid,
        Grid.objects.get(pk=neighbour_id),
        json.loads(shapely.to_geojson(mine.union(strip))),
        json.loads(shapely.to_geojson(other.difference(strip))),
        to_geos(strip),
    )


def _publish_once(user, grid, neighbour, mine, other) -> None:
    from gridmap.services.grids.editing import save_grid_boundary
    from gridmap.services.grids.publishing import publish_community

    save_grid_boundary(user, neighbour.pk, other, neighbour.version)  # give up the strip first,
    save_grid_boundary(user, grid.pk, mine, grid.version)  # then take it: never an overlap
    # The override only matters if the synthetic community is not clean; the check runs either way.
    result = publish_community(user, grid.community_id, reason="bench", override_reason="bench")
    assert result["published"] == 2, result


def _anchor_once(grid, neighbour, mine, other, strip) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gridmap_grid SET boundary = ST_Multi(ST_GeomFromGeoJSON(%s)) WHERE id = %s",
            [json.dumps(mine), grid.pk],
        )
        cursor.execute(
            "UPDATE gridmap_grid SET boundary = ST_Multi(ST_GeomFromGeoJSON(%s)) WHERE id = %s",
            [json.dumps(other), neighbour.pk],
        )
        cursor.execute(
            """
            UPDATE gridmap_household h SET grid_id = %s
             WHERE ST_Intersects(h.location, ST_GeomFromEWKB(%s)) AND h.grid_id IS DISTINCT FROM %s""",
            [grid.pk, memoryview(strip.ewkb), grid.pk],
        )


def _rolled_back(fn):
    """Run ``fn`` inside a transaction that is always rolled back, so every sample edits the same city."""
    from django.db import transaction

    def run():
        try:
            with transaction.atomic():
                fn()
                raise _Rollback
        except _Rollback:
            pass

    return run


class _Rollback(Exception):
    pass


def run(results, *, repeat: int = 7) -> None:
    from bench.harness import Row, measure
    from gridmap.models import Community, Household, Street
    from gridmap.queries.grid_topology import street_report

    user, grid, neighbour, mine, other, strip = _pick_edit()
    households = Household.objects.filter(grid=grid).count()
    anchor = "raw SQL: 2 boundary UPDATEs + 1 re-homing UPDATE, no validation"
    samples, peak = measure(_rolled_back(lambda: _anchor_once(grid, neighbour, mine, other, strip)), repeat=repeat)
    results.add(Row(PUBLISH, anchor, "anchor", households, samples, peak))
    samples, peak = measure(_rolled_back(lambda: _publish_once(user, grid, neighbour, mine, other)), repeat=repeat)
    results.add(
        Row(
            PUBLISH,
            "project: save_grid_boundary ×2 + publish_community",
            "project",
            households,
            samples,
            peak,
            anchor=anchor,
            note=f"grid {grid.code}: {households} households",
        )
    )

    streets = list(Street.objects.all())
    grids = grid.__class__.objects.count()

    def report():
        for street in streets:
            street_report(street, Community.objects.all())

    samples, peak = measure(report, repeat=max(1, repeat // 3))
    results.add(
        Row(
            REPORT,
            "project: street_report() for every street",
            "project",
            grids,
            samples,
            peak,
            note=f"{grids} grids, {len(streets)} streets",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--grids", type=int, default=None, help="default: households / 200 (as bench SIZES)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from bench.database import describe_machine, prepare

    prepare()
    from geodata.synth import build_city
    from gridmap.services.layers.city_loader import load_city

    load_city(
        build_city(
            args.households, n_grids=args.grids or args.households // 200, n_stations=max(3, args.households // 500)
        )
    )
    from bench.harness import Results

    results = Results(f"grid_editing_{args.households}", describe_machine(), {"households": args.households})
    run(results, repeat=args.repeat)
    for row in results.rows:
        print(
            f"{row.workload} | {row.approach} | items {row.items} | median {row.median * 1000:.1f} ms | "
            f"samples {[round(s * 1000, 1) for s in row.samples]} | {row.note}"
        )


if __name__ == "__main__":
    main()
