"""Assigning households to grids: every household after a bulk load (from NULL), and the few near one
moved edge after a boundary edit. Writes happen in a transaction that is rolled back after the clock
stops; the deferred foreign-key checks a COMMIT would run are forced inside the timed part
(SET CONSTRAINTS ALL IMMEDIATE), so the rows cost what a committed run costs except the final WAL
flush. A VACUUM after each rolled-back run keeps later runs from wading through dead rows."""

from __future__ import annotations

import geopandas as gpd
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction

from bench.harness import Results, Row, measure

# Anchor: the textbook statement. Grid and community straight from the covering grid (no separate
# community lookup; on a shared edge PostgreSQL keeps whichever match it meets, where the project
# keeps the lowest code). The planner drives it from the grids, as the project's plan does.
ASSIGN_SQL = """
UPDATE gridmap_household h SET grid_id = g.id, community_id = g.community_id
  FROM gridmap_grid g
 WHERE g.status = 'published' AND ST_Covers(g.boundary, h.location)
"""
# Anchor (lookup only): the same join as a SELECT, to show what the UPDATE itself costs.
LOOKUP_SQL = """
SELECT count(*) FROM gridmap_grid g
 CROSS JOIN LATERAL (SELECT h.id FROM gridmap_household h WHERE ST_Covers(g.boundary, h.location) OFFSET 0) x
 WHERE g.status = 'published'
"""
# Anchor: incremental re-homing by hand: the households under the changed area or in the edited
# grids get the lowest-code published grid and the lowest-code community covering them; only rows
# whose values change are written. The CTE is materialised so that the UPDATE finds the few rows by
# key (inlined, PostgreSQL hash-joins them against a scan of the whole table).
EDIT_SQL = """
WITH n AS MATERIALIZED (
    SELECT h2.id,
           (SELECT g.id FROM gridmap_grid g WHERE g.status = 'published' AND ST_Covers(g.boundary, h2.location)
             ORDER BY g.code LIMIT 1) AS grid_id,
           (SELECT c.id FROM gridmap_community c WHERE ST_Covers(c.boundary, h2.location)
             ORDER BY c.code LIMIT 1) AS community_id
      FROM gridmap_household h2
     WHERE ST_Intersects(h2.location, ST_GeomFromEWKB(%s)) OR h2.grid_id = ANY(%s))
UPDATE gridmap_household h SET grid_id = n.grid_id, community_id = n.community_id
  FROM n
 WHERE h.id = n.id AND (h.grid_id IS DISTINCT FROM n.grid_id OR h.community_id IS DISTINCT FROM n.community_id)
"""
# Two neighbours in one community with the longest shared edge; the edit moves that edge ~30 m into
# the second grid (a strip of it goes to the first).
_PAIR_SQL = """
SELECT a.id, b.id FROM gridmap_grid a
  JOIN gridmap_grid b ON b.community_id = a.community_id AND b.id > a.id AND ST_Touches(a.boundary, b.boundary)
 WHERE a.community_id = (SELECT min(community_id) FROM gridmap_grid)
 ORDER BY ST_Length(ST_Intersection(a.boundary, b.boundary)) DESC, a.id, b.id LIMIT 1
"""
_EDIT_SHAPES_SQL = """
WITH ab AS (SELECT a.boundary AS a, b.boundary AS b FROM gridmap_grid a, gridmap_grid b WHERE a.id = %s AND b.id = %s),
strip AS (SELECT ST_Intersection(b, ST_Buffer(ST_Intersection(a, b), 0.0003)) AS s FROM ab)
SELECT ST_AsEWKB(ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(a, s)), 3))),
       ST_AsEWKB(ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Difference(b, s)), 3))),
       ST_AsEWKB(ST_Union(a, b))
  FROM ab, strip
"""


