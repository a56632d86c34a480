"""Keep every household's grid and community in step with its location, set-based."""
from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction

# Why raw SQL: one statement re-homes every household in scope. ST_Covers counts a point on a shared
# edge as inside both neighbours, so "ORDER BY code LIMIT 1" makes the lowest code win, as DOMAIN.md
# defines. Only published grids own households; drafts and retired grids never do. The WHERE on
# IS DISTINCT FROM keeps untouched rows out of the UPDATE (an UPDATE costs 10-20x the lookup).
_REHOME_SQL = """
WITH target AS (
    SELECT h.id,
           (SELECT g.id FROM gridmap_grid g
             WHERE g.status = 'published' AND ST_Covers(g.boundary, h.location)
             ORDER BY g.code LIMIT 1) AS grid_id,
           (SELECT c.id FROM gridmap_community c
             WHERE ST_Covers(c.boundary, h.location)
             ORDER BY c.code LIMIT 1) AS community_id
      FROM gridmap_household h
     WHERE {scope}
)
UPDATE gridmap_household h
   SET grid_id = t.grid_id, community_id = t.community_id
  FROM target t
 WHERE h.id = t.id
   AND (h.grid_id IS DISTINCT FROM t.grid_id OR h.community_id IS DISTINCT FROM t.community_id)
RETURNING h.id
"""


@transaction.atomic
def rehome_households(*, area: GEOSGeometry | None = None, grid_ids: list[int] | None = None,
                      household_ids: list[int] | None = None) -> int:
    """Recompute ``grid`` and ``community`` for the households in scope; return how many changed.

    With no argument every household is checked (after a bulk load). After a boundary edit pass the
    changed ``area`` (old ∪ new boundary) and the edited ``grid_ids``: only households near the
    changed edge are read, so an edit costs milliseconds even in a city of a million households.
    """
    clauses, params = [], []
    if area is not None:
        clauses.append("ST_Intersects(h.location, ST_GeomFromEWKB(%s))")
        params.append(memoryview(area.ewkb))
    if grid_ids:
        clauses.append("h.grid_id = ANY(%s)")
        params.append(list(grid_ids))
    if household_ids:
        clauses.append("h.id = ANY(%s)")
        params.append(list(household_ids))
    if area is None and grid_ids is None and household_ids is None:
        clauses.append("TRUE")
    if not clauses:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_REHOME_SQL.format(scope=" OR ".join(clauses)), params)
        return cursor.rowcount
