"""Heat layer cells: households, uncovered households and vulnerable uncovered households per square cell.

Why SQL, and why cells: the browser must never receive individual households (planners may not see
resident rows at all, and a heat layer fed with points would hand out every home's location). So the
points are binned where they are stored: each household is projected to the UTM zone of the scope (a
metric projection, so a cell is CELL_M metres on a side on the ground, unlike Web Mercator), its cell is
floor(x / size), floor(y / size) — what ST_SnapToGrid does, kept as integers so the cells group cheaply —
and one GROUP BY counts. Only the cell centre (back in WGS84) and its counts leave the database.

"Uncovered" uses the same lattice test as ``queries.coverage`` (its ``COVERED`` fragment: geodesic
radius on the spheroid), and "vulnerable uncovered" the same definition (tagged, not central, not linked
to an active central household, no open help pair, outside every station radius), so the cells of a
scope add up to ``grid_coverage``'s totals exactly (tests/test_planner_dashboard.py checks it).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from gridmap.queries.coverage import CELL, COVERED, STATIONS

LAYERS = ("households", "uncovered", "vulnerable_uncovered")
CELL_M = 250

_HEAT_SQL = (
    """
WITH scope AS ({ids_sql}),"""
    + STATIONS
    + """,
hh AS MATERIALIZED (
    SELECT h.id, h.location, ST_X(h.location) AS x, ST_Y(h.location) AS y,
           h.vulnerable
      FROM gridmap_household h WHERE h.grid_id IN (SELECT id FROM scope)),
zone AS (SELECT 32600 + floor((avg(x) + 180) / 6)::int + 1 AS srid FROM hh),
covered AS MATERIALIZED (   -- in WHERE, so that PostgreSQL runs the lattice test as a hash semi-join
    SELECT h.id FROM hh h WHERE """
    + COVERED
    + """),
flagged AS MATERIALIZED (
    SELECT h.*, c.id IS NULL AS uncovered FROM hh h LEFT JOIN covered c ON c.id = h.id),
bins AS (
    SELECT floor(ST_X(m) / %(size)s)::int8 AS i, floor(ST_Y(m) / %(size)s)::int8 AS j,
           count(*) AS households, count(*) FILTER (WHERE uncovered) AS uncovered,
           count(*) FILTER (WHERE uncovered AND vulnerable
               AND gridmap_without_support(f.id))
               AS vulnerable_uncovered
      FROM flagged f, zone, ST_Transform(f.location, zone.srid) AS m
     GROUP BY 1, 2)
SELECT ST_Y(centre), ST_X(centre), households, uncovered, vulnerable_uncovered
  FROM bins, zone,
       ST_Transform(ST_SetSRID(ST_MakePoint((i + 0.5) * %(size)s, (j + 0.5) * %(size)s), zone.srid), 4326) AS centre
 ORDER BY i, j
"""
)


def heat_cells(grids: QuerySet, cell_m: int = CELL_M) -> list[dict]:
    """One dict per non-empty cell of the households of ``grids``: lat, lon (cell centre) and the counts."""
    ids_sql, ids_params = grids.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        # The scope's own %s placeholders come first; the rest are named, so mogrify the scope in.
        scope = cursor.cursor.mogrify(ids_sql, ids_params).decode()
        sql = _HEAT_SQL.format(ids_sql=scope.replace("%", "%%"), cell=CELL, near="")
        cursor.execute(sql, {"size": float(cell_m)})
        rows = cursor.fetchall()
    return [
        {"lat": lat, "lon": lon, "households": n, "uncovered": u, "vulnerable_uncovered": v}
        for lat, lon, n, u, v in rows
    ]