class _RolledBack:
    """setup/teardown pair: open a transaction, and roll it back (then VACUUM if asked)."""

    def __init__(self, before=None, vacuum: bool = False):
        self.before, self.vacuum, self.atomic = before, vacuum, None

    def setup(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        if self.before:
            self.before()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        if self.vacuum:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM gridmap_household")


def _execute(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = cursor.rowcount
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return count


def run_edit(results: Results, *, repeat: int) -> None:
    from gridmap.services.grids.rehoming import rehome_households

    with connection.cursor() as cursor:
        cursor.execute(_PAIR_SQL)
        a, b = cursor.fetchone()
        cursor.execute(_EDIT_SHAPES_SQL, [a, b])
        new_a, new_b, area = (bytes(v) for v in cursor.fetchone())

    def move_edge():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE gridmap_grid SET boundary = ST_GeomFromEWKB(%s), version = version + 1 WHERE id = %s",
                [new_a, a],
            )
            cursor.execute(
                "UPDATE gridmap_grid SET boundary = ST_GeomFromEWKB(%s), version = version + 1 WHERE id = %s",
                [new_b, b],
            )

    area_geom = GEOSGeometry(memoryview(area))
    changed = {}

    def project():
        changed["n"] = rehome_households(area=area_geom, grid_ids=[a, b])
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM gridmap_household WHERE ST_Intersects(location, ST_GeomFromEWKB(%s)) "
            "OR grid_id = ANY(%s)",
            [area, [a, b]],
        )
        checked = cursor.fetchone()[0]
    work = "re-home after moving one shared grid edge"
    anchor = "anchor: raw incremental UPDATE (area ∪ edited grids)"
    tx = _RolledBack(before=move_edge)
    results.add(
        Row(
            work,
            anchor,
            "anchor",
            checked,
            *measure(lambda: _execute(EDIT_SQL, [area, [a, b]]), repeat=repeat, setup=tx.setup, teardown=tx.teardown),
            None,
            2,
        )
    )
    results.add(
        Row(
            work,
            "project: rehome_households(area=old ∪ new, grid_ids=[a, b])",
            "project",
            checked,
            *measure(project, repeat=repeat, setup=tx.setup, teardown=tx.teardown),
            anchor,
            2,
            note=f"{checked:,} households checked, {changed['n']:,} re-homed",
        )
    )


def run_assign_all(results: Results, city, *, households: int, repeat: int, naive_sample: int) -> None:
    from gridmap.services.grids.rehoming import rehome_households

    with connection.cursor() as cursor:  # the state after a bulk load without grids
        cursor.execute("UPDATE gridmap_household SET grid_id = NULL, community_id = NULL")
        cursor.execute("VACUUM ANALYZE gridmap_household")
    work = "assign every household to its grid"
    tx = _RolledBack(vacuum=True)
    anchor = "anchor: one raw UPDATE … FROM grid WHERE ST_Covers"
    results.add(
        Row(
            work,
            anchor,
            "anchor",
            households,
            *measure(lambda: _execute(ASSIGN_SQL), repeat=repeat, setup=tx.setup, teardown=tx.teardown),
            None,
            2,
            note="incl. the deferred foreign-key checks",
        )
    )

    def project():
        rehome_households()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    results.add(
        Row(
            work,
            "project: rehome_households()",
            "project",
            households,
            *measure(project, repeat=repeat, setup=tx.setup, teardown=tx.teardown),
            anchor,
            2,
            note="lowest code on shared edges, community by its own polygon",
        )
    )
    results.add(
        Row(
            work,
            "anchor: the same lookup as a SELECT (no UPDATE)",
            "anchor",
            households,
            *measure(lambda: _execute(LOOKUP_SQL), repeat=repeat),
            None,
            2,
            note="what finding the grids costs without writing",
        )
    )
    points = city.households[["hid", "geometry"]]
    grids = city.grids[["code", "geometry"]]
    results.add(
        Row(
            work,
            "anchor: geopandas.sjoin(within), in memory, incl. index build",
            "anchor",
            households,
            *measure(
                lambda: gpd.sjoin(points, gpd.GeoDataFrame(grids.copy()), predicate="within", how="left"), repeat=repeat
            ),
            None,
            None,
            note="no database: the points already in memory",
        )
    )
    sample = _naive_sample(naive_sample)
    results.add(
        Row(
            work,
            "naive: per household a Grid query, a Community query and .save()",
            "naive",
            households,
            *measure(lambda: _naive_assign(sample), repeat=repeat),
            anchor,
            2,
            note="autocommit, as a Django loop does",
            extrapolated={"sample": len(sample), "to": households},
        )
    )


def _naive_sample(n: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM gridmap_household ORDER BY id LIMIT %s", [n])
        return [row[0] for row in cursor.fetchall()]


def _naive_assign(ids: list[int]) -> None:
    from gridmap.models import Community, Grid, GridStatus, Household

    for household in Household.objects.filter(pk__in=ids):
        household.grid = (
            Grid.objects.filter(status=GridStatus.PUBLISHED, boundary__covers=household.location)
            .order_by("code")
            .first()
        )
        household.community = Community.objects.filter(boundary__covers=household.location).order_by("code").first()
        household.save(update_fields=["grid", "community"])
