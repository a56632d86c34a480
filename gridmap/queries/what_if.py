"""What-if stations: which households a moved or added station would newly cover (or leave), per grid and cell.

Why SQL, and why only a delta: a station changes coverage only inside its old and its new radius, so the
statement first finds those households (a GiST box probe on the household index around each changed
station, then the radius test), and decides "covered before" and "covered after" for them alone; the
unchanged stations near them (queries.coverage's lattice test) are asked only where old and new radius disagree.
Everything else keeps its coverage, so the answer is
the delta to add to ``queries.coverage.grid_coverage``: a few thousand households instead of a million.
The coverage rule is docs/domain.md's, as in ``queries.coverage``: an active station covers a household when
the geodesic distance on the WGS84 spheroid is at most its radius (``_ST_DWithin`` on geography, radius
included). "Needy" is the vulnerable-uncovered definition minus the station test: tagged, not central,
not linked to an active central household, no open help pair.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from gridmap.queries.coverage import CELL, COVERED, LATTICE

# Degrees a radius spans: metres per degree of latitude is at least 110,574; of longitude at least
# 111,320 cos(lat). 2 % extra covers the latitude change across the box; the exact test follows.
_BOX = "ST_Expand({p}, {r} / (111320 * cos(radians(ST_Y({p})))) * 1.02 + 1e-6, {r} / 110574 * 1.02 + 1e-6)"
# Within a station's radius, as queries.coverage decides it: planar metres (metres per degree at the
# station's latitude) settle the clear cases, the geodesic _ST_DWithin the pairs within eps of the radius.
_WITHIN = """(((h.x - {s}.x) * {s}.mx) ^ 2 + ((h.y - {s}.y) * {s}.my) ^ 2 <= ({s}.r * (1 - {s}.eps)) ^ 2
      OR (((h.x - {s}.x) * {s}.mx) ^ 2 + ((h.y - {s}.y) * {s}.my) ^ 2 <= ({s}.r * (1 + {s}.eps)) ^ 2
          AND _ST_DWithin({s}.location::geography, h.location::geography, {s}.r)))"""
_METRIC = """ST_X(location) AS x, ST_Y(location) AS y,
           111412.84 * cos(radians(ST_Y(location))) - 93.5 * cos(3 * radians(ST_Y(location))) AS mx,
           111132.954 - 559.822 * cos(2 * radians(ST_Y(location))) AS my"""

# A household's coverage changes only if it lies in an old radius (of a moved station) or a new one, and
# then only if the two differ: covered before = in_old OR other, after = in_new OR other, where "other"
# is any unchanged active station. So "other" is asked only where in_old <> in_new, a fraction of the
# affected households, and only of the unchanged stations near the changed ones, spread over
# queries.coverage's lattice (its COVERED test: a hash semi-join, planar metres, geodesic at the edge).
_WHAT_IF_SQL = (
    """
WITH scope AS ({ids_sql}),
changes AS (SELECT * FROM unnest(%(ids)s::int[], %(lons)s::float8[], %(lats)s::float8[], %(radii)s::float8[])
                           AS t(station_id, lon, lat, r)),
placed AS MATERIALIZED (
    SELECT location, r, 0.005 + r / 200000.0 AS eps, """
    + _METRIC
    + """
      FROM (SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS location, r FROM changes) c),
moved AS MATERIALIZED (
    SELECT id, location, radius_m::float8 AS r, 0.005 + radius_m / 200000.0 AS eps, """
    + _METRIC
    + """
      FROM gridmap_servicestation
     WHERE active AND id IN (SELECT station_id FROM changes WHERE station_id IS NOT NULL)),
reach AS MATERIALIZED (SELECT coalesce(max(radius_m), 0)::float8 AS r FROM gridmap_servicestation WHERE active),
touched AS (SELECT true AS new, location, r, eps, x, y, mx, my FROM placed
            UNION ALL SELECT false, location, r, eps, x, y, mx, my FROM moved),
