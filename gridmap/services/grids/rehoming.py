"""Keep every household's grid and community in step with its location, set-based."""

from __future__ import annotations

from contextlib import nullcontext

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction

from geodata.homes import Areas
from gridmap.models.areas import GridStatus
from gridmap.rules.sql import literal
from gridmap.storage import bulk

PUBLISHED = literal(GridStatus.PUBLISHED)


def homes_sql(points: str, scope: str = "TRUE", *, from_polygons: bool = False) -> str:
    """SQL selecting ``(id, location, grid_id, community_id)`` for the rows of ``points`` matching ``scope``.

    The one rule for a household's home, shared by re-homing and imports: ST_Covers counts a point on
    a shared edge as inside both neighbours, so ordering by code makes the lowest code win, as
    docs/domain.md defines; only published grids own households; a point in no grid (or no community) gets
    NULL. ``points`` is a table with columns ``id`` and ``location`` (a 4326 point); ``scope`` is a
    condition on its alias ``p`` (pass its parameters once per occurrence of ``p`` in scope: once,
    or three times with ``from_polygons``).

    Two plans for the same rule. Point by point (the default) suits a few thousand households: one
    probe of the small grid and community indexes per point. For a whole table pass
    ``from_polygons=True`` (``points`` then needs a GiST index on ``location``): each polygon probes the
    points' index once and ST_Covers reuses the polygon it has just prepared, where a probe per point
    scans a GiST leaf of ~200 polygon boxes (~25 µs a point: 25 s for a million households; this way
    takes 2-3 s, docs/performance.md). LATERAL ... OFFSET 0 pins that join order, which the planner's
    estimates for spatial joins get wrong at this size.

    The bulk import applies the same rule to points it holds in memory, before they are stored
    (:func:`home_areas` and geodata/homes.py; tests/test_homes_rule.py checks both agree).
    """
    if not from_polygons:
        return f"""
SELECT p.id, p.location,
       (SELECT g.id FROM gridmap_grid g WHERE g.status = {PUBLISHED} AND ST_Covers(g.boundary, p.location)
         ORDER BY g.code LIMIT 1) AS grid_id,
       (SELECT c.id FROM gridmap_community c WHERE ST_Covers(c.boundary, p.location)
         ORDER BY c.code LIMIT 1) AS community_id
  FROM {points} p
 WHERE ({scope})"""
    return f"""
SELECT p.id, p.location, gh.grid_id, ch.community_id
  FROM {points} p
  LEFT JOIN (SELECT DISTINCT ON (x.id) x.id, g.id AS grid_id
               FROM gridmap_grid g
              CROSS JOIN LATERAL (SELECT p.id FROM {points} p
                                   WHERE ST_Covers(g.boundary, p.location) AND ({scope}) OFFSET 0) x
              WHERE g.status = {PUBLISHED}
              ORDER BY x.id, g.code) gh ON gh.id = p.id
  LEFT JOIN (SELECT DISTINCT ON (x.id) x.id, c.id AS community_id
               FROM gridmap_community c
              CROSS JOIN LATERAL (SELECT p.id FROM {points} p
                                   WHERE ST_Covers(c.boundary, p.location) AND ({scope}) OFFSET 0) x
              ORDER BY x.id, c.code) ch ON ch.id = p.id
 WHERE ({scope})"""


def home_areas(cursor) -> tuple[Areas, Areas]:
    """The published grids and the communities, for the same rule as :func:`homes_sql` on points in
    memory (geodata.homes: a bulk import places a million converted points before storing them)."""
    cursor.execute(f"SELECT id, code, ST_AsBinary(boundary) FROM gridmap_grid WHERE status = {PUBLISHED}")
    grids = Areas.from_wkb(cursor.fetchall())
    cursor.execute("SELECT id, code, ST_AsBinary(boundary) FROM gridmap_community")
    return grids, Areas.from_wkb(cursor.fetchall())


# Why raw SQL: one statement re-homes every household in scope (see homes_sql for the rule). The WHERE
# on IS DISTINCT FROM keeps untouched rows out of the UPDATE (an UPDATE costs 10-20x the lookup).
# MATERIALIZED: the few homes are computed first and the UPDATE then finds each row by its key; inlined,
# the planner hash-joins them against a scan of the whole table (300 ms instead of 25 ms at 1M).
_REHOME_SQL = """
WITH t AS MATERIALIZED ({homes})
UPDATE gridmap_household h
   SET grid_id = t.grid_id, community_id = t.community_id
  FROM t
 WHERE h.id = t.id
   AND (h.grid_id IS DISTINCT FROM t.grid_id OR h.community_id IS DISTINCT FROM t.community_id)
"""


# Whole-table re-homing goes through a temporary table of the rows that change: when that is most of
# the table (every household after a bulk load), the UPDATE runs with the plain indexes and the keys
# set aside and rebuilt once (storage/bulk.py): at 1M households, index upkeep and a deferred key
# check per row cost several times the lookup and the write themselves (docs/performance.md).
_CHANGES_SQL = """
CREATE TEMP TABLE rehome_changes ON COMMIT DROP AS
SELECT t.id, t.grid_id, t.community_id
  FROM ({homes}) t JOIN gridmap_household h ON h.id = t.id
 WHERE h.grid_id IS DISTINCT FROM t.grid_id OR h.community_id IS DISTINCT FROM t.community_id
"""
_APPLY_SQL = """
UPDATE gridmap_household h SET grid_id = c.grid_id, community_id = c.community_id
  FROM rehome_changes c WHERE h.id = c.id;
DROP TABLE rehome_changes
"""


def _rehome_everything() -> int:
    with connection.cursor() as cursor:
        cursor.execute(_CHANGES_SQL.format(homes=homes_sql("gridmap_household", from_polygons=True)))
        changed = cursor.rowcount
        large = bulk.worthwhile("gridmap_household", changed)
        with bulk.indexes_built_after("gridmap_household") if large else nullcontext():
            cursor.execute(_APPLY_SQL)
    return changed


@transaction.atomic
def rehome_households(
    *, area: GEOSGeometry | None = None, grid_ids: list[int] | None = None, household_ids: list[int] | None = None
) -> int:
    """Recompute ``grid`` and ``community`` for the households in scope; return how many changed.

    With no argument every household is checked (after a bulk load). After a boundary edit pass the
    changed ``area`` (old ∪ new boundary) and the edited ``grid_ids``: only households near the
    changed edge are read, so an edit costs milliseconds even in a city of a million households.
    """
    if area is None and grid_ids is None and household_ids is None:
        return _rehome_everything()
    clauses, params = [], []
    if area is not None:
        clauses.append("ST_Intersects(p.location, ST_GeomFromEWKB(%s))")
        params.append(memoryview(area.ewkb))
    if grid_ids:
        clauses.append("p.grid_id = ANY(%s)")
        params.append(list(grid_ids))
    if household_ids:
        clauses.append("p.id = ANY(%s)")
        params.append(list(household_ids))
    if not clauses:  # empty lists: nothing in scope
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_REHOME_SQL.format(homes=homes_sql("gridmap_household", " OR ".join(clauses))), params)
        return cursor.rowcount