hits AS (   -- (household, changed station) pairs from the household GiST index, radius tested at once
    SELECT h.id, h.grid_id, h.x, h.y, h.vulnerable, t.new, """
    + _WITHIN.format(s="t")
    + """ AS inside
      FROM touched t
      CROSS JOIN LATERAL (
          SELECT id, grid_id, location, ST_X(location) AS x, ST_Y(location) AS y,
                 vulnerable
            FROM gridmap_household
           WHERE location && """
    + _BOX.format(p="t.location", r="t.r")
    + """
             AND grid_id IN (SELECT id FROM scope)) h),
sides AS MATERIALIZED (   -- one row per household (a hash aggregate, no sort)
    SELECT id, min(grid_id) AS grid_id, min(x) AS x, min(y) AS y, bool_or(vulnerable) AS vulnerable,
           bool_or(inside AND NOT new) AS in_old, bool_or(inside AND new) AS in_new
      FROM hits GROUP BY id),
near AS MATERIALIZED (     -- the unchanged stations that can reach a candidate: a handful, through GiST
    SELECT DISTINCT ON (s.id) s.location, s.radius_m::float8 AS r, 0.005 + s.radius_m / 200000.0 AS eps,
           """
    + _METRIC.replace("location", "s.location")
    + """
      FROM touched t, reach, gridmap_servicestation s
     WHERE s.active AND s.id NOT IN (SELECT id FROM moved)
       AND s.location && """
    + _BOX.format(p="t.location", r="(t.r + reach.r)")
    + """),
"""
    + LATTICE.replace("{source}", "near")
    + """,
changed AS MATERIALIZED (   -- in WHERE, so that PostgreSQL runs the lattice test as a hash anti-join
    SELECT h.* FROM (SELECT s.*, ST_SetSRID(ST_MakePoint(s.x, s.y), 4326) AS location
                       FROM sides s WHERE in_old <> in_new) h
     WHERE NOT """
    + COVERED
    + """),
flags AS (
    SELECT c.*, in_new AS gained,
           c.vulnerable
               AND gridmap_without_support(c.id)
               AS needy
      FROM changed c)
SELECT grid_id, floor(x / {cell})::int8 AS i, floor(y / {cell})::int8 AS j,
       count(*) FILTER (WHERE gained) AS gained,
       count(*) FILTER (WHERE NOT gained) AS lost,
       count(*) FILTER (WHERE gained AND needy) AS needy_gained,
       count(*) FILTER (WHERE NOT gained AND needy) AS needy_lost
  FROM flags
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3
"""
)


@dataclass(frozen=True)
class StationChange:
    """A station at a new place or with a new radius (``station_id`` set: an existing station moved), or a
    new one (``station_id`` None)."""

    station_id: int | None
    lon: float
    lat: float
    radius_m: float


def coverage_delta(grids: QuerySet, changes: list[StationChange]) -> list[dict]:
    """Households of ``grids`` whose station coverage the changes would alter, per (grid, lattice cell).

    One dict per non-empty (grid, cell): ``grid_id``, ``lon``/``lat`` (the cell centre; cells are CELL
    degrees, the lattice of ``queries.coverage``), ``gained`` (newly covered), ``lost`` (no longer
    covered: a station moved away), ``needy_gained``/``needy_lost`` (the same for households that count
    as vulnerable uncovered when outside every radius: the change of ``vulnerable_uncovered`` is
    ``needy_lost - needy_gained``).
    """
    if not changes:
        return []
    ids_sql, ids_params = grids.order_by().values("id").query.sql_with_params()
    params = {
        "ids": [c.station_id for c in changes],
        "lons": [float(c.lon) for c in changes],
        "lats": [float(c.lat) for c in changes],
        "radii": [float(c.radius_m) for c in changes],
    }
    with connection.cursor() as cursor:
        scope = cursor.cursor.mogrify(ids_sql, ids_params).decode()  # the rest of the parameters are named
        cursor.execute(_WHAT_IF_SQL.format(ids_sql=scope.replace("%", "%%"), cell=CELL), params)
        rows = cursor.fetchall()
    return [
        {
            "grid_id": grid_id,
            "lon": (i + 0.5) * CELL,
            "lat": (j + 0.5) * CELL,
            "gained": gained,
            "lost": lost,
            "needy_gained": needy_gained,
            "needy_lost": needy_lost,
        }
        for grid_id, i, j, gained, lost, needy_gained, needy_lost in rows
    ]
